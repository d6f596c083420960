/* A fault for the e2e tests, loaded with LD_PRELOAD: epoll_create1 fails with EMFILE from its Nth call
   on (ARSYNC_TEST_EPOLL_FAIL_FROM=N). Every Node thread with an event loop makes one, so a worker thread
   started after that point cannot start, while the threads started before it keep working: the "one
   worker of the pool is lost at start-up under a tight ulimit" case, made to happen every time. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/epoll.h>

static atomic_ulong calls;

int epoll_create1(int flags) {
  static int (*real)(int);
  if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "epoll_create1");
  unsigned long n = atomic_fetch_add(&calls, 1) + 1;
  const char *from = getenv("ARSYNC_TEST_EPOLL_FAIL_FROM");
  if (from && n >= strtoul(from, NULL, 10)) {
    errno = EMFILE;
    return -1;
  }
  return real(flags);
}
