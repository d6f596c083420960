/* scanDir and lstat: getdents64 on an O_NOFOLLOW directory fd, then statx per entry relative to it,
 * so a directory swapped for a symlink mid-walk is never entered and names stay byte-exact (no
 * UTF-8 round trip). Each entry is 12 doubles: mode uid gid size mtimeSec mtimeNsec ino dev nlink
 * rdev blocks err, with dev/rdev as glibc makedev() like Node's fs.Stats. scanDest lists a
 * destination directory the same way, opened beneath the context's root. */
#include "walk.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "args.h"
#include "ctxapi.h"
#include "errors.h"
#include "listing.h"
#include "longpath.h"
#include "dest.h"
#include "source.h"



/* Arguments: one path (arg_path); beyond PATH_MAX it is split into a directory fd and the rest
 * (longpath.h). */
static napi_value path_arg(napi_env env, napi_callback_info info, struct lp_at *at, int *err)
{
  ARGS(1);
  if (argc < 1)
    return throw_type(env, "path must be a Buffer");
  const uint8_t *p;
  uint32_t n;
  if (!arg_path(env, argv[0], &p, &n))
    return NULL;
  *err = lp_source(p, n, PATH_MAX, at);
  return argv[0];
}

#define STATX_WANT (STATX_BASIC_STATS)

static int do_statx(int dirfd, const char *name, struct statx *sx, bool follow)
{
  int fl = (follow ? 0 : AT_SYMLINK_NOFOLLOW) | AT_NO_AUTOMOUNT | AT_STATX_SYNC_AS_STAT;
  if (statx(dirfd, name, fl, STATX_WANT, sx) < 0)
    return errno;
  return 0;
}

static napi_value meta_array(napi_env env, size_t n, double **data)
{
  napi_value ab, ta;
  void *p;
  NAPI_TRY(env, napi_create_arraybuffer(env, n * META_FIELDS * sizeof(double), &p, &ab));
  NAPI_TRY(env, napi_create_typedarray(env, napi_float64_array, n * META_FIELDS, ab, 0, &ta));
  *data = p;
  return ta;
}

static napi_value stat_path(napi_env env, napi_callback_info info, bool follow)
{
  const char *sys = follow ? "stat" : "lstat";
  struct lp_at at;
  int e = 0;
  if (!path_arg(env, info, &at, &e))
    return NULL;
  if (e)
    return err_object(env, e, sys);
  struct statx sx;
  e = do_statx(at.dirfd, at.rest, &sx, follow);
  lp_release(&at);
  if (e)
    return err_object(env, e, sys);
  double *m;
  napi_value ta = meta_array(env, 1, &m);
  if (ta)
    listing_fill(m, &sx, 0);
  return ta;
}

napi_value walk_lstat(napi_env env, napi_callback_info info)
{
  return stat_path(env, info, false);
}

napi_value walk_stat(napi_env env, napi_callback_info info)
{
  return stat_path(env, info, true);
}

napi_value walk_readlink(napi_env env, napi_callback_info info)
{
  struct lp_at at;
  int e = 0;
  if (!path_arg(env, info, &at, &e))
    return NULL;
  if (e)
    return err_object(env, e, "readlink");
  napi_value buf = walk_readlink_at(env, at.dirfd, at.rest);
  lp_release(&at);
  return buf;
}

napi_value walk_readlink_at(napi_env env, int dirfd, const char *name)
{
  char target[PATH_MAX];
  ssize_t n = readlinkat(dirfd, name, target, sizeof target);
  if (n < 0)
    return err_object(env, errno, "readlink");
  if ((size_t)n >= sizeof target)
    return err_object(env, ENAMETOOLONG, "readlink");
  napi_value buf;
  void *data;
  NAPI_TRY(env, napi_create_buffer_copy(env, (size_t)n, n ? target : "", &data, &buf));
  return buf;
}

/* Lists the open directory fd (and closes it): names sorted by bytes, 12 doubles each. */
static napi_value scan_fd(napi_env env, int fd)
{
  struct listing l = {0};
  int e = list_names(fd, &l);
  if (e) {
    close(fd);
    listing_free(&l);
    return err_object(env, e, "scandir");
  }
  double *m = NULL;
  napi_value meta = meta_array(env, l.n, &m);
  napi_value buf = NULL, result = NULL;
  void *data;
  size_t total = 0;
  for (size_t i = 0; i < l.n; i++)
    total += strlen(l.names[i]) + 1;
  if (meta && napi_create_buffer(env, total, &data, &buf) == napi_ok) {
    char *o = data;
    for (size_t i = 0; i < l.n; i++) {
      size_t len = strlen(l.names[i]) + 1;
      memcpy(o, l.names[i], len);
      o += len;
      struct statx sx;
      int se = stat_entry(fd, l.names[i], &sx);
      listing_fill(m + i * META_FIELDS, &sx, se);
    }
    if (napi_create_object(env, &result) == napi_ok &&
        (napi_set_named_property(env, result, "names", buf) != napi_ok ||
         napi_set_named_property(env, result, "meta", meta) != napi_ok))
      result = NULL;
  }
  close(fd);
  listing_free(&l);
  if (!result)
    return throw_error(env, "scanDir: could not build the result");
  return result;
}

napi_value walk_scan_dir(napi_env env, napi_callback_info info)
{
  ARGS(2);
  const uint8_t *path;
  uint32_t len;
  if (argc < 1 || !arg_path(env, argv[0], &path, &len))
    return NULL;
  uint32_t anchor = 0;
  if (argc >= 2 && !arg_anchor(env, argv[1], &anchor))
    return throw_type(env, "anchor must be a non-negative integer");
  /* Beneath the operator's anchor, without symlinks, at any length (source.c). */
  int fd = src_open_dir(path, len, anchor);
  if (fd < 0)
    return err_object(env, -fd, "scandir");
  return scan_fd(env, fd);
}

napi_value walk_scan_dest(napi_env env, napi_callback_info info)
{
  ARGS(2);
  struct ctx *c = argc < 2 ? NULL : ctxapi_get(env, argv[0]);
  if (!c)
    return throw_type(env, "scanDest(ctx, rel: Buffer)");
  const uint8_t *rel;
  uint32_t len;
  if (!arg_buffer(env, argv[1], &rel, &len))
    return throw_type(env, "rel must be a Buffer");
  /* Destination directories are opened like every destination path: beneath the root. */
  int fd = dest_open(c, rel, len, O_RDONLY | O_DIRECTORY);
  if (fd < 0)
    return err_object(env, -fd, "scandir");
  return scan_fd(env, fd);
}
