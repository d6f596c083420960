/* scanTree: the quick check over a whole tree, on several threads, before the walk.
 *
 * A re-sync of a mostly unchanged tree is bound by the kernel's statx of both trees (rsync pays the same
 * two stats per entry). Here a few threads walk the source and its destination twin directory by
 * directory, with the same matching and quick check as scanPair, and report only the "dirty"
 * directories: those holding anything new, changed, extraneous or unreadable, or a subdirectory whose
 * own attributes differ. TypeScript then walks just those; everything in clean directories is counted.
 * A directory that is new on the destination is dirty in its parent and not entered here.
 *
 * scanTree(ctx, src: Buffer, destRel: Buffer, q: Float64Array[5] = [bits, window, resolutionNs,
 * threads, maxListed], or [..., recordLists], or [..., recordLists, direct, anchor, big, hardLinks])
 * → { dirty: [{ rel, self, names, meta, dmeta, extra, extraMeta, collapsed, ops, opCount, opBytes,
 * opReplaced }] sorted by rel ("" for the root itself; self: the directory's own lstat), counts:
 * Float64Array [dir, reg, link, dev, special, size] of the clean
 * directories' entries } or { errno, syscall } when the tree cannot be scanned this way (the caller then
 * walks it in full). Each dirty directory comes with its paired listing in scanPair's shape, so the
 * walk does not list and stat it a second time; `names` is absent when it could not be listed here, or
 * when it would hold more than maxListed entries (one chunk of the walk's cursor: a wide directory is
 * never held whole; the records and their answer are treedirty.c). Entries are stat'ed one at a time as
 * the sorted name lists are merged. With `direct` (1: new files, 2: new and changed files; src/run/direct.ts
 * decides when a run may), a listing's regular files the destination lacks, or has with other data, come
 * as the direct path's File ops (direct.h, `anchor`, `big` and `hardLinks` as pairDirect takes them)
 * instead of entries. */
#include "tree.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "args.h"
#include "beneath.h"
#include "context.h"
#include "ctxapi.h"
#include "errors.h"
#include "listing.h"
#include "quickcheck.h"
#include "source.h"
#include "streamlist.h"
#include "treedirty.h"

#define MAX_THREADS 16

struct shared {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  char **jobs; /* rel paths still to scan (a stack: depth-first keeps it short) */
  size_t njobs, capjobs;
  int busy;    /* threads working on a job */
  int error;   /* first hard error: the scan is abandoned */
  struct dirty_rec *dirty;
  size_t ndirty, capdirty;
  double counts[6];
  /* read-only */
  const char *src;
  size_t srclen;
  int srcfd;  /* the scanned source root: every directory below it is opened beneath it */
  int rootfd;
  struct quick q;
  size_t max_listed; /* a dirty directory's listing is handed back only up to this many entries */
  struct direct dcfg; /* the direct path's settings (its `on`: asked for; no paths, no ops) */
  const char *destrel; /* the destination path the scanned root maps to (the ops' names start with it) */
  uint32_t flags;
  struct sl_lists *lists; /* when asked: every directory's list recorded (streamlist.c) */
};

static bool push_job(struct shared *s, char *rel)
{
  if (s->njobs == s->capjobs) {
    size_t cap = s->capjobs ? s->capjobs * 2 : 256;
    char **j = realloc(s->jobs, cap * sizeof *j);
    if (!j)
      return false;
    s->jobs = j;
    s->capjobs = cap;
  }
  s->jobs[s->njobs++] = rel;
  return true;
}

static bool add_dirty(struct shared *s, struct dirty_rec *r)
{
  if (s->ndirty == s->capdirty) {
    size_t cap = s->capdirty ? s->capdirty * 2 : 64;
    struct dirty_rec *d = realloc(s->dirty, cap * sizeof *d);
    if (!d)
      return false;
    s->dirty = d;
    s->capdirty = cap;
  }
  s->dirty[s->ndirty++] = *r;
  return true;
}

static char *join_rel(const char *rel, const char *name)
{
  size_t a = strlen(rel), b = strlen(name);
  char *p = malloc(a + b + 2);
  if (!p)
    return NULL;
  if (a) {
    memcpy(p, rel, a);
    p[a++] = '/';
  }
  memcpy(p + a, name, b + 1);
  return p;
}

/* util/names.ts joinPath's rule: either part empty gives the other, and a first part ending in "/" takes
 * no second one (the walk's names for a directory's source and destination paths). */
static char *join_walk(const char *a, const char *b)
{
  size_t la = strlen(a), lb = strlen(b);
  if (!la || !lb)
    return strdup(la ? a : b);
  size_t sep = a[la - 1] == '/' ? 0 : 1;
  char *p = malloc(la + sep + lb + 1);
  if (!p)
    return NULL;
  memcpy(p, a, la);
  if (sep)
    p[la] = '/';
  memcpy(p + la + sep, b, lb + 1);
  return p;
}

/* A new or changed regular file of a dirty directory as a direct-path op (kept_direct), the directory's
 * two paths made at its first: 1 taken, 0 not (an entry then, or nothing when the listing was dropped),
 * -1 out of memory. */
static int take_direct(struct shared *s, struct kept *k, const char *rel, const char *name, const struct statx *x,
                       int ye, const struct statx *y)
{
  bool fresh = ye == ENOENT && direct_takes(&s->dcfg, x);
  bool replaces = !fresh && !ye && direct_replaces(&s->dcfg, &s->q, x, y);
  if (!fresh && !replaces)
    return 0;
  /* The listing was dropped (too wide): the walk lists the directory again and meets the file there. */
  if (!k->on)
    return 1;
  char *src = NULL, *dst = NULL;
  if (!k->dir.on && (!(src = join_walk(s->src, rel)) || !(dst = join_walk(s->destrel, rel)))) {
    free(src);
    return -1;
  }
  int r = kept_direct(k, &s->dcfg, src, dst, name, x, replaces);
  free(src);
  free(dst);
  /* (0: dropped at this very file, as above.) */
  return r < 0 ? -1 : 1;
}

/* Destination directories are opened beneath the root without following symlinks, as every
 * destination path is (beneath.c, with its fallback where openat2 is missing); this does not touch the
 * context's (single-threaded) parent cache. A path beyond PATH_MAX is opened link by link. */
static int open_dest(struct shared *s, const char *rel)
{
  return beneath_open_path(s->rootfd, (const uint8_t *)rel, (uint32_t)strlen(rel), O_RDONLY | O_DIRECTORY, 0);
}

/* One directory pair: every entry is classified as scanPair would (left out when unchanged), and the
 * subdirectories present on both sides become jobs, dirty or not (the walk does not enter existing
 * subdirectories, it relies on this scan for them). A dirty directory's paired listing goes to *rec.
 * Returns 0 or a hard errno. */
static int scan_one(struct shared *s, const char *rel, bool *dirty, struct dirty_rec *rec, double counts[6],
                    char ***subs, size_t *nsubs, struct sl_dir **listed)
{
  *dirty = true; /* until the listing proves otherwise; rec->listed stays false on the way out */
  /* No symlink is followed below the root: a directory swapped for one is never listed through it.
   * A path beyond PATH_MAX is opened a chunk at a time with the same rules. */
  int sfd = beneath_open_path(s->srcfd, (const uint8_t *)rel, (uint32_t)strlen(rel), O_RDONLY | O_DIRECTORY, 0);
  if (sfd < 0)
    return fd_exhausted(-sfd) ? -sfd : 0; /* the walk reports it */
  int dfd = open_dest(s, rel);
  if (dfd < 0) {
    close(sfd);
    return fd_exhausted(-dfd) ? -dfd : 0;
  }
  struct listing a = {0}, b = {0};
  /* A wider dirty directory than one chunk of the walk's cursor is listed again by the walk. */
  struct kept k = {.on = true, .max = s->max_listed};
  struct sl_dir *ld = NULL;
  int e = list_names(sfd, &a);
  if (!e)
    e = list_names(dfd, &b);
  if (e) {
    e = fd_exhausted(e) || e == ENOMEM ? e : 0;
    goto out;
  }
  if (s->lists && !(ld = sl_dir_new(a.n))) {
    e = ENOMEM;
    goto out;
  }
  *subs = malloc((a.n ? a.n : 1) * sizeof **subs);
  if (!*subs) {
    e = ENOMEM;
    goto out;
  }
  bool d = false;
  double c[6] = {0};
  struct join m = {0};
  size_t i, tw;
  while (join_next(&m, &a, &b, &i, &tw)) {
    if (i == SIZE_MAX) {
      d = true; /* extraneous on the destination */
      if (!kept_extra(&k, dfd, b.names, tw)) {
        e = ENOMEM;
        goto out;
      }
      continue;
    }
    struct statx x, y;
    int xe = stat_entry(sfd, a.names[i], &x);
    int ye = tw != SIZE_MAX ? stat_entry(dfd, b.names[tw], &y) : ENOENT;
    if (ld && !sl_dir_entry(ld, &a, i, &x, xe, sfd)) {
      sl_dir_free(ld);
      ld = NULL; /* no record: the lists are not counted (the worker sees *listed NULL) */
    }
    bool ok = !xe && !ye;
    bool collapse = false;
    /* (A file the quick check finds unchanged is neither new nor of other data: take_direct leaves it.) */
    if (s->dcfg.on && !xe && S_ISREG(x.stx_mode) && (ye == ENOENT || !ye)) {
      int t = take_direct(s, &k, rel, a.names[i], &x, ye, &y);
      if (t < 0) {
        e = ENOMEM;
        goto out;
      }
      if (t > 0) {
        d = true;
        continue;
      }
    }
    if (!ok) {
      d = true;
    } else if (S_ISDIR(x.stx_mode)) {
      if (!S_ISDIR(y.stx_mode)) {
        d = true;
      } else {
        if (!quick_same_dir(&s->q, &x, &y))
          d = true;
        char *sub = join_rel(rel, a.names[i]);
        if (!sub) {
          e = ENOMEM;
          goto out;
        }
        (*subs)[(*nsubs)++] = sub;
      }
      c[0]++;
    } else if (S_ISREG(x.stx_mode) || S_ISLNK(x.stx_mode)) {
      if (quick_unchanged(&s->q, &x, &y, sfd, a.names[i], dfd)) {
        collapse = (s->q.bits & SP_COLLAPSE) != 0;
        c[S_ISREG(x.stx_mode) ? 1 : 2]++;
        c[5] += (double)x.stx_size;
      } else {
        d = true;
      }
    } else {
      if (!quick_same_node(&s->q, &x, &y))
        d = true;
      c[S_ISCHR(x.stx_mode) || S_ISBLK(x.stx_mode) ? 3 : 4]++;
    }
    if (collapse) {
      k.coll[S_ISREG(x.stx_mode) ? 0 : 1]++;
      k.coll[2] += (double)x.stx_size;
      continue;
    }
    if (!kept_entry(&k, i, &x, xe, &y, ye)) {
      e = ENOMEM;
      goto out;
    }
  }
  *dirty = d;
  if (!d) {
    for (int n = 0; n < 6; n++)
      counts[n] += c[n];
    goto out;
  }
  /* The directory's own lstat for the walk's frame (the root's is the walk's own), through the descriptor
   * listed: one call here instead of a lookup of its whole path later. */
  if (*rel) {
    struct statx self;
    if (statx(sfd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_STATX_SYNC_AS_STAT, STATX_BASIC_STATS, &self) == 0) {
      listing_fill(rec->self, &self, 0);
      rec->has_self = true;
    }
  }
  if (!k.on)
    goto out; /* too wide: rec->listed stays false, the walk lists it */
  /* The walk will process this directory from this listing. */
  if (!kept_to_rec(&k, a.names, b.names, rec))
    e = ENOMEM;
out:
  if (ld && !e && sl_dir_end(ld, rel, &a))
    *listed = ld;
  else
    sl_dir_free(ld);
  kept_free(&k);
  close(sfd);
  close(dfd);
  listing_free(&a);
  listing_free(&b);
  return e;
}

static void *worker(void *arg)
{
  struct shared *s = arg;
  pthread_mutex_lock(&s->mu);
  for (;;) {
    while (s->njobs == 0 && s->busy > 0 && !s->error)
      pthread_cond_wait(&s->cv, &s->mu);
    if (s->error || (s->njobs == 0 && s->busy == 0))
      break;
    char *rel = s->jobs[--s->njobs];
    s->busy++;
    pthread_mutex_unlock(&s->mu);

    bool dirty = false;
    double counts[6] = {0};
    char **subs = NULL;
    size_t nsubs = 0;
    struct dirty_rec rec = {0};
    struct sl_dir *listed = NULL;
    int e = scan_one(s, rel, &dirty, &rec, counts, &subs, &nsubs, &listed);

    pthread_mutex_lock(&s->mu);
    if (s->lists && (!listed || !sl_lists_add(s->lists, listed))) {
      sl_lists_fail(s->lists);
      sl_dir_free(listed);
    }
    s->busy--;
    if (e && !s->error)
      s->error = e;
    if (!e && dirty) {
      rec.rel = rel;
      rel = NULL; /* owned by the record now */
      if (!add_dirty(s, &rec)) {
        s->error = ENOMEM;
        dirty_free(&rec);
      }
    } else {
      dirty_free(&rec);
    }
    if (!e) {
      for (int k = 0; k < 6; k++)
        s->counts[k] += counts[k];
      for (size_t i = 0; i < nsubs; i++) {
        if (!s->error && push_job(s, subs[i]))
          subs[i] = NULL;
        else if (!s->error)
          s->error = ENOMEM;
      }
    }
    for (size_t i = 0; i < nsubs; i++)
      free(subs[i]);
    free(subs);
    free(rel);
    pthread_cond_broadcast(&s->cv);
  }
  pthread_mutex_unlock(&s->mu);
  return NULL;
}

static int cmp_rec(const void *x, const void *y)
{
  return strcmp(((const struct dirty_rec *)x)->rel, ((const struct dirty_rec *)y)->rel);
}

napi_value scan_tree(napi_env env, napi_callback_info info)
{
  ARGS(5);
  struct ctx *c = argc < 4 ? NULL : ctxapi_get(env, argv[0]);
  if (!c)
    return throw_type(env, "scanTree(ctx, src: Buffer, destRel: Buffer, q: Float64Array, anchor?: number)");
  const uint8_t *src, *rel;
  uint32_t srclen, rellen;
  if (!arg_buffer(env, argv[1], &src, &srclen) || memchr(src, 0, srclen) ||
      !arg_buffer(env, argv[2], &rel, &rellen) || memchr(rel, 0, rellen))
    return throw_type(env, "src and destRel must be Buffers without NUL bytes");
  const double *q = arg_f64(env, argv[3], 5);
  if (!q || !(q[4] >= 1))
    return throw_type(env, "q must be a Float64Array of 5 (maxListed >= 1), 6 (recordLists) or 10 (the direct path)");
  /* q[5], when there: record every directory's list for a local run's byte figures (streamlist.c). */
  bool record = arg_f64(env, argv[3], 6) && q[5] != 0;
  /* q[6..9], when there: the direct path (direct.h) for the dirty directories' listings: [1 new files, 2
   * new and changed files, anchor, big, hardLinks]. */
  const double *dq = arg_f64(env, argv[3], 10) ? q + 6 : NULL;
  struct direct dcfg = {0};
  if (dq && dq[0] > 0) {
    if (!(dq[1] >= 0 && dq[1] <= UINT32_MAX))
      return throw_type(env, "the direct path's anchor must be a 32-bit unsigned integer");
    dcfg = (struct direct){.on = true, .changed = dq[0] > 1, .anchor = (uint32_t)dq[1], .big = dq[2], .hardlinks = dq[3] != 0};
  }
  /* The tree's root is opened once, beneath its anchor (by default it is its own: an operand). */
  uint32_t anchor = srclen;
  if (argc >= 5 && !arg_anchor(env, argv[4], &anchor))
    return throw_type(env, "anchor must be a non-negative integer");
  int srcfd = src_open_dir(src, srclen, anchor);
  if (srcfd < 0)
    return err_object(env, -srcfd, "scandir");

  struct shared s = {
    .mu = PTHREAD_MUTEX_INITIALIZER,
    .cv = PTHREAD_COND_INITIALIZER,
    .srcfd = srcfd,
    .rootfd = c->rootfd,
    .q = {.bits = (unsigned)q[0], .window = q[1], .res = q[2]},
    .max_listed = q[4] < (double)SIZE_MAX ? (size_t)q[4] : SIZE_MAX,
    .dcfg = dcfg,
    .flags = c->flags,
  };
  char *srcz = malloc(srclen + 1), *root = malloc(rellen + 1);
  if (!srcz || !root) {
    free(srcz);
    free(root);
    close(srcfd);
    return throw_error(env, "scanTree: out of memory");
  }
  memcpy(srcz, src, srclen);
  srcz[srclen] = 0;
  memcpy(root, rel, rellen);
  root[rellen] = 0;
  /* Jobs are paths relative to the walk's root (`src` on the source side, `rel` on the destination
   * side), so a job's two paths are plain concatenations. */
  s.src = srcz;
  s.srclen = srclen;
  s.destrel = root;
  char *first = strdup("");
  if (!first || !push_job(&s, first)) {
    free(first);
    free(srcz);
    free(root);
    close(srcfd);
    return throw_error(env, "scanTree: out of memory");
  }
  /* Rebase the destination root on `rel`: open it once, beneath the context's root. */
  int relfd = beneath_open_path(c->rootfd, rel, rellen, O_PATH | O_DIRECTORY, 0);
  if (relfd < 0) {
    free(srcz);
    free(root);
    free(s.jobs[0]);
    free(s.jobs);
    close(srcfd);
    return err_object(env, -relfd, "openat2");
  }
  s.rootfd = relfd;
  s.lists = record ? sl_lists_new() : NULL; /* none (out of memory): no record, the figures are walked */
  int threads = (int)q[3];
  if (threads < 1)
    threads = 1;
  if (threads > MAX_THREADS)
    threads = MAX_THREADS;
  pthread_t tid[MAX_THREADS];
  int started = 0;
  for (int i = 1; i < threads; i++) {
    if (pthread_create(&tid[started], NULL, worker, &s) != 0)
      break;
    started++;
  }
  worker(&s); /* the calling thread works too */
  for (int i = 0; i < started; i++)
    pthread_join(tid[i], NULL);
  close(relfd);
  close(srcfd);
  for (size_t i = 0; i < s.njobs; i++)
    free(s.jobs[i]);
  free(s.jobs);
  free(srcz);
  free(root);

  napi_value result = NULL;
  if (s.lists && s.error)
    sl_lists_fail(s.lists);
  napi_value lists = s.lists ? sl_lists_finish(env, s.lists) : NULL;
  if (s.error) {
    for (size_t i = 0; i < s.ndirty; i++)
      dirty_free(&s.dirty[i]);
    free(s.dirty);
    return err_object(env, s.error, "scandir");
  }
  /* Sorted, so the walk meets dirty directories in name order. */
  qsort(s.dirty, s.ndirty, sizeof *s.dirty, cmp_rec);
  napi_value arr = dirty_array(env, s.dirty, s.ndirty), counts, ab;
  void *cp;
  bool ok = arr && napi_create_arraybuffer(env, 6 * sizeof(double), &cp, &ab) == napi_ok &&
            napi_create_typedarray(env, napi_float64_array, 6, ab, 0, &counts) == napi_ok;
  if (ok)
    memcpy(cp, s.counts, sizeof s.counts);
  if (ok && napi_create_object(env, &result) == napi_ok &&
      ((lists && napi_set_named_property(env, result, "lists", lists) != napi_ok) ||
       napi_set_named_property(env, result, "dirty", arr) != napi_ok ||
       napi_set_named_property(env, result, "counts", counts) != napi_ok))
    result = NULL;
  if (!ok)
    result = NULL;
  for (size_t i = 0; i < s.ndirty; i++)
    dirty_free(&s.dirty[i]);
  free(s.dirty);
  if (!result)
    return throw_error(env, "scanTree: out of memory");
  return result;
}
