/* io_uring set-up: one ring per context, created on the context's thread (SINGLE_ISSUER and
 * DEFER_TASKRUN require that, and it keeps completions on the thread that waits for them), plus a
 * registered buffer area allocated once and handed out in units, so that a 3 KiB file does not pin
 * a whole 1 MiB buffer and nothing is allocated per chunk. */
#include "ring.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>

static const int needed_ops[] = {
  IORING_OP_OPENAT, IORING_OP_READ_FIXED, IORING_OP_WRITE_FIXED, IORING_OP_READ, IORING_OP_WRITE, IORING_OP_CLOSE, IORING_OP_RENAMEAT,
};

/* Kernels that have io_uring but not the opcodes we use (before 5.11) count as "no io_uring". */
static int check_ops(struct io_uring *ring)
{
  struct io_uring_probe *p = io_uring_get_probe_ring(ring);
  if (!p)
    return ENOSYS;
  int e = 0;
  for (size_t i = 0; i < sizeof needed_ops / sizeof needed_ops[0]; i++)
    if (!io_uring_opcode_supported(p, needed_ops[i]))
      e = ENOSYS;
  io_uring_free_probe(p);
  return e;
}

int ring_probe(void)
{
  struct io_uring ring;
  int r = io_uring_queue_init(4, &ring, 0);
  if (r < 0)
    return -r;
  int e = check_ops(&ring);
  io_uring_queue_exit(&ring);
  return e;
}

static int ring_setup(struct uring *u, unsigned depth)
{
  /* Newest first: one thread submits and reaps (SINGLE_ISSUER), completions run when we wait
   * instead of interrupting us (DEFER_TASKRUN), else at least without IPIs (COOP_TASKRUN). */
  static const unsigned tries[] = {
    IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_DEFER_TASKRUN,
    IORING_SETUP_COOP_TASKRUN,
    0,
  };
  int r = -EINVAL;
  for (size_t i = 0; i < sizeof tries / sizeof tries[0]; i++) {
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    /* Every file in flight can have several SQEs outstanding; a roomy CQ avoids overflow. */
    p.flags = tries[i] | IORING_SETUP_CQSIZE;
    p.cq_entries = depth * 8;
    r = io_uring_queue_init_params(depth, &u->ring, &p);
    if (r == 0) {
      u->setup_flags = tries[i];
      return 0;
    }
    if (r != -EINVAL)
      break;
  }
  return -r;
}

int ring_create(struct uring **out, unsigned depth, size_t bufsize, unsigned nbuf, const char **sys)
{
  *out = NULL;
  struct uring *u = calloc(1, sizeof *u);
  if (!u) {
    *sys = "malloc";
    return ENOMEM;
  }
  u->depth = depth;
  u->bufsize = bufsize;
  u->nbuf = nbuf;
  /* Units of at least a page (O_DIRECT alignment), at most 64 per buffer (one bitmap word). */
  u->unit = ((bufsize / 64 + 4095) / 4096) * 4096;
  if (u->unit < 4096)
    u->unit = 4096;
  u->upb = (unsigned)(bufsize / u->unit);
  int e = ring_setup(u, depth);
  if (e) {
    *sys = "io_uring_setup";
    free(u);
    return e;
  }
  e = check_ops(&u->ring);
  if (e) {
    *sys = "io_uring_setup";
    goto fail_ring;
  }
  u->memlen = bufsize * nbuf;
  u->mem = mmap(NULL, u->memlen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  u->used = calloc(nbuf, sizeof *u->used);
  struct iovec *iov = calloc(nbuf, sizeof *iov);
  if (u->mem == MAP_FAILED || !u->used || !iov) {
    e = ENOMEM;
    *sys = "mmap";
    free(iov);
    goto fail_mem;
  }
  for (unsigned i = 0; i < nbuf; i++)
    iov[i] = (struct iovec){.iov_base = u->mem + (size_t)i * bufsize, .iov_len = bufsize};
  int r = io_uring_register_buffers(&u->ring, iov, nbuf);
  free(iov);
  u->fixed = r == 0;
  /* No lockable memory left to this user (ENOMEM), or none allowed (EPERM): plain reads and writes of
   * the same buffers, a little slower, rather than no copy at all. */
  if (r < 0 && r != -ENOMEM && r != -EPERM) {
    e = -r;
    *sys = "io_uring_register";
    goto fail_mem;
  }
  *out = u;
  return 0;
fail_mem:
  if (u->mem && u->mem != MAP_FAILED)
    munmap(u->mem, u->memlen);
  free(u->used);
fail_ring:
  io_uring_queue_exit(&u->ring);
  free(u);
  return e;
}

void ring_destroy(struct uring *u)
{
  if (!u)
    return;
  /* queue_exit unregisters the buffers; nothing is in flight between run() calls. */
  io_uring_queue_exit(&u->ring);
  munmap(u->mem, u->memlen);
  free(u->used);
  free(u);
}

bool ring_buf_get(struct uring *u, size_t len, struct rbuf *out)
{
  unsigned k = (unsigned)((len + u->unit - 1) / u->unit);
  if (k == 0)
    k = 1;
  if (k >= u->upb || len > u->unit * u->upb)
    k = u->upb; /* whole buffer: also covers the tail beyond upb * unit */
  uint64_t mask = k >= 64 ? ~0ULL : ((1ULL << k) - 1);
  /* First fit packs small files into the low buffers and keeps whole buffers for big chunks. */
  for (unsigned b = 0; b < u->nbuf; b++) {
    uint64_t used = u->used[b];
    if (k == u->upb) {
      if (used)
        continue;
      u->used[b] = mask;
      *out = (struct rbuf){u->mem + (size_t)b * u->bufsize, (uint32_t)u->bufsize, (uint16_t)b, 0, (uint8_t)k};
      return true;
    }
    for (unsigned f = 0; f + k <= u->upb; f++) {
      if (used & (mask << f))
        continue;
      u->used[b] = used | (mask << f);
      *out = (struct rbuf){u->mem + (size_t)b * u->bufsize + (size_t)f * u->unit, (uint32_t)(k * u->unit),
                           (uint16_t)b, (uint8_t)f, (uint8_t)k};
      return true;
    }
  }
  return false;
}

void ring_buf_put(struct uring *u, const struct rbuf *b)
{
  uint64_t mask = b->units >= 64 ? ~0ULL : ((1ULL << b->units) - 1);
  u->used[b->index] &= ~(mask << b->first);
}

bool ring_reserve(struct uring *u, unsigned n)
{
  /* A link cut in two by a submit would run its second half unordered: flush first. The total in
   * flight stays within the CQ size (pipeline.c bounds SQEs per file), so -EBUSY is transient. */
  while (io_uring_sq_space_left(&u->ring) < n) {
    int r = io_uring_submit(&u->ring);
    if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY)
      return false;
  }
  return true;
}
