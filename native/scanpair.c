/* The scanPair cursor: one source directory and its destination twin, listed and matched by name in C,
 * handed to TypeScript a bounded chunk at a time.
 *
 * A re-sync spends its time deciding that files are unchanged. Doing the quick check here, on the two
 * sorted listings, means an unchanged regular file or symlink never becomes a JS object: it is only
 * counted (the "collapsed" totals). Everything else comes back to TypeScript with its destination
 * twin's stat beside it: directories (to recurse), new or changed entries, devices, and the
 * destination-only names (for --delete). TypeScript turns collapsing off whenever a rule needs to see
 * every entry (filters, -c, -I, --size-only, -ii, --chmod, -X/-A, --remove-source-files, ...).
 *
 * Memory is bounded on a wide directory: the cursor holds the two sorted name lists (no stat), and each
 * pairNext stats only the entries it walks past and returns at most `max` of them (entries and
 * destination-only names together), so a directory of a million entries never has a million stats, or
 * a million JS objects, alive at once.
 *
 *   pairOpen(ctx | null, src: Buffer, destRel: Buffer | null, q: Float64Array[3]) -> cursor | { errno, syscall }
 *     q = [bits, window, resolutionNs], bits the SP_* of listing.h; ctx may be null only when destRel is.
 *   pairNext(cursor, max, extrasOnly) -> { names, meta, dmeta, extra, extraMeta, collapsed, destErrno, done }
 *     the next entries in name order; meta/dmeta/extraMeta hold 12 doubles per entry in scanDir's
 *     layout, a missing twin has err (field 11) = ENOENT; collapsed is [reg, link, totalSize] of the
 *     entries left out by this call. extrasOnly: source entries are passed over unstat'ed and only the
 *     destination-only names come back (what --delete needs before the entries are planned).
 *     After pairDirect, also { ops, opCount, opBytes, opReplaced }: the chunk's direct-path File ops
 *     (direct.h), opReplaced of them over a destination file.
 *   pairDirect(cursor, rel: Buffer, anchor, big, hardLinks, changed?): from the next pairNext on, a regular
 *     file without a twin (below `big` bytes, with one link under -H), and with `changed` one whose twin is
 *     a regular file of one link with other data (direct_replaces), is not an entry but a File op in `ops`,
 *     named rel/name on the destination and src/name with `anchor` on the source; it counts toward max.
 *   pairRewind(cursor): back to the first entry.   pairClose(cursor): closes both fds (also on GC). */
#include "scanpair.h"
#include "listing.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "args.h"
#include "context.h"
#include "ctxapi.h"
#include "errors.h"
#include "quickcheck.h"
#include "dest.h"
#include "direct.h"
#include "source.h"

static const napi_type_tag cursor_tag = {0x6172737970616972ULL, 0x637572736f723031ULL};

/* rsync takes at most 20 --*-dest directories (MAX_BASIS_DIRS). */
#define TWIN_MAX 20

struct cursor {
  int sfd, dfd; /* dfd -1: no twin directory */
  struct listing s, d;
  struct join m;
  struct quick q;
  int derr;     /* why the destination could not be listed (0: it could, or it was not asked for) */
  uint8_t *srcpath;  /* the source directory as pairOpen was given it (the direct path's ops name it) */
  uint32_t srclen;
  struct direct dir; /* pairDirect: new regular files encoded as File ops (direct.h) */
  int tfd[TWIN_MAX];  /* the twin directories of destRel in ctx->twins (-1: none there) */
  int ntfd;
};

static void cursor_release(struct cursor *k)
{
  if (k->sfd >= 0)
    close(k->sfd);
  if (k->dfd >= 0)
    close(k->dfd);
  k->sfd = k->dfd = -1;
  for (int i = 0; i < k->ntfd; i++)
    if (k->tfd[i] >= 0)
      close(k->tfd[i]);
  k->ntfd = 0;
  listing_free(&k->s);
  listing_free(&k->d);
  direct_free(&k->dir);
  free(k->srcpath);
  k->srcpath = NULL;
}

static void cursor_finalize(napi_env env, void *data, void *hint)
{
  (void)env;
  (void)hint;
  cursor_release(data);
  free(data);
}

/* The cursor behind a JS handle (NULL with a TypeError thrown otherwise); closed ones too. */
static struct cursor *cursor_get(napi_env env, napi_value v)
{
  struct cursor *k = arg_external(env, v, &cursor_tag);
  if (!k)
    throw_type(env, "cursor must come from pairOpen()");
  return k;
}

/* The cursor in argv[0] of a call that needs `need` arguments; NULL with a TypeError pending (the
 * usage when arguments are missing, cursor_get's when argv[0] is not a cursor). */
static struct cursor *cursor_arg(napi_env env, long argc, napi_value *argv, long need, const char *usage)
{
  if (argc < need) {
    throw_type(env, usage);
    return NULL;
  }
  return cursor_get(env, argv[0]);
}

/* The directories where --link-dest/--compare-dest would look for this directory's files' twins. They
 * are only stat-ed, to decide which unchanged files go on to TypeScript (twin_candidate), never written
 * or read through: a symlink on the way can only send more files the planner's careful way. */
static void twins_open(struct cursor *k, char **twins, const uint8_t *rel, uint32_t rellen)
{
  for (; *twins && k->ntfd < TWIN_MAX; twins++) {
    char path[PATH_MAX];
    size_t tl = strlen(*twins);
    int fd = -1;
    if (tl + 1 + rellen < sizeof path) {
      memcpy(path, *twins, tl);
      if (rellen) {
        path[tl] = '/';
        memcpy(path + tl + 1, rel, rellen);
        path[tl + 1 + rellen] = 0;
      } else
        path[tl] = 0;
      fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    }
    k->tfd[k->ntfd++] = fd;
  }
}

/* Whether an unchanged file `name` (source s, destination d) may have an exact twin in a --*-dest
 * directory on another inode than d: a regular file there of s's size and mtime (in whole seconds). rsync's generator
 * relinks (or under --compare-dest removes) such a file before its quick check, so it goes on to the
 * planner, which decides exactly (run/alt-entry.ts); every other unchanged file is left out as usual. */
static bool twin_candidate(const struct cursor *k, const char *name, const struct statx *s, const struct statx *d)
{
  for (int i = 0; i < k->ntfd; i++) {
    struct stat t;
    if (k->tfd[i] < 0 || fstatat(k->tfd[i], name, &t, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(t.st_mode))
      continue;
    /* Whole seconds, within --modify-window: the planner compares exactly. */
    long long dt = (long long)t.st_mtim.tv_sec - (long long)s->stx_mtime.tv_sec;
    if ((uint64_t)t.st_size != s->stx_size || (dt < 0 ? -dt : dt) > (k->q.window > 0 ? (long long)k->q.window : 0))
      continue;
    if (t.st_ino == d->stx_ino && major(t.st_dev) == d->stx_dev_major && minor(t.st_dev) == d->stx_dev_minor)
      continue;
    return true;
  }
  return false;
}

napi_value pair_open(napi_env env, napi_callback_info info)
{
  ARGS(5);
  if (argc < 4)
    return throw_type(env, "pairOpen(ctx, src: Buffer, destRel: Buffer | null, q: Float64Array, anchor?: number)");
  bool want_dest = !arg_absent(env, argv[2]);
  struct ctx *c = NULL;
  if (want_dest || !arg_absent(env, argv[0])) {
    /* Only a source-only cursor (a dry run onto a missing destination) may go without a context. */
    c = ctxapi_get(env, argv[0]);
    if (!c)
      return NULL;
  }
  const uint8_t *src, *rel = NULL;
  uint32_t srclen, rellen = 0;
  if (!arg_buffer(env, argv[1], &src, &srclen) || memchr(src, 0, srclen))
    return throw_type(env, "src must be a Buffer without NUL bytes");
  if (want_dest && !arg_buffer(env, argv[2], &rel, &rellen))
    return throw_type(env, "destRel must be a Buffer or null");
  const double *q = arg_f64(env, argv[3], 3);
  if (!q)
    return throw_type(env, "q must be a Float64Array of 3");

  struct cursor *k = calloc(1, sizeof *k);
  if (!k)
    return throw_error(env, "pairOpen: out of memory");
  k->dfd = -1;
  k->q = (struct quick){.bits = (unsigned)q[0], .window = q[1], .res = q[2]};
  uint32_t anchor = 0;
  if (argc >= 5 && !arg_anchor(env, argv[4], &anchor)) {
    free(k);
    return throw_type(env, "anchor must be a non-negative integer");
  }
  /* Beneath the operator's anchor, without symlinks, at any length: a directory swapped after the
   * walk saw it is never listed through the symlink (source.c). */
  k->sfd = src_open_dir(src, srclen, anchor);
  k->srcpath = malloc(srclen ? srclen : 1);
  int e = k->sfd < 0 ? -k->sfd : !k->srcpath ? ENOMEM : list_names(k->sfd, &k->s);
  if (!e) {
    memcpy(k->srcpath, src, srclen);
    k->srclen = srclen;
  }
  if (e) {
    cursor_release(k);
    free(k);
    return err_object(env, e, "scandir");
  }
  if (want_dest) {
    /* Destination directories resolve beneath the root like every destination path. */
    k->dfd = dest_open(c, rel, rellen, O_RDONLY | O_DIRECTORY);
    if (k->dfd < 0) {
      k->derr = -k->dfd;
      k->dfd = -1;
    } else if ((k->derr = list_names(k->dfd, &k->d)) != 0) {
      listing_free(&k->d);
      close(k->dfd);
      k->dfd = -1;
    }
  }
  if (k->dfd >= 0 && c && c->twins && (k->q.bits & SP_COLLAPSE))
    twins_open(k, c->twins, rel, rellen);
  napi_value ext;
  if (napi_create_external(env, k, cursor_finalize, NULL, &ext) != napi_ok ||
      napi_type_tag_object(env, ext, &cursor_tag) != napi_ok) {
    cursor_release(k);
    free(k);
    return throw_error(env, "pairOpen: could not create the handle");
  }
  return ext;
}

static napi_value names_buffer(napi_env env, char **names, const size_t *idx, size_t n)
{
  void *data;
  napi_value buf;
  if (napi_create_buffer(env, listing_pack(names, idx, n, NULL), &data, &buf) != napi_ok)
    return NULL;
  listing_pack(names, idx, n, data);
  return buf;
}

/* One chunk's output, allocated for at most max entries. */
struct chunk {
  size_t *keep, *extra;
  double *meta, *dmeta, *xmeta;
  size_t nkeep, nextra;
  double coll[3];
};

/* Entries a chunk has taken: kept, extras, and ops of the direct path (each counts toward max). */
static size_t chunk_taken(const struct cursor *k, const struct chunk *o)
{
  return o->nkeep + o->nextra + k->dir.count;
}

static void chunk_free(struct chunk *o)
{
  free(o->keep);
  free(o->extra);
  free(o->meta);
  free(o->dmeta);
  free(o->xmeta);
}

static void add_extra(struct cursor *k, struct chunk *o, size_t j)
{
  struct statx st;
  int e = stat_entry(k->dfd, k->d.names[j], &st);
  listing_fill(o->xmeta + o->nextra * META_FIELDS, &st, e);
  o->extra[o->nextra++] = j;
}

/* Advances the merge-join until max entries and extras are out or both listings are done. */
static void fill_chunk(struct cursor *k, struct chunk *o, size_t max, bool extras_only)
{
  size_t i, tw;
  while (chunk_taken(k, o) < max && join_next(&k->m, &k->s, &k->d, &i, &tw)) {
    if (i == SIZE_MAX) {
      add_extra(k, o, tw); /* destination-only: an extra */
      continue;
    }
    if (extras_only)
      continue;
    const char *name = k->s.names[i];
    struct statx s, d;
    int se = stat_entry(k->sfd, name, &s);
    int de = tw != SIZE_MAX ? stat_entry(k->dfd, k->d.names[tw], &d) : ENOENT;
    if ((k->q.bits & SP_COLLAPSE) && !se && !de && quick_unchanged(&k->q, &s, &d, k->sfd, name, k->dfd) &&
        !(k->ntfd && S_ISREG(s.stx_mode) && twin_candidate(k, name, &s, &d))) {
      o->coll[S_ISREG(s.stx_mode) ? 0 : 1]++;
      o->coll[2] += (double)s.stx_size;
      continue;
    }
    /* A new regular file in a plain run, or one replacing a file with other data when asked: its op
     * now, no entry (out of memory: the planner's way). */
    if (!se && ((de == ENOENT && direct_takes(&k->dir, &s)) || (!de && direct_replaces(&k->dir, &k->q, &s, &d))) &&
        direct_add(&k->dir, name, &s, de == 0) == 0)
      continue;
    listing_fill(o->meta + o->nkeep * META_FIELDS, &s, se);
    listing_fill(o->dmeta + o->nkeep * META_FIELDS, &d, de);
    o->keep[o->nkeep++] = i;
  }
}

napi_value pair_next(napi_env env, napi_callback_info info)
{
  ARGS(3);
  struct cursor *k = cursor_arg(env, argc, argv, 3, "pairNext(cursor, max: number, extrasOnly: boolean)");
  if (!k)
    return NULL;
  uint32_t max = 0;
  bool extras_only = false;
  if (napi_get_value_uint32(env, argv[1], &max) != napi_ok || max < 1 || max > (1u << 24) ||
      napi_get_value_bool(env, argv[2], &extras_only) != napi_ok)
    return throw_type(env, "max must be 1 to 2^24 and extrasOnly a boolean");
  if (k->sfd < 0)
    return throw_error(env, "pairNext: the cursor is closed");

  struct chunk o = {0};
  o.keep = malloc(max * sizeof *o.keep);
  o.extra = malloc(max * sizeof *o.extra);
  o.meta = malloc(max * META_FIELDS * sizeof *o.meta);
  o.dmeta = malloc(max * META_FIELDS * sizeof *o.dmeta);
  o.xmeta = malloc(max * META_FIELDS * sizeof *o.xmeta);
  napi_value result = NULL;
  if (o.keep && o.extra && o.meta && o.dmeta && o.xmeta) {
    fill_chunk(k, &o, max, extras_only);
    napi_value vnames = names_buffer(env, k->s.names, o.keep, o.nkeep);
    napi_value vmeta = f64_copy(env, o.meta, o.nkeep * META_FIELDS);
    napi_value vdmeta = f64_copy(env, o.dmeta, o.nkeep * META_FIELDS);
    napi_value vextra = names_buffer(env, k->d.names, o.extra, o.nextra);
    napi_value vxmeta = f64_copy(env, o.xmeta, o.nextra * META_FIELDS);
    napi_value vcoll = f64_copy(env, o.coll, 3);
    napi_value vderr, vdone, vops = NULL, vcount = NULL, vbytes = NULL, vreplaced = NULL;
    bool direct = k->dir.on;
    if (direct) {
      void *data;
      if (napi_create_buffer_copy(env, k->dir.len, k->dir.ops ? (const void *)k->dir.ops : "", &data, &vops) != napi_ok ||
          napi_create_uint32(env, k->dir.count, &vcount) != napi_ok || napi_create_double(env, k->dir.bytes, &vbytes) != napi_ok ||
          napi_create_uint32(env, k->dir.replaced, &vreplaced) != napi_ok)
        vops = NULL;
      direct_reset(&k->dir);
    }
    if ((!direct || vops) && vnames && vmeta && vdmeta && vextra && vxmeta && vcoll && napi_create_int32(env, k->derr, &vderr) == napi_ok &&
        napi_get_boolean(env, join_done(&k->m, &k->s, &k->d), &vdone) == napi_ok &&
        (napi_create_object(env, &result) != napi_ok ||
         napi_set_named_property(env, result, "names", vnames) != napi_ok ||
         napi_set_named_property(env, result, "meta", vmeta) != napi_ok ||
         napi_set_named_property(env, result, "dmeta", vdmeta) != napi_ok ||
         napi_set_named_property(env, result, "extra", vextra) != napi_ok ||
         napi_set_named_property(env, result, "extraMeta", vxmeta) != napi_ok ||
         napi_set_named_property(env, result, "collapsed", vcoll) != napi_ok ||
         napi_set_named_property(env, result, "destErrno", vderr) != napi_ok ||
         napi_set_named_property(env, result, "done", vdone) != napi_ok ||
         (direct && (napi_set_named_property(env, result, "ops", vops) != napi_ok ||
                     napi_set_named_property(env, result, "opCount", vcount) != napi_ok ||
                     napi_set_named_property(env, result, "opBytes", vbytes) != napi_ok ||
                     napi_set_named_property(env, result, "opReplaced", vreplaced) != napi_ok))))
      result = NULL;
  }
  chunk_free(&o);
  if (!result)
    return throw_error(env, "pairNext: out of memory");
  return result;
}

napi_value pair_direct(napi_env env, napi_callback_info info)
{
#define PAIR_DIRECT_USAGE "pairDirect(cursor, rel: Buffer, anchor: number, big: number, hardLinks: boolean, changed?: boolean)"
  ARGS(6);
  struct cursor *k = cursor_arg(env, argc, argv, 5, PAIR_DIRECT_USAGE);
  if (!k)
    return NULL;
  const uint8_t *rel;
  uint32_t rellen, anchor;
  double big;
  bool hardlinks, changed = false;
  /* Any u32: an op's anchor may be longer than PATH_MAX (a followed link deep in a long tree). */
  if (!arg_buffer(env, argv[1], &rel, &rellen) || napi_get_value_uint32(env, argv[2], &anchor) != napi_ok ||
      napi_get_value_double(env, argv[3], &big) != napi_ok || napi_get_value_bool(env, argv[4], &hardlinks) != napi_ok ||
      (argc >= 6 && napi_get_value_bool(env, argv[5], &changed) != napi_ok))
    return throw_type(env, PAIR_DIRECT_USAGE);
  if (k->sfd < 0)
    return throw_error(env, "pairDirect: the cursor is closed");
  if (direct_set(&k->dir, (const uint8_t *)k->srcpath, k->srclen, rel, rellen, anchor, big, hardlinks, changed))
    return throw_error(env, "pairDirect: out of memory");
  return NULL;
}

napi_value pair_rewind(napi_env env, napi_callback_info info)
{
  ARGS(1);
  struct cursor *k = cursor_arg(env, argc, argv, 1, "pairRewind(cursor)");
  if (!k)
    return NULL;
  k->m = (struct join){0};
  return NULL;
}

napi_value pair_close(napi_env env, napi_callback_info info)
{
  ARGS(1);
  struct cursor *k = cursor_arg(env, argc, argv, 1, "pairClose(cursor)");
  if (!k)
    return NULL;
  cursor_release(k);
  return NULL;
}
