/* Resolution beneath a held directory fd without following symlinks (beneath.h): openat2
 * RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS, or the component walk without it. */
#include "beneath.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "longpath.h"

/* Set once openat2 answered ENOSYS/EPERM: a property of the kernel and its seccomp filter, the same
 * for every thread of the process (the tree scan's threads read it too), so one relaxed atomic. */
static _Atomic bool no_openat2;

/* The fallback: one component at a time with O_NOFOLLOW, refusing ".." (`beneath`), which gives the
 * same guarantee as RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS on kernels before 5.6 or under seccomp. */
static int walk_components(int dirfd, const char *path, int flags, bool beneath)
{
  char buf[PATH_MAX];
  size_t n = strlen(path);
  if (n >= sizeof buf)
    return -ENAMETOOLONG;
  memcpy(buf, path, n + 1);
  int cur = dirfd;
  char *save = NULL, *comp = strtok_r(buf, "/", &save);
  if (!comp)
    comp = ".";
  while (comp) {
    char *next = strtok_r(NULL, "/", &save);
    if (beneath && strcmp(comp, "..") == 0) {
      if (cur != dirfd)
        close(cur);
      return -EXDEV;
    }
    int fd = openat(cur, comp, (next ? O_PATH | O_DIRECTORY : flags) | O_NOFOLLOW | O_CLOEXEC);
    int e = errno;
    if (cur != dirfd)
      close(cur);
    if (fd < 0)
      return -e;
    cur = fd;
    comp = next;
  }
  return cur;
}

int beneath_open(int dirfd, const char *path, int flags, unsigned opts)
{
  if (!*path)
    path = ".";
  if (!atomic_load_explicit(&no_openat2, memory_order_relaxed)) {
    struct open_how how = {
      /* No O_NOFOLLOW: with it a trailing symlink would be opened as itself (ENOTDIR); without
       * it RESOLVE_NO_SYMLINKS refuses it with ELOOP, the error that names the problem. */
      .flags = (uint64_t)(flags | O_CLOEXEC),
      .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | ((opts & BENEATH_DIRLINKS) ? 0 : RESOLVE_NO_SYMLINKS),
    };
    long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
    if (fd >= 0)
      return (int)fd;
    if (errno != ENOSYS && errno != EPERM)
      return -errno;
    atomic_store_explicit(&no_openat2, true, memory_order_relaxed);
  }
  if (path[0] == '/')
    return -EXDEV;
  return walk_components(dirfd, path, flags, true);
}

/* One link of a long path's chain (longpath.h): a directory, beneath the last one. */
static int beneath_chunk(void *arg, int dirfd, const char *chunk)
{
  return beneath_open(dirfd, chunk, O_PATH | O_DIRECTORY, *(const unsigned *)arg);
}

int beneath_open_path(int dirfd, const uint8_t *rel, uint32_t len, int flags, unsigned opts)
{
  struct lp_at at;
  int e = lp_split(dirfd, rel, len, PATH_MAX, beneath_chunk, &opts, &at);
  if (e)
    return -e;
  int fd = beneath_open(at.dirfd, at.rest, flags, opts);
  lp_release(&at);
  return fd;
}

int open_no_symlinks(const char *path, int flags)
{
  /* O_NOFOLLOW only when the caller asks (to pin a symlink itself with O_PATH): without it a trailing
   * symlink fails with ELOOP, the error that names the problem, not ENOTDIR. */
  if (!atomic_load_explicit(&no_openat2, memory_order_relaxed)) {
    struct open_how how = {
      .flags = (uint64_t)(flags | O_CLOEXEC),
      .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
    };
    long fd = syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof how);
    if (fd >= 0 || (errno != ENOSYS && errno != EPERM))
      return (int)fd;
    atomic_store_explicit(&no_openat2, true, memory_order_relaxed);
  }
  if (path[0] != '/') {
    errno = EINVAL;
    return -1;
  }
  int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0)
    return -1;
  int fd = walk_components(root, path + 1, flags, false);
  close(root);
  if (fd < 0) {
    errno = -fd;
    return -1;
  }
  return fd;
}

int zpath(const uint8_t *p, uint32_t n, char *out, size_t cap)
{
  if ((size_t)n >= cap)
    return ENAMETOOLONG;
  if (n && memchr(p, 0, n))
    return EINVAL;
  if (n)
    memcpy(out, p, n);
  out[n] = 0;
  return 0;
}
