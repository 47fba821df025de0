/*
 * bench/archive: an LD_PRELOAD shim that turns fsync and fdatasync into no-ops, used only while
 * bench/archive.ts builds its cached 100,000-instance archive through Tracer's own Archive API
 * (the same ingest path as a C-STORE: temporary file, rename, index transaction). Without it the
 * one-time build would spend most of its time in two fsyncs per instance; the builder runs
 * `sync` once at the end instead. Never used for anything that is timed.
 *
 *   cc -O2 -shared -fPIC -o no-fsync.so no-fsync.c
 *   LD_PRELOAD=./no-fsync.so node dist/bench/archive.js --build-archive ...
 */
int fsync(int fd) {
  (void)fd;
  return 0;
}

int fdatasync(int fd) {
  (void)fd;
  return 0;
}
