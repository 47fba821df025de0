/*
 * bench/store: an LD_PRELOAD shim that gives DCMTK's storescp the durability Tracer's Storage
 * SCP has (storescp has no option for it and never calls fsync): when a regular file open for
 * writing is closed (fclose or close), the file is fsynced, then its directory. storescp closes
 * each received file before it sends the C-STORE response, so with the shim a success status
 * means "on stable storage", as with `tracer serve`. Built by bench/store.ts with `cc`.
 *
 *   cc -O2 -shared -fPIC -o fsync-on-close.so fsync-on-close.c -ldl
 *   LD_PRELOAD=./fsync-on-close.so storescp ...
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static void sync_fd(int fd) {
  struct stat st;
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || (fl & O_ACCMODE) == O_RDONLY || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return;
  fsync(fd);
  char link[64], path[PATH_MAX];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, path, sizeof path - 1);
  if (n <= 0) return;
  path[n] = 0;
  int d = open(dirname(path), O_RDONLY | O_DIRECTORY);
  if (d >= 0) {
    fsync(d);
    close(d);
  }
}

int fclose(FILE *f) {
  static int (*real)(FILE *);
  if (!real) real = (int (*)(FILE *))dlsym(RTLD_NEXT, "fclose");
  if (f) {
    fflush(f);
    sync_fd(fileno(f));
  }
  return real(f);
}

int close(int fd) {
  static int (*real)(int);
  if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "close");
  sync_fd(fd);
  return real(fd);
}
