/* The uring engine's batch executor. File ops run as small state machines in "slots": the source
 * open, READ_FIXED→WRITE_FIXED pairs (linked, so a chunk costs no extra round trip) on registered
 * memory, several chunks of a large file at once, then the closes. Every round submits what all
 * slots need and waits once. Steps io_uring has no opcode for (fstat, fchown, fchmod, xattrs,
 * futimens, SEEK_DATA) are plain syscalls between rounds, and so are the temp file's O_CREAT open
 * and the rename: io_uring always hands those to io-wq worker threads, which measured slower than
 * doing them inline (docs/native-notes.md). --reflink (auto by default) clones a file first (reflink.c);
 * otherwise same-filesystem files of 8 MiB and more go through
 * copy_file_range (extent sharing on XFS/btrfs, server-side copy on NFS), falling back to the ring.
 * Every other op (and -c and --inplace files) runs inline through the sync code, in batch order,
 * after waiting only for the files in flight that it depends on (must_wait). */
#include "pipeline.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "adopt.h"
#include "backup.h"
#include "copy.h"
#include "reflink.h"
#include "source.h"
#include "meta.h"
#include "partial.h"
#include "beneath.h"
#include "dest.h"
#include "exec.h"
#include "temp.h"
#include "ring.h"
#include "meter.h"

/* user_data = pointer | tag: slots and chunks are 8-byte aligned, so 3 low bits are free. */
enum tag { T_OPEN_SRC = 0, T_CLOSE_SRC, T_CLOSE_TMP, T_READ, T_WRITE };
#define TAG_MASK 7u

enum state { S_FREE = 0, S_OPEN, S_DATA, S_FINISH };

/* Chunks of one file in flight: enough to keep a device queue busy, few enough that one big file
 * does not starve the small ones; a file never has more than 8 SQEs out, which is what the CQ is
 * sized for (ring.c). */
#define MAX_CHUNKS 4
/* Files at least this large try copy_file_range first. */
#define CFR_MIN (8u << 20)
/* --direct applies to files at least this large (smaller ones gain nothing from bypassing the cache). */
#define DIRECT_MIN (4u << 20)
#define DIO_ALIGN 4096u

struct slot;

struct chunk {
  struct slot *s;
  struct chunk *next; /* free list */
  struct rbuf buf;
  uint64_t off;
  uint32_t len;    /* bytes the chunk covers */
  uint32_t rlen;   /* bytes asked of the first read (len, or a whole O_DIRECT block at the tail) */
  uint32_t got;    /* bytes read so far: a short read is continued until len, only 0 is EOF */
  int32_t rres;    /* the last read's result */
  uint32_t wpos;   /* bytes of the chunk written or skipped (zero runs) */
  uint32_t wstart; /* where the write in flight starts */
  int pending;     /* SQEs in flight */
};

struct slot {
  enum state state;
  struct op op;
  struct job job;
  struct parent *p;
  struct parent *sp; /* the source's directory (NULL: src is its own anchor, opened by path) */
  int srcfd, tmpfd, src_flags;
  int tdir; /* where the temp is made: the target's directory, or the held --temp-dir */
  int res_src, res_close;
  unsigned pending; /* SQEs in flight, chunks' included */
  unsigned chunks;  /* chunks in flight */
  bool made, failed, done, data_done, sparse, skip_zero, direct, src_direct;
  bool placed; /* an unnamed temp (tmp "") already took its name, before its close */
  mode_t mode;
  struct stat st;
  struct stat as; /* an unnamed file as created (temp_open_new) */
  uint64_t size, next, data_end;
  int64_t counted; /* job.bytes when data started, for hole accounting */
  char name[NAME_MAX + 1], tmp[NAME_MAX + 1], src[PATH_MAX], sname[NAME_MAX + 1];
};

struct pipe {
  struct slot *slots;
  unsigned nslots, active;
  unsigned limit; /* files admitted at once: nslots, halved after each EMFILE drain */
  unsigned inflight; /* SQEs submitted or queued and not completed */
  struct chunk *chunks, *free_chunks;
  struct op *retry; /* EMFILE casualties, re-run once the pipeline has drained */
  size_t nretry, capretry;
  bool stop;
  bool broken; /* give_up() ran: the ring may still hold our SQEs, never touch it again */
};

int pipeline_create(struct ctx *c)
{
  struct uring *u = c->ur;
  struct pipe *P = calloc(1, sizeof *P);
  if (!P)
    return ENOMEM;
  P->nslots = P->limit = u->depth;
  P->slots = calloc(P->nslots, sizeof *P->slots);
  size_t nchunks = (size_t)u->nbuf * u->upb;
  P->chunks = calloc(nchunks, sizeof *P->chunks);
  if (!P->slots || !P->chunks) {
    free(P->slots);
    free(P->chunks);
    free(P);
    return ENOMEM;
  }
  for (size_t i = 0; i < nchunks; i++)
    P->chunks[i].next = i + 1 < nchunks ? &P->chunks[i + 1] : NULL;
  P->free_chunks = P->chunks;
  u->pipe = P;
  return 0;
}

void pipeline_destroy(struct ctx *c)
{
  struct pipe *P = c->ur ? c->ur->pipe : NULL;
  if (!P)
    return;
  free(P->slots);
  free(P->chunks);
  free(P->retry);
  free(P);
  c->ur->pipe = NULL;
}

static void tag_sqe(struct pipe *P, struct io_uring_sqe *sqe, void *p, enum tag t, unsigned flags)
{
  io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)p | t);
  sqe->flags |= (uint8_t)flags;
  P->inflight++;
}

/* The first error is the one reported; later ones are consequences. */
static void slot_fail(struct slot *s, int no, const char *sys, int where)
{
  if (!s->failed) {
    s->failed = true;
    s->job.err = (struct operr){.no = no, .sys = sys, .where = where};
  }
}

/* The source ended before its size: the rule and its report live in copy.c. */
static void slot_fail_short(struct slot *s)
{
  if (!s->failed) {
    s->failed = true;
    copy_fail_short(&s->job);
  }
}

static bool reserve(struct ctx *c, struct slot *s, unsigned n)
{
  if (ring_reserve(c->ur, n))
    return true;
  slot_fail(s, EBUSY, "io_uring_enter", W_DST);
  return false;
}

static void submit_open_src(struct ctx *c, struct pipe *P, struct slot *s)
{
  if (!reserve(c, s, 1))
    return;
  struct io_uring_sqe *sqe = io_uring_get_sqe(&c->ur->ring);
  /* Beneath the source's directory, held since start_file (source.c): never through a symlink. */
  io_uring_prep_openat(sqe, s->sp ? s->sp->fd : AT_FDCWD, s->sp ? s->sname : s->src, s->src_flags, 0);
  tag_sqe(P, sqe, s, T_OPEN_SRC, 0);
  s->pending++;
}

static void chunk_release(struct ctx *c, struct pipe *P, struct chunk *ch)
{
  ring_buf_put(c->ur, &ch->buf);
  ch->s->chunks--;
  ch->next = P->free_chunks;
  P->free_chunks = ch;
}

/* The rest of a chunk after a short read, at the new offset, into the rest of its buffer. O_DIRECT
 * needs block-aligned offsets: after a short read that is not a whole number of blocks (FUSE, NFS),
 * the source is read through the page cache from here on. */
static void chunk_continue(struct ctx *c, struct pipe *P, struct chunk *ch)
{
  struct slot *s = ch->s;
  if (s->src_direct && (ch->got & (DIO_ALIGN - 1))) {
    if (fcntl(s->srcfd, F_SETFL, s->src_flags & O_NOATIME) < 0) {
      slot_fail(s, errno, "read", W_SRC);
      chunk_release(c, P, ch);
      return;
    }
    s->src_direct = false;
  }
  if (!reserve(c, s, 1)) {
    chunk_release(c, P, ch);
    return;
  }
  struct io_uring_sqe *sqe = io_uring_get_sqe(&c->ur->ring);
  ring_prep_read(c->ur, sqe, s->srcfd, ch->buf.addr + ch->got, ch->rlen - ch->got, ch->off + ch->got, ch->buf.index);
  tag_sqe(P, sqe, ch, T_READ, 0);
  ch->pending++;
  s->pending++;
}

/* A chunk whose SQEs have all completed: read the rest of it, write what is left of it, or retire it. */
static void chunk_step(struct ctx *c, struct pipe *P, struct chunk *ch)
{
  struct slot *s = ch->s;
  if (s->failed || P->stop) {
    chunk_release(c, P, ch);
    return;
  }
  if (ch->rres < 0) {
    slot_fail(s, -ch->rres, "read", W_SRC);
    chunk_release(c, P, ch);
    return;
  }
  if (ch->got < ch->len) {
    if (ch->rres == 0) {
      /* EOF before the size fstat gave: the source shrank (or its fs promised more than it has). */
      slot_fail_short(s);
      chunk_release(c, P, ch);
      return;
    }
    /* A short read (the linked write was cancelled by it): ask for the rest. */
    ch->rres = 0;
    chunk_continue(c, P, ch);
    return;
  }
  uint32_t n = ch->len; /* an aligned --direct tail read may return more if the file grew: not copied */
  size_t a, b;
  if (ch->wpos < n && copy_next_run(ch->buf.addr, ch->wpos, n, s->skip_zero, &a, &b)) {
    if (!reserve(c, s, 1)) {
      chunk_release(c, P, ch);
      return;
    }
    if (s->direct && (b & (DIO_ALIGN - 1))) {
      /* O_DIRECT writes whole blocks: pad the tail with zeros, ftruncate cuts it off at the end. */
      size_t al = (b + DIO_ALIGN - 1) & ~(size_t)(DIO_ALIGN - 1);
      memset(ch->buf.addr + b, 0, al - b);
      b = al;
    }
    struct io_uring_sqe *sqe = io_uring_get_sqe(&c->ur->ring);
    ring_prep_write(c->ur, sqe, s->tmpfd, ch->buf.addr + a, (unsigned)(b - a), ch->off + a, ch->buf.index);
    tag_sqe(P, sqe, ch, T_WRITE, 0);
    ch->wstart = (uint32_t)a;
    ch->pending++;
    s->pending++;
    return;
  }
  job_count(&s->job, n);
  chunk_release(c, P, ch);
  meter_charge(c, n);
}

static void on_cqe(struct ctx *c, struct pipe *P, uint64_t ud, int res)
{
  enum tag t = (enum tag)(ud & TAG_MASK);
  void *p = (void *)(uintptr_t)(ud & ~(uint64_t)TAG_MASK);
  P->inflight--;
  if (t == T_READ || t == T_WRITE) {
    struct chunk *ch = p;
    struct slot *s = ch->s;
    if (t == T_READ) {
      ch->rres = res;
      if (res > 0)
        ch->got += (uint32_t)res;
    } else if (res > 0) {
      ch->wpos = ch->wstart + (uint32_t)res;
    } else if (res == 0) {
      slot_fail(s, EIO, "write", W_DST); /* a regular file never does this: do not loop on it */
    } else if (res != -ECANCELED) {
      slot_fail(s, -res, "write", W_DST);
    }
    ch->pending--;
    s->pending--;
    if (ch->pending == 0)
      chunk_step(c, P, ch);
    return;
  }
  struct slot *s = p;
  s->pending--;
  switch (t) {
  case T_OPEN_SRC:
    s->res_src = res;
    break;
  case T_CLOSE_TMP:
    s->res_close = res;
    break;
  default: /* T_CLOSE_SRC: a read-only fd has nothing to report */
    break;
  }
}

/* Retires a slot whose SQEs have all completed: cleanup, then success, failure, retry or abort. */
static void slot_end(struct ctx *c, struct pipe *P, struct slot *s)
{
  if (s->srcfd >= 0)
    close(s->srcfd);
  if (s->tmpfd >= 0)
    close(s->tmpfd);
  s->srcfd = s->tmpfd = -1;
  if (s->made)
    temp_discard(&s->job, s->tdir, s->tmp, s->p->fd, s->name, s->mode);
  parent_put(c, s->p);
  s->p = NULL;
  parent_put(c, s->sp);
  s->sp = NULL;
  s->state = S_FREE;
  P->active--;
  int rc = s->failed ? OP_FAIL : s->done ? OP_OK : OP_ABORT;
  if (rc == OP_FAIL && fd_exhausted(s->job.err.no)) {
    /* Retried once the pipeline has drained, through the sync path (which then fails for good). */
    exec_uncount(&s->job);
    if (P->nretry == P->capretry) {
      size_t cap = P->capretry ? P->capretry * 2 : 16;
      struct op *r = realloc(P->retry, cap * sizeof *r);
      if (!r) {
        exec_finish(&s->job, rc);
        return;
      }
      P->retry = r;
      P->capretry = cap;
    }
    P->retry[P->nretry++] = s->op;
    return;
  }
  if (rc != OP_ABORT)
    exec_finish(&s->job, rc);
}

static void start_file(struct ctx *c, struct pipe *P, struct slot *s, const struct op *op)
{
  memset(s, 0, offsetof(struct slot, name));
  s->op = *op;
  s->job = (struct job){.c = c, .op = &s->op};
  s->srcfd = s->tmpfd = -1;
  s->name[0] = s->tmp[0] = 0;
  int e = zpath(op->src, op->src_len, s->src, sizeof s->src);
  int rc = e ? job_fail(&s->job, e, "open", W_SRC) : dest_parent(&s->job, op->dst, op->dst_len, &s->p, s->name);
  if (rc == OP_OK)
    rc = src_resolve_parent(&s->job, &s->sp, s->sname);
  if (rc != OP_OK) {
    parent_put(c, s->p);
    s->p = NULL;
    /* Nothing started: EMFILE here goes through the sync retry right away. */
    if (fd_exhausted(s->job.err.no))
      exec_op_sync(c, op, false);
    else
      exec_finish(&s->job, rc);
    return;
  }
  s->src_flags = src_file_flags(c, op);
  s->state = S_OPEN;
  P->active++;
  submit_open_src(c, P, s);
}

/* Copies a large file with copy_file_range as far as the kernel will; the ring path takes over
 * from where it stopped: from byte 0 when the kernel cannot do it for this pair of files (other
 * filesystems, EXDEV...), or after a 0 before the end (see copy_check_size). */
static void try_cfr(struct ctx *c, struct pipe *P, struct slot *s)
{
  uint64_t pos = 0;
  while (pos < s->size) {
    if (aborted(c)) {
      P->stop = true;
      return;
    }
    loff_t oi = (loff_t)pos, oo = (loff_t)pos;
    size_t piece = meter_piece(c, CFR_MIN);
    size_t want = s->size - pos < piece ? (size_t)(s->size - pos) : piece;
    ssize_t n = copy_file_range(s->srcfd, &oi, s->tmpfd, &oo, want, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && !(pos == 0 && copy_cfr_unsupported(errno)))
      slot_fail(s, errno, "copy_file_range", copy_dest_errno(errno) ? W_DST : W_SRC);
    if (n == 0 && pos > 0 && copy_check_size(&s->job, s->srcfd, s->size) != OP_OK)
      s->failed = true;
    if (n <= 0)
      break;
    pos += (uint64_t)n;
    job_count(&s->job, n);
    meter_charge(c, n);
  }
  s->next = pos;
  s->data_done = pos >= s->size;
}

/* --direct on both fds of a large file; stays buffered where the filesystem refuses O_DIRECT. */
static bool try_direct(struct slot *s)
{
  int keep = s->src_flags & O_NOATIME;
  if (fcntl(s->srcfd, F_SETFL, keep | O_DIRECT) < 0)
    return false;
  if (fcntl(s->tmpfd, F_SETFL, O_DIRECT) < 0) {
    if (fcntl(s->srcfd, F_SETFL, keep) < 0)
      slot_fail(s, errno, "open", W_SRC);
    return false;
  }
  return true;
}

/* Source and temp are open: check the source, then plan the data. */
static void begin_data(struct ctx *c, struct pipe *P, struct slot *s)
{
  if (src_check(&s->job, s->srcfd, s->src_flags, S_IFREG, &s->st) != OP_OK) {
    s->failed = true;
    return;
  }
  s->size = (uint64_t)s->st.st_size;
  temp_preallocate(c, s->tmpfd, (off_t)s->size);
  s->sparse = copy_want_sparse(c, &s->st);
  s->skip_zero = (c->flags & P_SPARSE) != 0;
  s->next = 0;
  s->data_end = s->sparse ? 0 : s->size;
  s->counted = s->job.bytes;
  s->state = S_DATA;
  int cloned = reflink_try(&s->job, s->srcfd, s->tmpfd, &s->st, s->skip_zero);
  if (cloned < 0) {
    s->failed = true;
    return;
  }
  if (cloned == 1) { /* the data is there, holes and all */
    s->sparse = s->skip_zero = false;
    s->next = s->data_end = s->size;
    s->data_done = true;
    return;
  }
  bool plain = !s->sparse && !s->skip_zero;
  if (plain && c->direct && s->size >= DIRECT_MIN)
    s->direct = s->src_direct = try_direct(s);
  else if (plain && s->size >= CFR_MIN && reflink_cfr_allowed(c))
    try_cfr(c, P, s);
}

/* Queues reads (with their linked writes) while buffers and the per-file limit allow. */
static void issue_chunks(struct ctx *c, struct pipe *P, struct slot *s)
{
  struct uring *u = c->ur;
  while (!s->data_done && !s->failed && s->chunks < MAX_CHUNKS) {
    if (s->next >= s->data_end) {
      if (s->next >= s->size) {
        s->data_done = true;
        break;
      }
      off_t d = lseek(s->srcfd, (off_t)s->next, SEEK_DATA);
      if (d < 0 && errno == ENXIO) {
        s->data_done = true; /* only a hole is left */
        break;
      }
      if (d < 0 && errno == EINVAL) { /* the filesystem cannot tell: copy everything */
        s->data_end = s->size;
        continue;
      }
      if (d < 0) {
        slot_fail(s, errno, "read", W_SRC);
        break;
      }
      if ((uint64_t)d >= s->size) {
        s->data_done = true;
        break;
      }
      off_t h = lseek(s->srcfd, d, SEEK_HOLE);
      if (h < 0) {
        slot_fail(s, errno, "read", W_SRC);
        break;
      }
      s->next = (uint64_t)d;
      s->data_end = (uint64_t)h < s->size ? (uint64_t)h : s->size;
    }
    uint64_t left = s->data_end - s->next;
    size_t piece = meter_piece(c, u->bufsize);
    uint32_t len = left < piece ? (uint32_t)left : (uint32_t)piece;
    /* An O_DIRECT tail is read as a whole block; its write waits for the read (no link). */
    uint32_t rlen = len;
    bool link = !s->skip_zero;
    if (s->direct && (len & (DIO_ALIGN - 1))) {
      rlen = (len + DIO_ALIGN - 1) & ~(DIO_ALIGN - 1);
      link = false;
    }
    struct chunk *ch = P->free_chunks;
    if (!ch || !ring_buf_get(u, rlen, &ch->buf))
      break; /* wait for a chunk in flight to give its memory back */
    unsigned need = link ? 2 : 1;
    if (!reserve(c, s, need)) {
      ring_buf_put(u, &ch->buf);
      break;
    }
    P->free_chunks = ch->next;
    *ch = (struct chunk){.s = s, .buf = ch->buf, .off = s->next, .len = len, .rlen = rlen};
    struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
    ring_prep_read(u, sqe, s->srcfd, ch->buf.addr, rlen, ch->off, ch->buf.index);
    /* With -S the bytes must be looked at before writing: no link then. */
    tag_sqe(P, sqe, ch, T_READ, link ? IOSQE_IO_LINK : 0);
    if (link) {
      sqe = io_uring_get_sqe(&u->ring);
      ring_prep_write(u, sqe, s->tmpfd, ch->buf.addr, len, ch->off, ch->buf.index);
      tag_sqe(P, sqe, ch, T_WRITE, 0);
    }
    ch->pending = (int)need;
    s->pending += need;
    s->chunks++;
    s->next += len;
  }
}

/* Data is complete: size, metadata, then both closes through the ring (the rename waits for the
 * temp's close, which can report a deferred write error). */
static void finish_data(struct ctx *c, struct pipe *P, struct slot *s)
{
  /* SEEK_DATA sees a source that shrank as a trailing hole: only its size tells them apart. */
  if (s->sparse && copy_check_size(&s->job, s->srcfd, s->size) != OP_OK) {
    s->failed = true;
    return;
  }
  if ((s->sparse || s->skip_zero || s->direct) && ftruncate(s->tmpfd, (off_t)s->size) < 0) {
    slot_fail(s, errno, "ftruncate", W_DST);
    return;
  }
  copy_count_holes(&s->job, s->counted, s->size);
  if (meta_file(&s->job, s->srcfd, s->tmpfd, s->mode, s->tmp[0] ? NULL : &s->as) != OP_OK || temp_fsync(&s->job, s->tmpfd, W_DST) != OP_OK) {
    s->failed = true;
    return;
  }
  if (!reserve(c, s, 2))
    return;
  if (!s->tmp[0]) {
    /* Unnamed (temp_open_new): it takes its name while its fd is open. In place or cleaned up. */
    s->made = false;
    if (temp_place_unnamed(&s->job, s->tmpfd, s->p, s->name, s->tmp) != OP_OK) {
      s->failed = true;
      return;
    }
    s->placed = true;
  }
  struct io_uring_sqe *sqe = io_uring_get_sqe(&c->ur->ring);
  io_uring_prep_close(sqe, s->srcfd);
  tag_sqe(P, sqe, s, T_CLOSE_SRC, 0);
  sqe = io_uring_get_sqe(&c->ur->ring);
  io_uring_prep_close(sqe, s->tmpfd);
  tag_sqe(P, sqe, s, T_CLOSE_TMP, 0);
  s->srcfd = s->tmpfd = -1; /* closing: never close them again */
  s->res_close = 0;
  s->pending += 2;
  s->state = S_FINISH;
}

/* Moves a slot on as far as it can go without waiting. */
static void pump(struct ctx *c, struct pipe *P, struct slot *s)
{
  if (s->state == S_OPEN) {
    if (s->pending)
      return;
    int e = -s->res_src;
    if (s->res_src >= 0) {
      s->srcfd = s->res_src;
    } else if (e == EPERM && (s->src_flags & O_NOATIME) && !P->stop) {
      /* O_NOATIME is refused on files we do not own: stop asking, for this file and the rest. */
      c->noatime = false;
      s->src_flags &= ~O_NOATIME;
      submit_open_src(c, P, s);
      return;
    } else {
      /* O_NOFOLLOW met a symlink where the walk saw a file: the entry changed. */
      slot_fail(s, e == ELOOP ? ESTALE : e, e == ELOOP ? "fstat" : "open", W_SRC);
    }
    /* The temp is created only once the source opened, so a vanished source costs nothing. */
    if (!s->failed && !P->stop) {
      s->tdir = temp_file_dir(&s->job, s->p->fd);
      /* The target's bits before the file is made: an unnamed one is created with them. */
      s->mode = meta_target_mode(&s->job, s->p->fd, s->name);
      int fd = s->tdir < 0 ? -1 : temp_open_new(c, s->p, s->tdir, s->name, s->tmp, s->mode, &s->as);
      if (s->tdir < 0)
        s->failed = true;
      else if (fd < 0)
        slot_fail(s, errno, "open", W_DST);
      s->tmpfd = fd;
      s->made = fd >= 0;
      if (s->made)
        job_temp(&s->job, s->tmp);
    }
    if (s->failed || P->stop) {
      slot_end(c, P, s);
      return;
    }
    begin_data(c, P, s);
    if (s->failed) {
      slot_end(c, P, s);
      return;
    }
  }
  if (s->state == S_DATA) {
    if (!s->failed && !P->stop)
      issue_chunks(c, P, s);
    if (s->failed || P->stop) {
      if (!s->pending)
        slot_end(c, P, s);
      return;
    }
    if (!s->data_done || s->chunks)
      return;
    finish_data(c, P, s);
    if (s->failed) {
      if (!s->pending)
        slot_end(c, P, s);
      return;
    }
  }
  if (s->state == S_FINISH) {
    if (s->pending)
      return;
    if (s->res_close < 0)
      slot_fail(s, -s->res_close, "close", W_DST);
    else if (!s->placed && partial_finish(&s->job, s->tdir, s->tmp, s->p->fd, s->name, s->mode) != OP_OK)
      s->failed = true;
    if (!s->failed) {
      s->made = false;
      s->done = true;
      counter_add(c, C_FILES, 1);
    }
    slot_end(c, P, s);
  }
}

/* File ops the pipeline runs; a pull's adopted files, -c, --inplace, basis-file (alt-dest) and --copy-devices copies go through the sync code. */
static bool pipelined(const struct ctx *c, const struct op *op)
{
  /* A source path beyond PATH_MAX cannot go to the ring's openat in one piece: the sync code opens
   * it through its directory chain (longpath.h). */
  return op->kind == OP_FILE && !(op->flags & (OF_COMPARE | OF_BASIS | OF_DEVICE)) && !(c->flags & P_INPLACE) && op->src_len < PATH_MAX &&
         !adopt_wanted(c, op); /* a pull's staged file is linked in (adopt.c), not copied */
}

/* p is dir itself or lies beneath it ("" is the root, above everything). */
static bool under(const uint8_t *p, uint32_t n, const uint8_t *dir, uint32_t dn)
{
  if (dn == 0)
    return true;
  return n >= dn && memcmp(p, dir, dn) == 0 && (n == dn || p[dn] == '/');
}

/* Whether op must wait for a file still in flight: one writing at or below op's target (a DirMeta
 * or a directory's Attrs must come after the renames into it; a Delete after what it deletes),
 * above it (a file being replaced by a directory), or, for Hardlink, the file it links to. Backup
 * may name any destination path, so it waits for everything. Independent ops overlap freely. */
static bool must_wait(const struct pipe *P, const struct op *op)
{
  if (P->active == 0)
    return false;
  if (op->kind == OP_BACKUP)
    return true;
  for (unsigned i = 0; i < P->nslots; i++) {
    const struct slot *s = &P->slots[i];
    if (s->state == S_FREE)
      continue;
    const struct op *o = &s->op;
    if (under(o->dst, o->dst_len, op->dst, op->dst_len) || under(op->dst, op->dst_len, o->dst, o->dst_len))
      return true;
    if (op->kind == OP_HARDLINK && under(o->dst, o->dst_len, op->src, op->src_len))
      return true;
  }
  return false;
}

static struct slot *free_slot(struct ctx *c, struct pipe *P)
{
  /* Under --bwlimit files go one at a time, in the batch's order, as rsync sends them: the rate is
   * the bottleneck, and a later file must not be read before an earlier one is written. */
  if (P->active >= P->limit || (P->active > 0 && meter_rate(c) > 0))
    return NULL;
  for (unsigned i = 0; i < P->nslots; i++)
    if (P->slots[i].state == S_FREE)
      return &P->slots[i];
  return NULL;
}

#define REAP_BATCH 64

static void reap(struct ctx *c, struct pipe *P)
{
  struct io_uring_cqe *cqes[REAP_BATCH];
  uint64_t ud[REAP_BATCH];
  int res[REAP_BATCH];
  for (;;) {
    unsigned n = io_uring_peek_batch_cqe(&c->ur->ring, cqes, REAP_BATCH);
    if (n == 0)
      return;
    /* Copy out and release the CQ slots first: handlers queue new SQEs (and may submit). */
    for (unsigned i = 0; i < n; i++) {
      ud[i] = cqes[i]->user_data;
      res[i] = cqes[i]->res;
    }
    io_uring_cq_advance(&c->ur->ring, n);
    for (unsigned i = 0; i < n; i++)
      on_cqe(c, P, ud[i], res[i]);
  }
}

/* Fails every active slot: the ring stopped working under us. Only reached on a kernel error we
 * cannot wait out; SQEs may still be in flight, so fds and buffers are leaked rather than reused,
 * and later runs on this context use the sync path. */
static void give_up(struct ctx *c, struct pipe *P, int e)
{
  for (unsigned i = 0; i < P->nslots; i++) {
    struct slot *s = &P->slots[i];
    if (s->state == S_FREE)
      continue;
    slot_fail(s, e, "io_uring_enter", W_DST);
    exec_fail(c, &s->op, s->job.err);
    s->state = S_FREE;
  }
  P->active = 0;
  P->broken = true;
}

int pipeline_run(struct ctx *c, const uint8_t *batch, size_t len)
{
  struct pipe *P = c->ur->pipe;
  if (P->broken)
    return exec_batch_sync(c, batch, len); /* the context still works, one file at a time */
  size_t off = 0;
  uint32_t idx = 0;
  struct op op;
  bool have = false, end = false;
  unsigned idle = 0;
  P->stop = false;
  P->nretry = 0;
  for (;;) {
    if (!P->stop && aborted(c))
      P->stop = true;
    /* Admit ops in batch order while slots are free and no barrier or retry is pending. */
    while (!P->stop && P->nretry == 0) {
      if (!have) {
        if (end || batch_next(batch, len, &off, &op) != 1) {
          end = true;
          break;
        }
        op.index = idx++;
        have = true;
      }
      if (must_wait(P, &op))
        break;
      if (!backup_gate(c, &op)) {
        have = false;
        continue;
      }
      if (pipelined(c, &op)) {
        struct slot *s = free_slot(c, P);
        if (!s)
          break;
        have = false;
        start_file(c, P, s, &op);
        continue;
      }
      have = false;
      if (exec_op_sync(c, &op, true) == OP_ABORT || aborted(c))
        P->stop = true;
    }
    for (unsigned i = 0; i < P->nslots; i++)
      if (P->slots[i].state != S_FREE)
        pump(c, P, &P->slots[i]);
    if (P->active == 0) {
      if (P->nretry) {
        /* The pipeline has drained and released its fds: one more try each, in order. The fd
         * limit is what it is, so keep fewer files open from now on. */
        parents_release_all(c);
        P->limit = P->limit > 1 ? P->limit / 2 : 1;
        for (size_t i = 0; i < P->nretry; i++) {
          if (P->stop || aborted(c)) {
            P->stop = true;
            break;
          }
          if (exec_op_sync(c, &P->retry[i], false) == OP_ABORT)
            P->stop = true;
        }
        P->nretry = 0;
        continue;
      }
      if (P->stop || (end && !have))
        break;
      continue;
    }
    if (P->inflight == 0) {
      /* Active slots with nothing in flight only wait for memory released this round; a slot that
       * can never move would be a bug, and hanging a backup is worse than failing its files. */
      if (++idle > 1000) {
        give_up(c, P, EDEADLK);
        break;
      }
      continue;
    }
    idle = 0;
    int r = io_uring_submit_and_wait(&c->ur->ring, 1);
    if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY && r != -ETIME) {
      give_up(c, P, -r);
      break;
    }
    reap(c, P);
  }
  if (P->broken && !P->stop) {
    /* The ring failed mid-batch: finish the batch through the sync path. */
    for (size_t i = 0; i < P->nretry; i++)
      exec_op_sync(c, &P->retry[i], false);
    P->nretry = 0;
    if (have && exec_next_sync(c, &op) == OP_ABORT)
      return OP_ABORT;
    return exec_batch_from(c, batch, len, off, idx);
  }
  return P->stop ? OP_ABORT : OP_OK;
}
