/* scanTree's dirty directories (treedirty.h): a directory the scan finds dirty is handed to the walk with
 * its paired listing in scanPair's shape, so the walk does not list and stat it a second time. The
 * listing is gathered while the scan merges the two sides, and dropped once it would hold more than one
 * chunk of the walk's cursor (a wide directory is never held whole: the walk lists it again, a chunk at
 * a time). */
#include "treedirty.h"

#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "listing.h"

void dirty_free(struct dirty_rec *r)
{
  free(r->rel);
  free(r->names);
  free(r->xnames);
  free(r->meta);
  free(r->dmeta);
  free(r->xmeta);
  free(r->ops);
}

void kept_free(struct kept *k)
{
  free(k->keep);
  free(k->extra);
  free(k->meta);
  free(k->dmeta);
  free(k->xmeta);
  k->keep = k->extra = NULL;
  k->meta = k->dmeta = k->xmeta = NULL;
  direct_free(&k->dir);
}

/* Room for one more entry or extra; false only when out of memory. Past max, stops keeping. */
static bool kept_room(struct kept *k)
{
  if (!k->on)
    return true;
  size_t need = (k->nkeep > k->nextra ? k->nkeep : k->nextra) + 1;
  if (k->nkeep + k->nextra + k->dir.count + 1 > k->max) {
    kept_free(k);
    k->on = false;
    return true;
  }
  if (need <= k->cap)
    return true;
  size_t cap = k->cap ? k->cap * 2 : 64;
  size_t *kp = realloc(k->keep, cap * sizeof *kp);
  if (kp)
    k->keep = kp;
  size_t *xp = realloc(k->extra, cap * sizeof *xp);
  if (xp)
    k->extra = xp;
  double *m = realloc(k->meta, cap * META_FIELDS * sizeof *m);
  if (m)
    k->meta = m;
  double *dm = realloc(k->dmeta, cap * META_FIELDS * sizeof *dm);
  if (dm)
    k->dmeta = dm;
  double *xm = realloc(k->xmeta, cap * META_FIELDS * sizeof *xm);
  if (xm)
    k->xmeta = xm;
  if (!kp || !xp || !m || !dm || !xm)
    return false;
  k->cap = cap;
  return true;
}

bool kept_entry(struct kept *k, size_t i, const struct statx *x, int xe, const struct statx *y, int ye)
{
  if (!kept_room(k))
    return false;
  if (k->on) {
    listing_fill(k->meta + k->nkeep * META_FIELDS, x, xe);
    listing_fill(k->dmeta + k->nkeep * META_FIELDS, y, ye);
    k->keep[k->nkeep++] = i;
  }
  return true;
}

bool kept_extra(struct kept *k, int dfd, char **names, size_t j)
{
  if (!kept_room(k))
    return false;
  if (k->on) {
    struct statx st;
    int e = stat_entry(dfd, names[j], &st);
    listing_fill(k->xmeta + k->nextra * META_FIELDS, &st, e);
    k->extra[k->nextra++] = j;
  }
  return true;
}

int kept_direct(struct kept *k, const struct direct *cfg, const char *src, const char *rel, const char *name,
                const struct statx *x, bool replaces)
{
  if (!kept_room(k))
    return -1;
  if (!k->on)
    return 0;
  if (!k->dir.on && direct_set(&k->dir, (const uint8_t *)src, (uint32_t)strlen(src), (const uint8_t *)rel, (uint32_t)strlen(rel),
                               cfg->anchor, cfg->big, cfg->hardlinks, cfg->changed))
    return -1;
  return direct_add(&k->dir, name, x, replaces) ? -1 : 1;
}

/* Packs the chosen names of a listing, NUL-separated (listing_pack), in memory of its own. */
static char *pack_names(char **names, const size_t *idx, size_t n, size_t *len)
{
  *len = listing_pack(names, idx, n, NULL);
  char *p = malloc(*len ? *len : 1);
  if (p)
    listing_pack(names, idx, n, p);
  return p;
}

bool kept_to_rec(struct kept *k, char **src_names, char **dest_names, struct dirty_rec *rec)
{
  rec->names = pack_names(src_names, k->keep, k->nkeep, &rec->nlen);
  rec->xnames = pack_names(dest_names, k->extra, k->nextra, &rec->xlen);
  if (!rec->names || !rec->xnames)
    return false;
  rec->meta = k->meta;
  rec->dmeta = k->dmeta;
  rec->xmeta = k->xmeta;
  k->meta = k->dmeta = k->xmeta = NULL;
  rec->nkeep = k->nkeep;
  rec->nextra = k->nextra;
  memcpy(rec->coll, k->coll, sizeof k->coll);
  rec->ops = k->dir.ops;
  rec->oplen = k->dir.len;
  rec->opcount = k->dir.count;
  rec->opreplaced = k->dir.replaced;
  rec->opbytes = k->dir.bytes;
  k->dir.ops = NULL;
  rec->listed = true;
  return true;
}

/* One record's object; false when out of memory. */
static bool dirty_object(napi_env env, const struct dirty_rec *r, napi_value *o)
{
  napi_value v;
  void *data;
  if (napi_create_object(env, o) != napi_ok ||
      napi_create_buffer_copy(env, strlen(r->rel), r->rel, &data, &v) != napi_ok ||
      napi_set_named_property(env, *o, "rel", v) != napi_ok)
    return false;
  napi_value self;
  if (r->has_self && ((self = f64_copy(env, r->self, META_FIELDS)) == NULL || napi_set_named_property(env, *o, "self", self) != napi_ok))
    return false;
  if (!r->listed)
    return true;
  napi_value names, meta, dmeta, extra, xmeta, coll, ops, opcount, opbytes, opreplaced;
  if (r->opcount &&
      (napi_create_buffer_copy(env, r->oplen, r->ops, &data, &ops) != napi_ok || napi_create_uint32(env, r->opcount, &opcount) != napi_ok ||
       napi_create_double(env, r->opbytes, &opbytes) != napi_ok || napi_create_uint32(env, r->opreplaced, &opreplaced) != napi_ok ||
       napi_set_named_property(env, *o, "ops", ops) != napi_ok || napi_set_named_property(env, *o, "opCount", opcount) != napi_ok ||
       napi_set_named_property(env, *o, "opBytes", opbytes) != napi_ok || napi_set_named_property(env, *o, "opReplaced", opreplaced) != napi_ok))
    return false;
  return napi_create_buffer_copy(env, r->nlen, r->nlen ? r->names : "", &data, &names) == napi_ok &&
         napi_create_buffer_copy(env, r->xlen, r->xlen ? r->xnames : "", &data, &extra) == napi_ok &&
         (meta = f64_copy(env, r->meta, r->nkeep * META_FIELDS)) != NULL &&
         (dmeta = f64_copy(env, r->dmeta, r->nkeep * META_FIELDS)) != NULL &&
         (xmeta = f64_copy(env, r->xmeta, r->nextra * META_FIELDS)) != NULL &&
         (coll = f64_copy(env, r->coll, 3)) != NULL &&
         napi_set_named_property(env, *o, "names", names) == napi_ok &&
         napi_set_named_property(env, *o, "meta", meta) == napi_ok &&
         napi_set_named_property(env, *o, "dmeta", dmeta) == napi_ok &&
         napi_set_named_property(env, *o, "extra", extra) == napi_ok &&
         napi_set_named_property(env, *o, "extraMeta", xmeta) == napi_ok &&
         napi_set_named_property(env, *o, "collapsed", coll) == napi_ok;
}

napi_value dirty_array(napi_env env, const struct dirty_rec *recs, size_t n)
{
  napi_value arr;
  if (napi_create_array_with_length(env, n, &arr) != napi_ok)
    return NULL;
  for (size_t i = 0; i < n; i++) {
    napi_value o;
    if (!dirty_object(env, &recs[i], &o) || napi_set_element(env, arr, (uint32_t)i, o) != napi_ok)
      return NULL;
  }
  return arr;
}
