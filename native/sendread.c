/* A push's reads of the files it sends (src/run/push-source.ts, src/remote/push.ts): the open of a
 * listed regular file, checked to be the file the walk listed (DESIGN §3 rule 3), and a file sent whole
 * read straight into the outgoing frame with its whole-file sum written after it, one call each instead
 * of Node's open, fstat (an fs.Stats object per file), read, close and a hasher object per file. */
#include "sendread.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "args.h"
#include "checksum.h"
#include "copy.h"
#include "errors.h"

/* sendOpen's answer when the path opened is not what the walk listed (another file took its place). */
#define SEND_NOT_LISTED (-0x10000)

static napi_value number(napi_env env, double v)
{
  napi_value out;
  if (napi_create_double(env, v, &out) != napi_ok)
    return NULL;
  return out;
}

/* sendOpen(path, follow, dev, ino) -> fd, -errno, or -0x10000: the file opened read-only (O_NOFOLLOW
 * unless `follow`, -L), then fstat'd: it must be a regular file with the device and inode the walk saw
 * (compared as doubles, as the walk's numbers are). */
napi_value send_open(napi_env env, napi_callback_info info)
{
  ARGS(4);
  const uint8_t *p;
  uint32_t n;
  bool follow;
  double dev, ino;
  if (!arg_path(env, argv[0], &p, &n))
    return NULL;
  if (napi_get_value_bool(env, argv[1], &follow) != napi_ok || napi_get_value_double(env, argv[2], &dev) != napi_ok ||
      napi_get_value_double(env, argv[3], &ino) != napi_ok)
    return throw_type(env, "sendOpen(path, follow, dev, ino)");
  if (n >= PATH_MAX)
    return number(env, -ENAMETOOLONG);
  char path[PATH_MAX];
  memcpy(path, p, n);
  path[n] = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW));
  if (fd < 0)
    return number(env, -errno);
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int e = errno;
    close(fd);
    return number(env, -e);
  }
  if (!S_ISREG(st.st_mode) || (double)st.st_dev != dev || (double)st.st_ino != ino) {
    close(fd);
    return number(env, SEND_NOT_LISTED);
  }
  return number(env, fd);
}

/* sendReadWhole(fd, kind, buf, at, len, sumAt) -> bytes read, or -errno: reads the file's first `len`
 * bytes into buf[at..at+len) (a file that shrank leaves zeros after what it had, as rsync's map_ptr
 * does), writes the unseeded whole-file sum of those len bytes at buf[sumAt], and closes fd in every
 * case. The caller sends fewer bytes than len as a spoiled sum. */
napi_value send_read_whole(napi_env env, napi_callback_info info)
{
  ARGS(6);
  int64_t fd, kind, at, len, sum_at;
  void *data;
  size_t size;
  bool is;
  if (!arg_int64(env, argv[0], &fd) || fd < 0 || fd > INT_MAX)
    return throw_type(env, "sendReadWhole(fd, kind, buf, at, len, sumAt): fd");
  if (!arg_int64(env, argv[1], &kind) || kind < 0 || kind > 3 || !arg_int64(env, argv[3], &at) ||
      !arg_int64(env, argv[4], &len) || !arg_int64(env, argv[5], &sum_at) || napi_is_buffer(env, argv[2], &is) != napi_ok ||
      !is || napi_get_buffer_info(env, argv[2], &data, &size) != napi_ok) {
    close((int)fd);
    return throw_type(env, "sendReadWhole(fd, kind, buf, at, len, sumAt)");
  }
  size_t sum_len = sum_file_length((int)kind);
  if (at < 0 || len < 0 || (uint64_t)at + (uint64_t)len > size || sum_at < 0 || (uint64_t)sum_at + sum_len > size ||
      (sum_at < at + len && sum_at + (int64_t)sum_len > at)) {
    close((int)fd);
    return throw_range(env, "sendReadWhole: outside the buffer");
  }
  uint8_t *dst = (uint8_t *)data + at;
  ssize_t r = pread_full((int)fd, dst, (size_t)len, 0);
  if (r < 0) {
    close((int)fd);
    return number(env, (double)r);
  }
  size_t got = (size_t)r;
  close((int)fd);
  if (got < (size_t)len)
    memset(dst + got, 0, (size_t)len - got);
  sum_file((int)kind, dst, (size_t)len, (uint8_t *)data + sum_at);
  return number(env, (double)got);
}
