/* A pipe for a remote shell's stdout (src/remote/shell-pipes.ts), with room for `size` bytes
 * (F_SETPIPE_SZ) instead of the 64 KiB of a default pipe or the ~200 KiB a socketpair (what Node gives a
 * child's stdio) holds: Node reads from the remote shell only between the steps of its single thread,
 * and with more room the remote shell writes in fewer, larger pieces and waits less. */
#include "pipes.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "args.h"
#include "errors.h"

/* pipeOpen(size) -> [readFd, writeFd, capacity] or -errno: both ends close-on-exec (the spawn gives the
 * child its end by dup2, which clears the flag). The capacity is what the kernel granted: a size above
 * /proc/sys/fs/pipe-max-size (1 MiB by default) or over the user's pipe quota leaves the default,
 * which is no error. */
napi_value pipe_open(napi_env env, napi_callback_info info)
{
  ARGS(1);
  int64_t size;
  if (!arg_int64(env, argv[0], &size) || size < 0 || size > (1 << 30))
    return throw_type(env, "pipeOpen(size)");
  int fds[2];
  napi_value out;
  if (pipe2(fds, O_CLOEXEC) != 0) {
    if (napi_create_int32(env, -errno, &out) != napi_ok)
      return NULL;
    return out;
  }
  int cap = fcntl(fds[1], F_SETPIPE_SZ, (int)size);
  if (cap < 0)
    cap = fcntl(fds[1], F_GETPIPE_SZ);
  int vals[3] = {fds[0], fds[1], cap};
  if (napi_create_array_with_length(env, 3, &out) != napi_ok)
    goto fail;
  for (int i = 0; i < 3; i++) {
    napi_value v;
    if (napi_create_int32(env, vals[i], &v) != napi_ok || napi_set_element(env, out, (uint32_t)i, v) != napi_ok)
      goto fail;
  }
  return out;
fail:
  close(fds[0]);
  close(fds[1]);
  return NULL;
}

/* pipeResize(fd, size) -> the pipe's capacity, or -errno: a pipe this process did not make (the remote
 * shell's stdout, a FIFO when bin/arsync started the shell before Node: src/remote/early-shell.ts) grown
 * as pipeOpen grows its own, a refused size leaving it as it was. */
napi_value pipe_resize(napi_env env, napi_callback_info info)
{
  ARGS(2);
  int64_t fd, size;
  if (!arg_int64(env, argv[0], &fd) || fd < 0 || fd > 0x7fffffff || !arg_int64(env, argv[1], &size) || size < 0 || size > (1 << 30))
    return throw_type(env, "pipeResize(fd, size)");
  int cap = fcntl((int)fd, F_SETPIPE_SZ, (int)size);
  if (cap < 0)
    cap = fcntl((int)fd, F_GETPIPE_SZ);
  napi_value out;
  if (napi_create_int32(env, cap < 0 ? -errno : cap, &out) != napi_ok)
    return NULL;
  return out;
}
