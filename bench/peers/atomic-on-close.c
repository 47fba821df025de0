/*
 * bench/store: an LD_PRELOAD shim that gives DCMTK's storescp the file path the networking issue
 * asks of Tracer's Storage SCP, so that the two can be compared doing the same work:
 *
 *   - each file storescp creates under ATOMIC_DIR is written to ATOMIC_DIR/.incoming/ instead,
 *     and renamed into place when storescp closes it (a file appears whole or not at all);
 *   - with ATOMIC_FSYNC=1, in Tracer's order: the file is fsynced before the rename, and its
 *     directory after it, so that storescp's success status then means "on stable storage".
 *
 * storescp opens each received file with fopen() and closes it with fclose() before it sends the
 * C-STORE response, so the response waits for all of the above. Built by bench/store.ts with `cc`.
 *
 *   cc -O2 -shared -fPIC -o atomic-on-close.so atomic-on-close.c -ldl
 *   ATOMIC_DIR=/out ATOMIC_FSYNC=1 LD_PRELOAD=./atomic-on-close.so storescp ... -od /out ...
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FD 1024

/* The final and temporary names of the files open for writing, by descriptor. */
static FILE *open_files[MAX_FD];
static char finals[MAX_FD][PATH_MAX];
static char temps[MAX_FD][PATH_MAX];

static const char *atomic_dir(void) {
  static const char *d;
  if (!d) d = getenv("ATOMIC_DIR");
  return d;
}

static int fsync_wanted(void) {
  static int v = -1;
  if (v < 0) {
    const char *s = getenv("ATOMIC_FSYNC");
    v = s && strcmp(s, "1") == 0;
  }
  return v;
}

static void fsync_path(const char *dir) {
  int d = open(dir, O_RDONLY | O_DIRECTORY);
  if (d >= 0) {
    fsync(d);
    close(d);
  }
}

static FILE *open_atomic(FILE *(*real)(const char *, const char *), const char *path, const char *mode) {
  const char *d = atomic_dir();
  size_t n = d ? strlen(d) : 0;
  const char *base = strrchr(path, '/');
  if (!d || !strchr(mode, 'w') || strncmp(path, d, n) != 0 || path[n] != '/' || !base) return real(path, mode);
  char incoming[PATH_MAX], tmp[PATH_MAX];
  snprintf(incoming, sizeof incoming, "%s/.incoming", d);
  mkdir(incoming, 0755); /* once; EEXIST afterwards */
  snprintf(tmp, sizeof tmp, "%s%s", incoming, base);
  FILE *f = real(tmp, mode);
  int fd = f ? fileno(f) : -1;
  if (fd >= 0 && fd < MAX_FD) {
    open_files[fd] = f;
    snprintf(finals[fd], PATH_MAX, "%s", path);
    snprintf(temps[fd], PATH_MAX, "%s", tmp);
  }
  return f;
}

FILE *fopen(const char *path, const char *mode) {
  static FILE *(*real)(const char *, const char *);
  if (!real) real = (FILE * (*)(const char *, const char *)) dlsym(RTLD_NEXT, "fopen");
  return open_atomic(real, path, mode);
}

FILE *fopen64(const char *path, const char *mode) {
  static FILE *(*real)(const char *, const char *);
  if (!real) real = (FILE * (*)(const char *, const char *)) dlsym(RTLD_NEXT, "fopen64");
  return open_atomic(real, path, mode);
}

int fclose(FILE *f) {
  static int (*real)(FILE *);
  if (!real) real = (int (*)(FILE *))dlsym(RTLD_NEXT, "fclose");
  int fd = f ? fileno(f) : -1;
  if (fd < 0 || fd >= MAX_FD || open_files[fd] != f) return real(f);
  open_files[fd] = NULL;
  if (fsync_wanted()) {
    fflush(f);
    fsync(fd);
  }
  int rc = real(f);
  if (rename(temps[fd], finals[fd]) != 0) return EOF;
  if (fsync_wanted()) {
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", finals[fd]);
    *strrchr(dir, '/') = 0;
    fsync_path(dir);
  }
  return rc;
}
