/* The per-thread engine context and the per-op job state shared by the op modules (ops.c, exec.c,
 * dest.c, source.c, temp.c, copy.c, meta.c, backup.c) and pipeline.c. A context belongs to the thread
 * (napi_env) that created it: nothing in the addon is process-wide mutable but one fact about the
 * kernel (beneath.c: openat2 is missing), so piscina workers and the main thread never share state.
 * The one exception is runAsync (offthread.c): a sync context lent to a libuv pool thread for one batch,
 * during which its own thread may not touch it (`busy`). */
#ifndef ARSYNC_CONTEXT_H
#define ARSYNC_CONTEXT_H

#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "batch.h"
#include "errors.h"
#include "xfilter.h"

enum engine { ENGINE_SYNC = 0, ENGINE_URING = 1 };

/* Result of executing an op (or one step of it). */
enum { OP_OK = 0, OP_FAIL = -1, OP_ABORT = -2 };

/* An open destination directory, refcounted because in-flight uring ops keep using a parent after
 * the cache has moved on to the next directory. */
struct parent {
  int fd;
  int refs;
  bool borrowed; /* the root: its fd belongs to the context */
  uint32_t anchor; /* source parents: the anchor length they were resolved beneath */
  uint8_t inherit; /* destination parents: what a new file takes from it (0 not looked; else 1, plus
                    * 2 for a default ACL): adopt.c */
  uint8_t unnamed; /* destination parents: whether new files may be made unnamed here (temp.c
                    * temp_open_new; 0 not looked, 1 yes, 2 no) */
  uint32_t len;
  uint8_t path[]; /* destination-relative, not NUL-terminated */
};

struct uring; /* ring.h */

struct ctx {
  enum engine engine;
  int rootfd;            /* O_PATH|O_DIRECTORY on destRoot */
  struct parent *root;   /* rootfd as a parent ("" prefix) */
  struct parent *cache;  /* the last resolved parent, one reference held */
  struct parent *srccache; /* the last resolved source parent (source.c), one reference held */
  struct parent *srcanchor; /* the last source anchor opened (source.c): the operand resolved once, as
                             * rsync's sender resolves it once when it changes into it */
  uint32_t flags;        /* Preserve bits */
  mode_t umask;
  bool direct;
  bool is_root;          /* euid == 0: owner and trusted.* xattrs can be set */
  int ngroups;           /* the groups we are a member of (-1: too many to hold: assume any) */
  gid_t groups[64];
  bool noatime;          /* O_NOATIME still worth trying (dropped after the first EPERM) */
  bool no_fchmodat2;     /* fchmodat2 is ENOSYS: fchmodat without AT_SYMLINK_NOFOLLOW */
  bool both_times;       /* the destination is FUSE: a time change names both times (meta.c) */
  bool noclone_known;    /* --reflink=auto: sources on noclone_dev cannot be cloned here (reflink.c) */
  dev_t noclone_dev;
  bool plainread_known;  /* whether sources on plainread_dev read alike with O_NONBLOCK (source.c) */
  bool plainread;
  dev_t plainread_dev;
  bool no_unnamed;       /* new files made by name for the rest of the run (temp.c temp_open_new) */
  bool link_asked;       /* whether temp_open_new asked the kernel if it links a file by its descriptor */
  uint64_t rng;          /* temp-name generator state */
  _Atomic int64_t *counters; /* valid during run() only */
  napi_ref counters_ref;
  uint8_t *iobuf;        /* sync data path buffer (for uring: the start of the registered area) */
  size_t bufsize;
  char *xnames, *xval;   /* xattr scratch, grown on demand */
  size_t xnames_cap, xval_cap;
  struct failures fails;
  uint8_t *outcomes;     /* run()'s optional outcome bytes, valid during run() only */
  size_t noutcomes;
  uint8_t *temps;        /* the outcome bytes' temp-name part (6 per op), NULL when not asked for */
  size_t ntemps;         /* ops it has room for */
  uint8_t *rootpath;     /* destRoot as given, without trailing slashes (Backup paths) */
  size_t rootlen;
  uint8_t *bpath;        /* --backup-dir as an absolute path, NUL-terminated; NULL: backups beside files */
  size_t blen;
  int brootfd;           /* the backup directory, held once opened (-1 before the first backup) */
  int backup_errno;      /* the last Backup op's errno (0: it succeeded), for OF_AFTER_BACKUP */
  char *tpath;           /* --temp-dir, absolute and resolved to hold no symlink; NULL: temps beside targets */
  int tdirfd;            /* the temp directory, held once opened (-1 before the first File op) */
  char *ppath;           /* --partial-dir: relative (per directory) or absolute and symlink-free; NULL: none */
  /* --link-dest/--compare-dest directories, absolute: a pair cursor hands on an unchanged file whose twin
   * there could be an exact match on another inode (scanpair.c twin_candidate); NULL-terminated or NULL. */
  char **twins;
  struct xfilter xf;     /* -X's name filter rules (xfilter.h); no rules: rsync's namespace rules alone */
  int pdirfd;            /* an absolute partial dir, held once opened (-1 before) */
  struct uring *ur;      /* NULL for the sync engine */
  bool closed;
  bool busy;             /* runAsync's batch runs on a pool thread: no other call may use the context */
};

/* One op being executed. */
struct job {
  struct ctx *c;
  const struct op *op;
  struct operr err;
  unsigned refused;       /* attributes the destination would not take, each reported; the op went on (meta.c) */
  int64_t bytes;          /* bytes counted so far (undone when an EMFILE retry starts over) */
  bool equal;             /* Compare found identical content: outcome Equal */
  bool device_out;        /* --write-devices: data goes into a device (no holes skipped, no truncation) */
  char temp[7];           /* the six letters of the temp file a File op made (empty: none), for -vvv */
};

static inline void set_outcome(struct ctx *c, uint32_t index, enum outcome o)
{
  if (index < c->noutcomes)
    c->outcomes[index] = (uint8_t)o;
}

/* A File op made its temp file `tmp`: its letters are reported with a Done outcome (temp_report). */
static inline void job_temp(struct job *j, const char *tmp)
{
  size_t n = strlen(tmp);
  if (n >= 6)
    memcpy(j->temp, tmp + n - 6, 7);
}

static inline int job_fail(struct job *j, int no, const char *sys, int where)
{
  j->err = (struct operr){.no = no, .sys = sys, .where = where};
  return OP_FAIL;
}

static inline void counter_add(struct ctx *c, enum counter slot, int64_t v)
{
  atomic_fetch_add_explicit(&c->counters[slot], v, memory_order_relaxed);
}

/* n more bytes of the op's data written: the run's total, and C_CURRENT for --progress's live line (a relaxed
 * store per chunk, with or without --progress: cheaper than asking). */
static inline void job_count(struct job *j, int64_t n)
{
  j->bytes += n;
  counter_add(j->c, C_BYTES, n);
  int64_t cur = ((int64_t)((j->op->index + 1) & 0x7fff) << CURRENT_SHIFT) | (j->bytes & ((1LL << CURRENT_SHIFT) - 1));
  atomic_store_explicit(&j->c->counters[C_CURRENT], cur, memory_order_relaxed);
}

static inline bool aborted(const struct ctx *c)
{
  return atomic_load_explicit(&c->counters[C_ABORT], memory_order_relaxed) != 0;
}

_Static_assert(sizeof(_Atomic int64_t) == sizeof(int64_t), "BigInt64Array slots must be plain int64");
_Static_assert(_Alignof(_Atomic int64_t) == _Alignof(int64_t), "BigInt64Array slots must be plain int64");

#endif
