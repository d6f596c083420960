/* scanTree's dirty directories (treedirty.c): the paired listing of each, gathered while the scan merges
 * it (kept only within one chunk of the walk's cursor), and its shape in scanTree's answer. The scan
 * itself, its threads and its jobs are tree.c. */
#ifndef ARSYNC_TREEDIRTY_H
#define ARSYNC_TREEDIRTY_H

#include <node_api.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "direct.h"
#include "listing.h"

/* A dirty directory and its paired listing (the entries the walk must see). */
struct dirty_rec {
  char *rel;
  bool listed;      /* false: listing failed here, the walk lists it itself */
  bool has_self;    /* `self` holds the directory's own lstat (taken through its open descriptor) */
  char *names, *xnames;
  size_t nlen, xlen, nkeep, nextra;
  double *meta, *dmeta, *xmeta;
  double coll[3];   /* collapsed reg, link, size */
  double self[META_FIELDS];
  /* The direct path's File ops for the listing's new and replaced regular files (direct.h): entries no more. */
  uint8_t *ops;
  size_t oplen;
  uint32_t opcount, opreplaced;
  double opbytes;
};
void dirty_free(struct dirty_rec *r);

/* What a dirty directory's listing will hold, gathered during the scan while `on` (at most `max`
 * entries and extras together; past that it is dropped and `on` turns false). Zero-initialised, then
 * `on` and `max` set. */
struct kept {
  bool on;
  size_t max;
  size_t *keep, *extra;
  double *meta, *dmeta, *xmeta;
  size_t nkeep, nextra, cap;
  double coll[3]; /* collapsed reg, link, size */
  struct direct dir; /* direct-path ops, once kept_direct has set it (they count toward max) */
};
void kept_free(struct kept *k);
/* Source entry `name` (lstat `x`) as a direct-path File op (`replaces`: over a destination file), the
 * listing's paths `src` and `rel` and the op's settings taken from `cfg` at the first. 1 when taken, 0
 * when the listing is dropped (too wide: the entry is then nothing here either), -1 out of memory. */
int kept_direct(struct kept *k, const struct direct *cfg, const char *src, const char *rel, const char *name,
                const struct statx *x, bool replaces);
/* Source entry i with its stat and its twin's (or their errnos). False only when out of memory. */
bool kept_entry(struct kept *k, size_t i, const struct statx *x, int xe, const struct statx *y, int ye);
/* Destination-only name j of `names`, lstat'ed beneath dfd. False only when out of memory. */
bool kept_extra(struct kept *k, int dfd, char **names, size_t j);
/* The kept listing moved into *rec (names packed from the two sides' names), rec->listed set. False
 * only when out of memory (rec then holds what was moved, for dirty_free). */
bool kept_to_rec(struct kept *k, char **src_names, char **dest_names, struct dirty_rec *rec);

/* The answer's `dirty` array: { rel, self when known, and when listed: names, meta, dmeta, extra,
 * extraMeta, collapsed, and ops, opCount, opBytes, opReplaced when it has direct-path ops } per record, in
 * the records' order. NULL when out of memory. */
napi_value dirty_array(napi_env env, const struct dirty_rec *recs, size_t n);

#endif
