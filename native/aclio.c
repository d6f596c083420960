/* POSIX ACLs by path, as raw kernel values (aclio.h). The entry is opened O_PATH|O_NOFOLLOW and its
 * attribute reached through /proc/self/fd, so a symlink is never followed (an ACL cannot be put on a
 * symlink anyway) and an unreadable file is still read. */
#include "aclio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "args.h"
#include "errors.h"

#define ACL_ACCESS "system.posix_acl_access"
#define ACL_DEFAULT "system.posix_acl_default"
/* The kernel's limit for one xattr value (XATTR_SIZE_MAX). */
#define ACL_CAP 65536

/* The entry's /proc/self/fd name into proc; its fd (to close), or -errno. */
static int open_path(const uint8_t *path, uint32_t len, char *proc, size_t cap)
{
  char buf[PATH_MAX];
  if (len >= sizeof buf)
    return -ENAMETOOLONG;
  memcpy(buf, path, len);
  buf[len] = 0;
  int fd = open(buf, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  snprintf(proc, cap, "/proc/self/fd/%d", fd);
  return fd;
}

static bool no_acl(int e)
{
  return e == ENODATA || e == ENOTSUP || e == ENOSYS;
}

napi_value acl_get(napi_env env, napi_callback_info info)
{
  ARGS(2);
  static const char usage[] = "aclGet(path: Buffer, isDefault: boolean)";
  const uint8_t *path;
  uint32_t len;
  bool def = false;
  if (argc < 2 || !arg_path(env, argv[0], &path, &len) || napi_get_value_bool(env, argv[1], &def) != napi_ok)
    return throw_type(env, usage);
  char proc[64];
  int fd = open_path(path, len, proc, sizeof proc);
  if (fd < 0)
    return err_object(env, -fd, "open");
  char *buf = malloc(ACL_CAP);
  if (!buf) {
    close(fd);
    return err_object(env, ENOMEM, "getxattr");
  }
  ssize_t n = getxattr(proc, def ? ACL_DEFAULT : ACL_ACCESS, buf, ACL_CAP);
  int e = errno;
  close(fd);
  napi_value out;
  void *data;
  napi_status st = n < 0 ? napi_ok : napi_create_buffer_copy(env, (size_t)n, buf, &data, &out);
  free(buf);
  if (n < 0 && no_acl(e)) {
    NAPI_TRY(env, napi_get_null(env, &out));
    return out;
  }
  if (n < 0)
    return err_object(env, e, "getxattr");
  NAPI_TRY(env, st);
  return out;
}

napi_value acl_set(napi_env env, napi_callback_info info)
{
  ARGS(3);
  static const char usage[] = "aclSet(path: Buffer, isDefault: boolean, value: Buffer | null)";
  const uint8_t *path, *val = NULL;
  uint32_t len, vlen = 0;
  bool def = false;
  if (argc < 3 || !arg_path(env, argv[0], &path, &len) || napi_get_value_bool(env, argv[1], &def) != napi_ok ||
      (!arg_absent(env, argv[2]) && !arg_buffer(env, argv[2], &val, &vlen)))
    return throw_type(env, usage);
  char proc[64];
  int fd = open_path(path, len, proc, sizeof proc);
  if (fd < 0)
    return err_object(env, -fd, "open");
  const char *name = def ? ACL_DEFAULT : ACL_ACCESS;
  int rc = val ? setxattr(proc, name, val, vlen, 0) : removexattr(proc, name);
  int e = errno;
  close(fd);
  if (rc < 0 && !(val == NULL && e == ENODATA))
    return err_object(env, e, val ? "setxattr" : "removexattr");
  napi_value out;
  NAPI_TRY(env, napi_get_null(env, &out));
  return out;
}
