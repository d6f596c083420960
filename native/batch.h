/* The binary batch layout of src/engine/batch.ts and the shared constants of src/engine/types.ts,
 * decoded in place: the addon reads a whole batch without touching one JS object per field.
 * Any change here must be made on the TypeScript side too (and the other way round).
 *
 * Each op, little-endian, starting on an 8-byte boundary:
 *   0 u8 kind  1 u8 flags  2 u16 xrulesLen  4 u32 srcLen  8 u32 dstLen  12 u32 mode  16 u32 uid
 *   20 u32 gid  24 u32 mtimeNsec  28 u32 anchor  32 f64 size  40 f64 mtimeSec  48 f64 ino  56 f64 dev
 *   64 f64 rdev  72 f64 atimeSec (whole seconds, -U)
 *   80 src bytes, dst bytes, [target bytes], [xrules bytes], zero padding to a multiple of 8.
 * anchor: how many leading bytes of src are the operator's part (followed); the rest is resolved
 * beneath it without symlinks (0: src's own directory). Target bytes (OF_TARGET, Symlink ops only):
 * the link target the planner judged, `size` bytes long (a symlink's size is its target's length).
 * Xrules bytes (xrulesLen of them): the entry's own x-rules, when they are not the context's (xfilter.h
 * "An op's views"): rules, each a bits byte (< XV_GEN) and a NUL-terminated pattern, and at most one
 * XV_GEN byte between the sending side's rules and the generator's. */
#ifndef ARSYNC_BATCH_H
#define ARSYNC_BATCH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "batch.ts writes little-endian fields; this decoder reads them natively"
#endif

/* OpKind */
enum op_kind {
  OP_FILE = 1,
  OP_SYMLINK = 2,
  OP_SPECIAL = 3,
  OP_HARDLINK = 4,
  OP_MKDIR = 5,
  OP_DIRMETA = 6,
  OP_ATTRS = 7,
  OP_DELETE = 8,
  OP_LINKFROM = 9,
  OP_BACKUP = 10,
  OP_DELAYED = 11, /* --delay-updates: the file waiting in dst's partial dir renamed over dst */
  OP_PARTIAL_USED = 12, /* --partial-dir: dst is current; its waiting partial file removed */
};
#define OP_KIND_MAX OP_PARTIAL_USED

/* OpFlag (byte 1 of an op header) */
enum op_flag {
  OF_FOLLOW_SOURCE = 1u << 0,
  OF_OWNER_WRITE_ONLY = 1u << 0, /* Delete (OF_FOLLOW_SOURCE's bit, read only by ops with a source): the entry stays; only owner write is given (ops.c do_delete) */
  OF_DELETION_BACKUP = 1u << 0,  /* Backup (the same bit): a deletion's; the entry gets owner write before it moves (backup.c make_backup) */
  OF_COMPARE = 1u << 1,
  OF_REMOVE_SOURCE = 1u << 2,
  OF_BACKUP_KEEP = 1u << 3,  /* Backup: the next op replaces dst; leave dst in place (link or copy) */
  OF_GIVEN_MODE = 1u << 3,   /* File, Special without -p (OF_BACKUP_KEEP's bit, read only by Backup ops): the op's mode is the entry's (dest_mode worked out by the planner) */
  OF_AFTER_BACKUP = 1u << 4, /* run only if the Backup op just before succeeded */
  OF_BASIS = 1u << 5,        /* src is an alt-dest basis file: no symlink followed, identity checked */
  OF_TARGET = 1u << 6,       /* Symlink: the judged target follows dst (size = its length) */
  OF_DEVICE = 1u << 7,       /* File: the source is a char/block device copied as a file of op size bytes (--copy-devices) */
  OF_OWNER_BITS = 1u << 7,   /* Mkdir, DirMeta (OF_DEVICE's bit, read only by File ops): a directory filled with all of the owner's bits (ops.c owner_bits_mode) */
  OF_OWNER_WRITE = 1u << 7,  /* Delete, a deletion's Backup (the same bit): inside a directory whose contents go, which may be made writable (ops.h parent_open_up) */
  OF_SETGID = 1u << 1,       /* Mkdir (OF_COMPARE's bit, read only by File ops): the directory's set-gid bit made op mode's at its visit (ops.c visit_setgid) */
  OF_VISIT_ACL = 1u << 3,    /* Mkdir (OF_GIVEN_MODE's bit, read only by File, Special and Backup ops): -A without -p: the source's default ACL set at the visit (ops.c visit_default_acl) */
};

/* Outcome (run()'s optional outcomes array, one byte per op) */
enum outcome {
  OUT_NOT_RUN = 0,
  OUT_DONE = 1,
  OUT_EQUAL = 2,
  OUT_FAILED = 3,
};

/* Preserve (EngineOptions.flags) */
enum preserve {
  P_PERMS = 1u << 0,
  P_OWNER = 1u << 1,
  P_GROUP = 1u << 2,
  P_TIMES = 1u << 3,
  P_XATTRS = 1u << 4,
  P_ACLS = 1u << 5,
  P_DEVICES = 1u << 6,
  P_SPECIALS = 1u << 7,
  P_SPARSE = 1u << 8,
  P_INPLACE = 1u << 9,
  P_PARTIAL = 1u << 10,
  P_KEEP_DIRLINKS = 1u << 11,
  P_OMIT_DIR_TIMES = 1u << 12, /* -O: directories' mtimes are left alone */
  P_FSYNC = 1u << 13,          /* --fsync: fsync each written file before its rename or close */
  P_PREALLOCATE = 1u << 14,    /* --preallocate: fallocate the file's size before its data */
  P_APPEND = 1u << 15,         /* --append (with P_INPLACE): a shorter target keeps its bytes, the rest is written after */
  P_APPEND_VERIFY = 1u << 16,  /* --append-verify: the kept bytes must match the source, else the whole file is written */

  P_REFLINK_NEVER = 1u << 17,  /* --reflink=never: no FICLONE (neither bit: auto) */
  P_REFLINK_ALWAYS = 1u << 18, /* --reflink=always: a file that cannot be cloned fails */
  P_EXECUTABILITY = 1u << 19,  /* -E without -p: a file's x bits follow the source's (dest_mode) */
  P_OMIT_LINK_TIMES = 1u << 20, /* -J: symlinks' mtimes are left alone */
  P_ATIME_ON_READ = 1u << 21,   /* --no-open-noatime: sources opened without O_NOATIME */
  P_ATIMES = 1u << 22,          /* -U: access times of non-directories set (whole seconds) */
  P_UNMUNGE_LINKS = 1u << 23,   /* --munge-links, sending side: "/rsyncd-munged/" dropped from targets */
  P_SUPER = 1u << 24,    /* --super: act as root (owners, trusted.* xattrs) even when not root */
  P_NO_SUPER = 1u << 25, /* --no-super: do not act as root even as root */
  P_DELAY_UPDATES = 1u << 26, /* --delay-updates: finished files wait in the partial dir for OP_DELAYED */
  P_FAKE_SUPER = 1u << 27,  /* --fake-super receiving: owners, set-id bits and types kept in user.rsync.%stat (fakesuper.h) */
  P_FAKE_SOURCE = 1u << 28, /* --fake-super sending: a Symlink op's target is the op's (the source may be a fake one) */
  P_WRITE_DEVICES = 1u << 29, /* --write-devices (with P_INPLACE): a char/block device target is written into, never replaced */
  P_ADOPT_SOURCE = 1u << 30, /* a pull: File ops' sources are this process's staged files, linked in as the temp (adopt.c) */
};
/* -XX: rsync's own user.rsync.% records copied and compared too (meta.c side_class). A macro, not an enum
 * constant: C11 enum constants must fit an int, and bit 31 does not (-pedantic rejects it). */
#define P_XATTRS_ALL (1u << 31)
#define P_ALL 0xffffffffu
/* rsync's SYMLINK_PREFIX (src/util/munge.ts MUNGE_PREFIX) */
#define MUNGE_PREFIX "/rsyncd-munged/"
#define MUNGE_PREFIX_LEN 15

/* Counter slots */
enum counter {
  C_FILES = 0,
  C_DIRS = 1,
  C_BYTES = 2,
  C_SYMLINKS = 3,
  C_SPECIALS = 4,
  C_HARDLINKS = 5,
  C_ERRORS = 6,
  C_ABORT = 7,
  C_SKIPPED = 8,
  C_DELETED = 9,
  C_BW_RATE = 10, /* --bwlimit in bytes per second, 0 = none (set by the main thread before the run) */
  C_BW_NEXT = 11, /* the rate meter: CLOCK_MONOTONIC ns at which the data written so far is paid for */
  /* 12-14 belong to the run's clock (src/run/clock.ts ClockSlot), 15 is free */
  C_CURRENT = 16, /* --progress: the file op copying data now, (op index + 1) << CURRENT_SHIFT | its bytes so far */
  C_BATCH = 17,   /* --progress: the batch a worker runs now (its number, set by the TypeScript worker; C never writes it) */
  C_USED = 18, /* slots C touches; the array must be at least this long */
  COUNTER_SLOTS = 24,
};

/* C_CURRENT's packing: one 64-bit store, so the main thread never reads an index with another op's bytes.
 * 48 bits of bytes (256 TiB), 15 of op index + 1 (batches hold at most 256 ops). */
#define CURRENT_SHIFT 48

#define OP_HEADER 80u

struct op {
  uint32_t index;
  uint8_t kind, flags;
  uint32_t src_len, dst_len, anchor, target_len, xrules_len;
  const uint8_t *src, *dst, *target; /* not NUL-terminated: they point into the batch */
  const uint8_t *xrules;             /* xrules_len bytes (none: the context's x-rules) */
  uint32_t mode, uid, gid, mtime_nsec;
  /* Kept as doubles: the walk encoded ino/dev as doubles, so identity is compared in that domain. */
  double size, mtime_sec, ino, dev, rdev, atime_sec;
};

static inline uint32_t batch_u32(const uint8_t *p)
{
  uint32_t v;
  memcpy(&v, p, sizeof v);
  return v;
}

static inline uint32_t batch_u16(const uint8_t *p)
{
  uint16_t v;
  memcpy(&v, p, sizeof v);
  return v;
}

/* The byte between an op's two views of its x-rules (xfilter.h), above every rule's bits. */
#define XV_GEN 0x80u

/* Whether an op's xrules bytes are well formed: each rule a bits byte below XV_GEN and a pattern that
 * ends in a NUL inside them, one XV_GEN byte at most. */
static inline int batch_xrules_ok(const uint8_t *p, uint32_t len)
{
  int seps = 0;
  for (uint32_t i = 0; i < len;) {
    if (p[i] == XV_GEN) {
      if (++seps > 1)
        return 0;
      i++;
      continue;
    }
    if (p[i] > 31) /* the XR_* bits (xfilter.h) */
      return 0;
    const uint8_t *nul = memchr(p + i + 1, 0, len - i - 1);
    if (!nul)
      return 0;
    i = (uint32_t)(nul - p) + 1;
  }
  return 1;
}

static inline double batch_f64(const uint8_t *p)
{
  double v;
  memcpy(&v, p, sizeof v);
  return v;
}

/* Decodes the op at *off and advances past it (header + paths + padding to 8).
 * Returns 1 for an op, 0 at the end, -1 when the bytes are not a well-formed batch. */
static inline int batch_next(const uint8_t *b, size_t len, size_t *off, struct op *op)
{
  size_t o = *off;
  if (o == len)
    return 0;
  if (o > len || len - o < OP_HEADER)
    return -1;
  const uint8_t *h = b + o;
  op->kind = h[0];
  op->src_len = batch_u32(h + 4);
  op->dst_len = batch_u32(h + 8);
  op->flags = h[1];
  op->size = batch_f64(h + 32);
  op->target_len = 0;
  if (op->flags & OF_TARGET) {
    /* A link target: below PATH_MAX, a whole number of bytes, on Symlink ops only. */
    if (h[0] != OP_SYMLINK || !(op->size >= 0 && op->size < 4096) || op->size != (double)(uint32_t)op->size)
      return -1;
    op->target_len = (uint32_t)op->size;
  }
  op->xrules_len = batch_u16(h + 2);
  uint64_t body = (uint64_t)op->src_len + op->dst_len + op->target_len + op->xrules_len;
  uint64_t need = OP_HEADER + ((body + 7) & ~(uint64_t)7);
  if (need > len - o || op->kind < OP_FILE || op->kind > OP_KIND_MAX)
    return -1;
  op->anchor = batch_u32(h + 28);
  op->mode = batch_u32(h + 12);
  op->uid = batch_u32(h + 16);
  op->gid = batch_u32(h + 20);
  op->mtime_nsec = batch_u32(h + 24);
  op->mtime_sec = batch_f64(h + 40);
  op->ino = batch_f64(h + 48);
  op->dev = batch_f64(h + 56);
  op->rdev = batch_f64(h + 64);
  op->atime_sec = batch_f64(h + 72);
  op->src = h + OP_HEADER;
  op->dst = op->src + op->src_len;
  op->target = op->dst + op->dst_len;
  op->xrules = op->target + op->target_len;
  if (op->xrules_len && !batch_xrules_ok(op->xrules, op->xrules_len))
    return -1;
  *off = o + (size_t)need;
  return 1;
}

#endif
