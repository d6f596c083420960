/* sumFileBlocks(kind, fd, size, blength, s2length, seed, out) -> count: the block sums a pulling client
 * sends for its basis file (rsync's generate_sums), read from the file and summed here, by two threads
 * when the file is large and the machine has two CPUs. While a pull's generator sums its basis the far
 * side waits for the sums, so this phase is on the transfer's critical path: reading and summing took
 * about 0.4 s of CPU a GiB here, all on one thread, with the other CPU idle; a second thread takes the
 * other half of the blocks (docs/benchmarks.md, "push, session 22").
 *
 * The sums are those of checksum.c's sum_blocks over the file's first `size` bytes: a file that is
 * shorter now than `size` reads as zeros past its end (src/remote/pull.ts's readFull does the same; the
 * whole-file checksum then fails and the redo phase asks again). A read error returns -errno. */
#include "basissum.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "checksum.h"
#include "copy.h"

/* How much of the file one thread reads at a time (the size src/remote/pull.ts reads). */
#define SPAN (1u << 20)
/* Below this a second thread costs more than it saves (its start, a second buffer). */
#define THREADED_FROM (8u << 20)

static const size_t SUM_LEN[] = {16, 8, 8, 16};

struct half {
  int fd;
  int kind;
  uint64_t size;     /* the whole basis' size: the last block may be short */
  uint64_t blength;
  size_t s2length;
  uint32_t seed;
  uint64_t first;    /* blocks [first, end) */
  uint64_t end;
  uint8_t *out;      /* where block `first`'s sums go */
  int err;           /* 0, or the errno of a failed read */
};

/* Reads len bytes at pos into buf; zeros after the file's end. 0 or the errno of a failed read. */
static int read_span(int fd, uint8_t *buf, size_t len, uint64_t pos)
{
  ssize_t got = pread_full(fd, buf, len, pos);
  if (got < 0)
    return (int)-got;
  memset(buf + got, 0, len - (size_t)got);
  return 0;
}

static void *sum_half(void *arg)
{
  struct half *h = arg;
  size_t per = 4 + h->s2length;
  uint64_t blocks_per_span = SPAN / h->blength ? SPAN / h->blength : 1;
  uint8_t *buf = malloc((size_t)(blocks_per_span * h->blength));
  if (!buf) {
    h->err = ENOMEM;
    return NULL;
  }
  uint8_t *w = h->out, sum[16];
  for (uint64_t b = h->first; b < h->end && !h->err;) {
    uint64_t m = h->end - b < blocks_per_span ? h->end - b : blocks_per_span;
    uint64_t pos = b * h->blength;
    size_t len = (size_t)((pos + m * h->blength > h->size ? h->size : pos + m * h->blength) - pos);
    h->err = read_span(h->fd, buf, len, pos);
    for (size_t off = 0; off < len && !h->err; off += (size_t)h->blength, w += per) {
      size_t bl = len - off < h->blength ? len - off : (size_t)h->blength;
      uint32_t c1 = sum_weak(buf + off, bl);
      for (int i = 0; i < 4; i++)
        w[i] = (uint8_t)(c1 >> (8 * i));
      sum_strong(h->kind, buf + off, bl, h->seed, sum);
      memcpy(w + 4, sum, h->s2length);
    }
    b += m;
  }
  free(buf);
  return NULL;
}

napi_value sum_file_blocks(napi_env env, napi_callback_info info)
{
  ARGS(7);
  int64_t kind, fd, size, blength, s2length, seed;
  const uint8_t *o;
  uint32_t olen;
  if (!arg_int64(env, argv[0], &kind) || kind < 0 || kind > 3 || !arg_int64(env, argv[1], &fd) || fd < 0 ||
      !arg_int64(env, argv[2], &size) || size < 0 || !arg_int64(env, argv[3], &blength) || blength < 1 ||
      !arg_int64(env, argv[4], &s2length) || s2length < 0 || (size_t)s2length > SUM_LEN[kind] ||
      !arg_int64(env, argv[5], &seed) || !arg_buffer(env, argv[6], &o, &olen)) {
    napi_throw_type_error(env, NULL, "sumFileBlocks(kind, fd, size, blength, s2length, seed, out): kind 0-3, blength > 0, s2length within the sum");
    return NULL;
  }
  uint64_t count = ((uint64_t)size + (uint64_t)blength - 1) / (uint64_t)blength;
  size_t per = 4 + (size_t)s2length;
  if (count > olen / per) {
    napi_throw_range_error(env, NULL, "sumFileBlocks: out is too short for the sums");
    return NULL;
  }
  struct half h[2];
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  int n = (uint64_t)size >= THREADED_FROM && cpus > 1 && count > 1 ? 2 : 1;
  for (int i = 0; i < n; i++) {
    uint64_t first = count * (uint64_t)i / (uint64_t)n, end = count * (uint64_t)(i + 1) / (uint64_t)n;
    h[i] = (struct half){(int)fd, (int)kind, (uint64_t)size, (uint64_t)blength, (size_t)s2length, (uint32_t)seed,
                         first, end, (uint8_t *)o + first * per, 0};
  }
  pthread_t other;
  /* The second half on a thread of its own, the first on this one; without a thread, both here. */
  bool threaded = n == 2 && pthread_create(&other, NULL, sum_half, &h[1]) == 0;
  sum_half(&h[0]);
  if (threaded)
    pthread_join(other, NULL);
  else if (n == 2)
    sum_half(&h[1]);
  int err = h[0].err ? h[0].err : n == 2 ? h[1].err : 0;
  napi_value out;
  if (err)
    napi_create_int32(env, -err, &out);
  else
    napi_create_double(env, (double)count, &out);
  return out;
}
