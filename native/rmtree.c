/* The end of a private staging tree this process made: removed, or moved whole into place.
 *
 * removeTree(path) -> 0 or -errno: removes a tree this process made (a pull's private staging tree,
 * src/cli/staging-dir.ts) in one call. Each directory is opened from its parent's descriptor with
 * O_NOFOLLOW, every entry is unlinked relative to it and a symlink is removed as the name it is, so
 * nothing outside the tree is reached even if a name in it were swapped. The same walk in TypeScript
 * (readdir, a Buffer per path, an unlink call per name) cost ~180 ms of CPU for 6,960 names on this
 * project's VM (docs/benchmarks.md, session 19, part "remote"). On the first failure it stops and
 * returns it: the caller falls back to its slower path, which can repair a directory without its write
 * bit (-A).
 *
 * moveTree(from, to, swap) -> 0 or -errno: renames the tree at `from` to `to` only if nothing is there
 * yet (renameat2 RENAME_NOREPLACE), so a name made at `to` after the caller looked (a directory, a
 * symlink planted there) is never replaced: the caller gets -EEXIST and goes its slower way. With
 * `swap`, `to` is an empty directory the caller found: the two are exchanged (RENAME_EXCHANGE) and the
 * old one, now at `from`, removed with rmdir, which only an empty directory allows; should anything
 * have been put in it meanwhile (or should it be no directory now), they are exchanged back and the
 * caller gets that error: nothing written there is lost (1: they could not be exchanged back, the tree
 * is in place and `from` holds that directory, for the caller to keep). */
#include "rmtree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "args.h"
#include "errors.h"

/* Empties the directory open at fd (taken over and closed here), then returns 0 or -errno. */
static int empty_dir(int fd)
{
  DIR *d = fdopendir(fd);
  if (!d) {
    int e = errno;
    close(fd);
    return -e;
  }
  int rc = 0;
  for (;;) {
    errno = 0;
    struct dirent *de = readdir(d);
    if (!de) {
      if (errno)
        rc = -errno;
      break;
    }
    const char *n = de->d_name;
    if (n[0] == '.' && (n[1] == 0 || (n[1] == '.' && n[2] == 0)))
      continue;
    bool dir = de->d_type == DT_DIR;
    if (de->d_type == DT_UNKNOWN) {
      struct stat st;
      if (fstatat(dirfd(d), n, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        rc = -errno;
        break;
      }
      dir = S_ISDIR(st.st_mode);
    }
    if (dir) {
      int sub = openat(dirfd(d), n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub < 0 || (rc = empty_dir(sub)) != 0) {
        if (sub < 0)
          rc = -errno;
        break;
      }
    }
    if (unlinkat(dirfd(d), n, dir ? AT_REMOVEDIR : 0) != 0) {
      rc = -errno;
      break;
    }
  }
  closedir(d);
  return rc;
}

napi_value rm_tree(napi_env env, napi_callback_info info)
{
  ARGS(1);
  const uint8_t *p;
  uint32_t n;
  if (!arg_path(env, argv[0], &p, &n))
    return NULL;
  if (n >= PATH_MAX)
    return throw_type(env, "removeTree(path): path longer than PATH_MAX");
  char path[PATH_MAX];
  memcpy(path, p, n);
  path[n] = 0;
  int rc;
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    rc = -errno;
  else if ((rc = empty_dir(fd)) == 0 && rmdir(path) != 0)
    rc = -errno;
  napi_value out;
  if (napi_create_int32(env, rc, &out) != napi_ok)
    return NULL;
  return out;
}

/* A path argument copied into a NUL-terminated buffer of PATH_MAX; false (with a TypeError thrown) otherwise. */
static bool path_arg(napi_env env, napi_value v, char out[PATH_MAX], const char *what)
{
  const uint8_t *p;
  uint32_t n;
  if (!arg_path(env, v, &p, &n))
    return false;
  if (n >= PATH_MAX || memchr(p, 0, n)) {
    throw_type(env, what);
    return false;
  }
  memcpy(out, p, n);
  out[n] = 0;
  return true;
}

/* `to` (an empty directory) and `from` exchanged, then the old `to` removed; see moveTree above. */
static int swap_in(const char *from, const char *to)
{
  if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_EXCHANGE) != 0)
    return -errno;
  if (rmdir(from) == 0)
    return 0;
  int e = errno;
  /* Put both back. That fails only if one of the two was renamed meanwhile: then the tree is at `to`,
   * whole, and `from` holds what was put in the old directory, which the caller must keep (1). */
  return renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_EXCHANGE) == 0 ? -e : 1;
}

napi_value mv_tree(napi_env env, napi_callback_info info)
{
  ARGS(3);
  char from[PATH_MAX], to[PATH_MAX];
  bool swap = false;
  if (!path_arg(env, argv[0], from, "moveTree(from, to, swap): a path longer than PATH_MAX") ||
      !path_arg(env, argv[1], to, "moveTree(from, to, swap): a path longer than PATH_MAX"))
    return NULL;
  if (!arg_absent(env, argv[2]) && napi_get_value_bool(env, argv[2], &swap) != napi_ok)
    return throw_type(env, "moveTree(from, to, swap): swap must be a boolean");
  int rc = swap ? swap_in(from, to) : renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0 ? 0 : -errno;
  napi_value out;
  if (napi_create_int32(env, rc, &out) != napi_ok)
    return NULL;
  return out;
}
