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

#include "ctxapi.h"
#include "errors.h"
#include "ops.h"

#define META_FIELDS 12
#define DENTS_BUF (64 * 1024)

struct linux_dirent64 {
  uint64_t d_ino;
  int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

/* Arguments: one Buffer, NUL-free (the kernel would silently cut the path at the NUL). */
static napi_value path_arg(napi_env env, napi_callback_info info, char *out, size_t cap)
{
  size_t argc = 1;
  napi_value argv[1];
  bool isbuf = false;
  NAPI_TRY(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || napi_is_buffer(env, argv[0], &isbuf) != napi_ok || !isbuf)
    return throw_type(env, "path must be a Buffer");
  void *data;
  size_t len;
  NAPI_TRY(env, napi_get_buffer_info(env, argv[0], &data, &len));
  if (len >= cap)
    return throw_range(env, "path is longer than PATH_MAX");
  if (len && memchr(data, 0, len))
    return throw_type(env, "path must not contain NUL bytes");
  if (len)
    memcpy(out, data, len);
  out[len] = 0;
  return argv[0];
}

static void fill_meta(double *m, const struct statx *sx, int err)
{
  if (err) {
    memset(m, 0, META_FIELDS * sizeof *m);
    m[11] = err;
    return;
  }
  m[0] = sx->stx_mode;
  m[1] = sx->stx_uid;
  m[2] = sx->stx_gid;
  m[3] = (double)sx->stx_size;
  m[4] = (double)sx->stx_mtime.tv_sec;
  m[5] = sx->stx_mtime.tv_nsec;
  m[6] = (double)sx->stx_ino;
  m[7] = (double)makedev(sx->stx_dev_major, sx->stx_dev_minor);
  m[8] = sx->stx_nlink;
  m[9] = (double)makedev(sx->stx_rdev_major, sx->stx_rdev_minor);
  m[10] = (double)sx->stx_blocks;
  m[11] = 0;
}

#define STATX_WANT (STATX_BASIC_STATS)

static int do_statx(int dirfd, const char *name, struct statx *sx)
{
  if (statx(dirfd, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_STATX_SYNC_AS_STAT, STATX_WANT, sx) < 0)
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

napi_value walk_lstat(napi_env env, napi_callback_info info)
{
  char path[PATH_MAX];
  if (!path_arg(env, info, path, sizeof path))
    return NULL;
  struct statx sx;
  int e = do_statx(AT_FDCWD, path, &sx);
  if (e)
    return err_object(env, e, "lstat");
  double *m;
  napi_value ta = meta_array(env, 1, &m);
  if (ta)
    fill_meta(m, &sx, 0);
  return ta;
}

struct names {
  char *v;
  size_t n, cap;
  size_t count;
};

static bool names_add(struct names *s, const char *name, size_t len)
{
  if (s->n + len + 1 > s->cap) {
    size_t cap = s->cap ? s->cap : 4096;
    while (cap < s->n + len + 1)
      cap *= 2;
    char *v = realloc(s->v, cap);
    if (!v)
      return false;
    s->v = v;
    s->cap = cap;
  }
  memcpy(s->v + s->n, name, len + 1);
  s->n += len + 1;
  s->count++;
  return true;
}

/* Reads every entry name; returns 0 or an errno. */
static int read_names(int fd, struct names *out)
{
  char *buf = malloc(DENTS_BUF);
  if (!buf)
    return ENOMEM;
  int e = 0;
  for (;;) {
    long n = syscall(SYS_getdents64, fd, buf, DENTS_BUF);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      e = errno;
      break;
    }
    if (n == 0)
      break;
    for (long off = 0; off < n;) {
      struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);
      off += d->d_reclen;
      const char *nm = d->d_name;
      if (nm[0] == '.' && (nm[1] == 0 || (nm[1] == '.' && nm[2] == 0)))
        continue;
      if (!names_add(out, nm, strlen(nm))) {
        e = ENOMEM;
        goto out;
      }
    }
  }
out:
  free(buf);
  return e;
}

/* Lists the open directory fd (and closes it). */
static napi_value scan_fd(napi_env env, int fd)
{
  struct names names = {0};
  int e = read_names(fd, &names);
  if (e) {
    close(fd);
    free(names.v);
    return err_object(env, e, "scandir");
  }
  double *m = NULL;
  napi_value meta = meta_array(env, names.count, &m);
  napi_value buf = NULL, result = NULL;
  if (meta) {
    const char *nm = names.v;
    for (size_t i = 0; i < names.count; i++) {
      struct statx sx;
      int err = do_statx(fd, nm, &sx);
      fill_meta(m + i * META_FIELDS, &sx, err);
      nm += strlen(nm) + 1;
    }
    void *data;
    if (napi_create_buffer_copy(env, names.n, names.n ? names.v : "", &data, &buf) == napi_ok &&
        napi_create_object(env, &result) == napi_ok &&
        (napi_set_named_property(env, result, "names", buf) != napi_ok ||
         napi_set_named_property(env, result, "meta", meta) != napi_ok))
      result = NULL;
  }
  close(fd);
  free(names.v);
  if (!result)
    return throw_error(env, "scanDir: could not build the result");
  return result;
}

napi_value walk_scan_dir(napi_env env, napi_callback_info info)
{
  char path[PATH_MAX];
  if (!path_arg(env, info, path, sizeof path))
    return NULL;
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return err_object(env, errno, "scandir");
  return scan_fd(env, fd);
}

napi_value walk_scan_dest(napi_env env, napi_callback_info info)
{
  size_t argc = 2;
  napi_value argv[2];
  NAPI_TRY(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  struct ctx *c = argc < 2 ? NULL : ctxapi_get(env, argv[0]);
  if (!c)
    return throw_type(env, "scanDest(ctx, rel: Buffer)");
  const uint8_t *rel;
  uint32_t len;
  if (!ctxapi_buffer(env, argv[1], &rel, &len))
    return throw_type(env, "rel must be a Buffer");
  /* Destination directories are opened like every destination path: beneath the root. */
  int fd = ops_open_dest(c, rel, len, O_RDONLY | O_DIRECTORY);
  if (fd < 0)
    return err_object(env, -fd, "scandir");
  return scan_fd(env, fd);
}
