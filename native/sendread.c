/* A push's reads of the files it sends (src/run/push-source.ts, src/remote/push.ts): the open of a
 * listed regular file, checked to be the file the walk listed (DESIGN §3 rule 3), and a file sent whole
 * read straight into the outgoing frame with its whole-file sum written after it, one call each instead
 * of Node's open, fstat (an fs.Stats object per file), read, close and a hasher object per file; and a
 * small file sent whole in one call: the checked open, the read, the sum and the close (sendFile). */
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

/* sendFile's answer for a read that failed after the open: this minus errno (below every open answer). */
#define SEND_READ_FAILED (-0x20000)

/* The checked open of sendOpen and sendFile: its arguments at argv[0..3] (a type error thrown: returns
 * INT_MIN); the file opened read-only (O_NOFOLLOW unless `follow`, -L), then fstat'd: it must be a
 * regular file with the device and inode the walk saw (compared as doubles, as the walk's numbers are).
 * Returns the descriptor, -errno, or SEND_NOT_LISTED. */
static int open_listed(napi_env env, napi_value *argv, const char *usage)
{
  const uint8_t *p;
  uint32_t n;
  bool follow;
  double dev, ino;
  if (!arg_path(env, argv[0], &p, &n))
    return INT_MIN;
  if (napi_get_value_bool(env, argv[1], &follow) != napi_ok || napi_get_value_double(env, argv[2], &dev) != napi_ok ||
      napi_get_value_double(env, argv[3], &ino) != napi_ok) {
    throw_type(env, usage);
    return INT_MIN;
  }
  if (n >= PATH_MAX)
    return -ENAMETOOLONG;
  char path[PATH_MAX];
  memcpy(path, p, n);
  path[n] = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW));
  if (fd < 0)
    return -errno;
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int e = errno;
    close(fd);
    return -e;
  }
  if (!S_ISREG(st.st_mode) || (double)st.st_dev != dev || (double)st.st_ino != ino) {
    close(fd);
    return SEND_NOT_LISTED;
  }
  return fd;
}

/* sendOpen(path, follow, dev, ino) -> fd, -errno, or -0x10000 (open_listed). */
napi_value send_open(napi_env env, napi_callback_info info)
{
  ARGS(4);
  int fd = open_listed(env, argv, "sendOpen(path, follow, dev, ino)");
  return fd == INT_MIN ? NULL : number(env, fd);
}

/* The whole read of sendReadWhole and sendFile, its range already checked: the file's first len bytes at
 * dst (zeros after a shorter file), the sum of those len bytes at sum; fd closed in every case. Returns
 * the bytes read or -errno. */
static ssize_t read_whole(int fd, int kind, uint8_t *dst, size_t len, uint8_t *sum)
{
  ssize_t r = pread_full(fd, dst, len, 0);
  close(fd);
  if (r < 0)
    return r;
  if ((size_t)r < len)
    memset(dst + r, 0, len - (size_t)r);
  sum_file(kind, dst, len, sum);
  return r;
}

/* Whether [at, at+len) and [sum_at, sum_at+sum_len) lie in a buffer of `size` bytes without overlapping. */
static bool whole_fits(int64_t at, int64_t len, int64_t sum_at, size_t sum_len, size_t size)
{
  return !(at < 0 || len < 0 || (uint64_t)at + (uint64_t)len > size || sum_at < 0 || (uint64_t)sum_at + sum_len > size ||
           (sum_at < at + len && sum_at + (int64_t)sum_len > at));
}

/* sendFile(path, follow, dev, ino, kind, buf, at, len, sumAt) -> bytes read, or what sendOpen answers
 * for a file that could not be opened as listed (-errno, -0x10000), or -0x20000 - errno for a read that
 * failed: a small file sent whole in one call (the open of sendOpen, the read and sum of sendReadWhole).
 * The buffer's range is checked before anything is opened. */
napi_value send_file(napi_env env, napi_callback_info info)
{
  ARGS(9);
  int64_t kind, at, len, sum_at;
  void *data;
  size_t size;
  bool is;
  if (!arg_int64(env, argv[4], &kind) || kind < 0 || kind > 3 || !arg_int64(env, argv[6], &at) || !arg_int64(env, argv[7], &len) ||
      !arg_int64(env, argv[8], &sum_at) || napi_is_buffer(env, argv[5], &is) != napi_ok || !is ||
      napi_get_buffer_info(env, argv[5], &data, &size) != napi_ok)
    return throw_type(env, "sendFile(path, follow, dev, ino, kind, buf, at, len, sumAt)");
  if (!whole_fits(at, len, sum_at, sum_file_length((int)kind), size))
    return throw_range(env, "sendFile: outside the buffer");
  int fd = open_listed(env, argv, "sendFile(path, follow, dev, ino, kind, buf, at, len, sumAt)");
  if (fd == INT_MIN)
    return NULL;
  if (fd < 0)
    return number(env, fd);
  ssize_t r = read_whole(fd, (int)kind, (uint8_t *)data + at, (size_t)len, (uint8_t *)data + sum_at);
  return number(env, r < 0 ? (double)(SEND_READ_FAILED + r) : (double)r);
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
  if (!whole_fits(at, len, sum_at, sum_file_length((int)kind), size)) {
    close((int)fd);
    return throw_range(env, "sendReadWhole: outside the buffer");
  }
  return number(env, (double)read_whole((int)fd, (int)kind, (uint8_t *)data + at, (size_t)len, (uint8_t *)data + sum_at));
}
