/* A fault for the e2e tests, loaded with LD_PRELOAD: the source file named by ARSYNC_TEST_SHRINK (an
   absolute path) is truncated to ARSYNC_TEST_SHRINK_TO bytes (zero when unset) just before the first
   call that reads its data, so the size the file list and the open's fstat saw is gone by the time the
   data is read: "a source that shrinks mid-copy", made to happen every time (once: the redo that
   follows reads what is left). Hooked are the calls the engines read with (the sync engine's
   copy_file_range and pread, the node engine's libuv read/pread/preadv) and rsync's read(); the uring
   engine reads through the ring, which no library call sees (its case runs on faultfs). The target is
   recognised by the fd's /proc/self/fd link, as rsync's own source-change-size-continues shim does. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

static atomic_int done;

static void shrink_if_target(int fd) {
  const char *target = getenv("ARSYNC_TEST_SHRINK");
  if (!target || atomic_load(&done)) return;
  char link[64], actual[PATH_MAX];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, actual, sizeof actual - 1);
  if (n < 0) return;
  actual[n] = '\0';
  if (strcmp(actual, target) != 0) return;
  int expected = 0;
  const char *to = getenv("ARSYNC_TEST_SHRINK_TO");
  if (atomic_compare_exchange_strong(&done, &expected, 1)) (void)truncate(target, to ? atoll(to) : 0);
}

/* The next definition of `name` (libc's), looked up once: `real`, of the hooked function's type. */
#define REAL(name, ret, ...) \
  static ret (*real)(__VA_ARGS__); \
  if (!real) real = (ret(*)(__VA_ARGS__))dlsym(RTLD_NEXT, name)

ssize_t read(int fd, void *buf, size_t count) {
  REAL("read", ssize_t, int, void *, size_t);
  shrink_if_target(fd);
  return real(fd, buf, count);
}

ssize_t pread(int fd, void *buf, size_t count, off_t off) {
  REAL("pread", ssize_t, int, void *, size_t, off_t);
  shrink_if_target(fd);
  return real(fd, buf, count, off);
}

ssize_t pread64(int fd, void *buf, size_t count, off_t off) {
  REAL("pread64", ssize_t, int, void *, size_t, off_t);
  shrink_if_target(fd);
  return real(fd, buf, count, off);
}

ssize_t preadv(int fd, const struct iovec *iov, int cnt, off_t off) {
  REAL("preadv", ssize_t, int, const struct iovec *, int, off_t);
  shrink_if_target(fd);
  return real(fd, iov, cnt, off);
}

ssize_t preadv64(int fd, const struct iovec *iov, int cnt, off_t off) {
  REAL("preadv64", ssize_t, int, const struct iovec *, int, off_t);
  shrink_if_target(fd);
  return real(fd, iov, cnt, off);
}

ssize_t copy_file_range(int in, off_t *in_off, int out, off_t *out_off, size_t len, unsigned flags) {
  REAL("copy_file_range", ssize_t, int, off_t *, int, off_t *, size_t, unsigned);
  shrink_if_target(in);
  return real(in, in_off, out, out_off, len, flags);
}
