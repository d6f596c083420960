/*
 * set-times: exact access and modification times for many paths in one process, for the tests' tree
 * builders (test/helpers/set-times.ts). Each record on stdin is "SEC NSEC PATH" ended by a NUL; both times
 * of PATH become SEC.NSEC, on a symlink itself (as `touch -h -d @SEC.NSEC`), and nothing is created. The
 * first path that fails is named on stderr and ends the run with exit 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int main(void) {
  char *rec = NULL;
  size_t cap = 0;
  while (getdelim(&rec, &cap, '\0', stdin) > 0) {
    char *end;
    errno = 0;
    long long sec = strtoll(rec, &end, 10);
    if (errno || *end != ' ') goto bad;
    long nsec = strtol(end + 1, &end, 10);
    if (errno || *end != ' ' || nsec < 0 || nsec > 999999999) goto bad;
    const char *path = end + 1;
    struct timespec ts[2] = {{.tv_sec = (time_t)sec, .tv_nsec = nsec}, {.tv_sec = (time_t)sec, .tv_nsec = nsec}};
    if (utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW) != 0) {
      fprintf(stderr, "set-times: setting times of '%s': %s\n", path, strerror(errno));
      return 1;
    }
  }
  free(rec);
  return 0;
bad:
  fprintf(stderr, "set-times: malformed record '%s'\n", rec);
  return 1;
}
