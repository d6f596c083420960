/* io_uring set-up for one context (one thread) and its registered buffer area. */
#ifndef ARSYNC_RING_H
#define ARSYNC_RING_H

#include <liburing.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A piece of the registered area: `units` contiguous units of one registered buffer. */
struct rbuf {
  uint8_t *addr;
  uint32_t len;
  uint16_t index; /* registered buffer index for READ_FIXED/WRITE_FIXED */
  uint8_t first, units;
};

struct uring {
  struct io_uring ring;
  unsigned setup_flags; /* what io_uring_queue_init_params accepted, for docs and tests */
  uint8_t *mem;
  size_t memlen, bufsize, unit;
  unsigned nbuf, upb;   /* registered buffers, units per buffer (<= 64) */
  uint64_t *used;       /* per buffer: bitmap of units handed out */
  unsigned depth;       /* files in flight at most (queueDepth) */
  void *pipe;           /* pipeline.c's per-context state */
  /* The buffers are registered (READ_FIXED/WRITE_FIXED); false where registering them was refused for
   * want of lockable memory (RLIMIT_MEMLOCK, shared by every process of the user: several copies run
   * as one user at once, --copy-as's user among them), when the plain READ/WRITE ops serve instead. */
  bool fixed;
};

/* A read or write of registered memory into sqe: the fixed op where the buffers are registered. */
static inline void ring_prep_read(const struct uring *u, struct io_uring_sqe *sqe, int fd, void *addr, unsigned len,
                                  uint64_t off, int index)
{
  if (u->fixed)
    io_uring_prep_read_fixed(sqe, fd, addr, len, off, index);
  else
    io_uring_prep_read(sqe, fd, addr, len, off);
}

static inline void ring_prep_write(const struct uring *u, struct io_uring_sqe *sqe, int fd, const void *addr,
                                   unsigned len, uint64_t off, int index)
{
  if (u->fixed)
    io_uring_prep_write_fixed(sqe, fd, addr, len, off, index);
  else
    io_uring_prep_write(sqe, fd, addr, len, off);
}

/* Creates the ring on the calling thread and registers nbuf buffers of bufsize bytes.
 * Returns 0 or a positive errno with *sys naming the failing call. */
int ring_create(struct uring **out, unsigned depth, size_t bufsize, unsigned nbuf, const char **sys);
void ring_destroy(struct uring *u);

/* uringProbe: 0 when a ring with the opcodes we need can be set up on this thread, else an errno. */
int ring_probe(void);

/* Hands out registered memory for len bytes (at most bufsize); false when none is free now. */
bool ring_buf_get(struct uring *u, size_t len, struct rbuf *out);
void ring_buf_put(struct uring *u, const struct rbuf *b);

/* Makes room for n SQEs that must reach the kernel in the same submit (a link); after true,
 * n io_uring_get_sqe calls succeed. False only when the ring refuses submissions. */
bool ring_reserve(struct uring *u, unsigned n);

#endif
