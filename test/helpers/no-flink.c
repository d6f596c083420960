/* A fault for the e2e tests, loaded with LD_PRELOAD: linkat(2) as a kernel before 6.10 answers a caller
   without CAP_DAC_READ_SEARCH, which may not link a file by its descriptor (AT_EMPTY_PATH: ENOENT), in a
   process that has no /proc either (a link from a descriptor's /proc/self/fd/N entry: ENOENT). Every
   other link is made. The case native/temp.c's probe exists for, made to happen on this machine's
   kernel and as root. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/* "/proc/self/fd/" and digits only: a descriptor's own entry, not a path through a directory's. */
static int fd_entry(const char *p) {
  if (strncmp(p, "/proc/self/fd/", 14) != 0 || !p[14]) return 0;
  for (p += 14; *p; p++)
    if (*p < '0' || *p > '9') return 0;
  return 1;
}

int linkat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, int flags) {
  static int (*real)(int, const char *, int, const char *, int);
  if (!real) real = (int (*)(int, const char *, int, const char *, int))dlsym(RTLD_NEXT, "linkat");
  if ((flags & AT_EMPTY_PATH) || fd_entry(oldpath)) {
    errno = ENOENT;
    return -1;
  }
  return real(olddirfd, oldpath, newdirfd, newpath, flags);
}
