/* writeNew(path, parts) -> 0 or -errno: a pull's received file written whole where it is created, in
 * one call: created O_EXCL (never an existing name, never through a symlink), the parts written with
 * writev in order from offset 0, closed. src/cli/pull-stage.ts uses it for a file of its private
 * staging tree whose data arrived in one piece (most files of a tree): the three node:fs calls it
 * replaces cost a few microseconds each in Node's wrappers, 78,579 times for the Linux tree
 * (docs/benchmarks.md, "A fresh pull placed whole"). On a failure after the create the file is
 * removed again, so that the caller's error leaves nothing half written under the name. */
#include "stagefile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "args.h"
#include "context.h"
#include "ctxapi.h"
#include "dest.h"
#include "errors.h"
#include "ops.h"

enum { MAX_PARTS = 1024 }; /* IOV_MAX */

/* All of iov[0..n) written at the file's offset, through short writes; 0 or -errno. */
static int write_all(int fd, struct iovec *iov, int n)
{
  while (n > 0) {
    ssize_t w = writev(fd, iov, n);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      return -errno;
    }
    while (n > 0 && (size_t)w >= iov->iov_len) {
      w -= (ssize_t)iov->iov_len;
      iov++;
      n--;
    }
    if (n > 0) {
      iov->iov_base = (char *)iov->iov_base + w;
      iov->iov_len -= (size_t)w;
    }
  }
  return 0;
}

/* The parts argument: at most MAX_PARTS Buffers, into iov; false (a TypeError thrown) otherwise. */
static bool arg_parts(napi_env env, napi_value v, struct iovec *iov, uint32_t *count, const char *usage)
{
  bool isarr = false;
  if (napi_is_array(env, v, &isarr) != napi_ok || !isarr || napi_get_array_length(env, v, count) != napi_ok ||
      *count > MAX_PARTS) {
    throw_type(env, usage);
    return false;
  }
  for (uint32_t i = 0; i < *count; i++) {
    napi_value el;
    const uint8_t *b;
    uint32_t len;
    if (napi_get_element(env, v, i, &el) != napi_ok || !arg_buffer(env, el, &b, &len)) {
      throw_type(env, usage);
      return false;
    }
    iov[i].iov_base = (void *)b;
    iov[i].iov_len = len;
  }
  return true;
}

napi_value stage_write_new(napi_env env, napi_callback_info info)
{
  ARGS(2);
  const uint8_t *p;
  uint32_t n;
  if (!arg_path(env, argv[0], &p, &n))
    return NULL;
  if (n >= PATH_MAX)
    return throw_type(env, "writeNew(path, parts): path longer than PATH_MAX");
  uint32_t count = 0;
  struct iovec iov[MAX_PARTS];
  if (!arg_parts(env, argv[1], iov, &count, "writeNew(path, parts): parts must be an array of at most 1024 Buffers"))
    return NULL;
  char path[PATH_MAX];
  memcpy(path, p, n);
  path[n] = 0;
  int rc = 0;
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    rc = -errno;
  } else {
    rc = write_all(fd, iov, (int)count);
    if (close(fd) < 0 && rc == 0)
      rc = -errno;
    if (rc != 0)
      unlink(path);
  }
  napi_value out;
  if (napi_create_int32(env, rc, &out) != napi_ok)
    return NULL;
  return out;
}

/* writeNewSettled(ctx, rel, parts, mode, uid, gid, mtimeSec, mtimeNsec) -> 0, 1 or -errno: as writeNew,
 * but beneath the context's destination root (rel walked by the context's parent cache, no symlink
 * followed, never an existing name), and before the close the file gets the metadata an Attrs op with
 * that stat would give it (ops_attrs_file_fd: the same rules, on the fd already open). A fresh pull
 * whose staged tree will be put in place whole (src/cli/pull-place.ts) settles its files so, instead of
 * opening each again at the end. 1: written, but its metadata could not be set (the caller leaves it
 * to the Attrs op, which reports why); -errno: not created, or removed again after a failed write. */
napi_value stage_write_new_settled(napi_env env, napi_callback_info info)
{
  ARGS(8);
  static const char usage[] =
      "writeNewSettled(ctx, rel: Buffer, parts: Buffer[], mode, uid, gid, mtimeSec, mtimeNsec: number)";
  struct ctx *c = argc < 8 ? NULL : ctxapi_get(env, argv[0]);
  struct op op = {0};
  double mode, uid, gid, nsec;
  if (!c || !arg_buffer(env, argv[1], &op.dst, &op.dst_len) || napi_get_value_double(env, argv[3], &mode) != napi_ok ||
      napi_get_value_double(env, argv[4], &uid) != napi_ok || napi_get_value_double(env, argv[5], &gid) != napi_ok ||
      napi_get_value_double(env, argv[6], &op.mtime_sec) != napi_ok || napi_get_value_double(env, argv[7], &nsec) != napi_ok)
    return throw_type(env, usage);
  if (op.dst_len == 0 || op.dst_len >= PATH_MAX)
    return throw_type(env, usage);
  uint32_t count = 0;
  struct iovec iov[MAX_PARTS];
  if (!arg_parts(env, argv[2], iov, &count, usage))
    return NULL;
  op.kind = OP_ATTRS;
  op.mode = (uint32_t)mode;
  op.uid = (uint32_t)uid;
  op.gid = (uint32_t)gid;
  op.mtime_nsec = (uint32_t)nsec;
  op.atime_sec = op.mtime_sec;
  struct job j = {.c = c, .op = &op};
  char name[NAME_MAX + 1];
  struct parent *p;
  int rc;
  if (dest_parent(&j, op.dst, op.dst_len, &p, name) != OP_OK) {
    rc = -j.err.no;
  } else {
    int fd = openat(p->fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
      rc = -errno;
    } else {
      rc = write_all(fd, iov, (int)count);
      bool settled = rc == 0 && ops_attrs_file_fd(&j, fd) == OP_OK;
      if (close(fd) < 0 && rc == 0)
        rc = -errno;
      if (rc != 0)
        unlinkat(p->fd, name, 0);
      else if (!settled)
        rc = 1;
    }
    parent_put(c, p);
  }
  napi_value out;
  if (napi_create_int32(env, rc, &out) != napi_ok)
    return NULL;
  return out;
}
