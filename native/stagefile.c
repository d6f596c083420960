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
#include "errors.h"

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

napi_value stage_write_new(napi_env env, napi_callback_info info)
{
  ARGS(2);
  const uint8_t *p;
  uint32_t n;
  if (!arg_path(env, argv[0], &p, &n))
    return NULL;
  if (n >= PATH_MAX)
    return throw_type(env, "writeNew(path, parts): path longer than PATH_MAX");
  bool isarr = false;
  uint32_t count = 0;
  if (napi_is_array(env, argv[1], &isarr) != napi_ok || !isarr || napi_get_array_length(env, argv[1], &count) != napi_ok ||
      count > MAX_PARTS)
    return throw_type(env, "writeNew(path, parts): parts must be an array of at most 1024 Buffers");
  struct iovec iov[MAX_PARTS];
  for (uint32_t i = 0; i < count; i++) {
    napi_value el;
    const uint8_t *b;
    uint32_t len;
    if (napi_get_element(env, argv[1], i, &el) != napi_ok || !arg_buffer(env, el, &b, &len))
      return throw_type(env, "writeNew(path, parts): parts must be an array of at most 1024 Buffers");
    iov[i].iov_base = (void *)b;
    iov[i].iov_len = len;
  }
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
