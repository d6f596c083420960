/* rsync's file-list order (f_name_cmp, protocol 29+) for a received list, sorted in C: a pull's
 * receiver sorts every entry it is sent (rsync's sender sends each directory in readdir order), and
 * with a comparison called from JavaScript's sort that was ~0.1 s of a Linux-tree pull. The rule is
 * src/remote/flist-order.ts's compareNames, turned into a key per name that memcmp orders the same way
 * (make_key); test/contract/flist-sort.test.ts holds the two together on generated and hostile names. */
#include "flistsort.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"

struct item {
  const uint8_t *key;
  uint32_t len;
  uint32_t idx;
};

/*
 * A name's sort key, which memcmp orders as compareNames orders the names: each component as a kind
 * byte (1 a file, 2 a directory: the last one is a directory when the entry is, every other one is),
 * its bytes, and an end (a directory's "/", since rsync compares a directory as its name with a "/"
 * after it; a file's 0, before every byte, as a file name that is a prefix of another comes first).
 * The root "." is the empty key, first. Names hold no NUL (flist.ts refuses them). At most 2 + 2 * len
 * bytes.
 */
static uint32_t make_key(const uint8_t *name, uint32_t len, int dir, uint8_t *out)
{
  if (len == 1 && name[0] == '.')
    return 0;
  uint32_t o = 0, at = 0;
  for (uint32_t i = 0; i <= len; i++) {
    if (i < len && name[i] != '/')
      continue;
    int last = i == len;
    int d = !last || dir;
    out[o++] = d ? 2 : 1;
    memcpy(out + o, name + at, i - at);
    o += i - at;
    out[o++] = d ? '/' : 0;
    at = i + 1;
  }
  return o;
}

static int cmp_item(const void *pa, const void *pb)
{
  const struct item *a = pa, *b = pb;
  uint32_t n = a->len < b->len ? a->len : b->len;
  int c = memcmp(a->key, b->key, n);
  if (c)
    return c;
  if (a->len != b->len)
    return a->len < b->len ? -1 : 1;
  return a->idx < b->idx ? -1 : a->idx > b->idx ? 1 : 0;
}

static int same_key(const struct item *a, const struct item *b)
{
  return a->len == b->len && memcmp(a->key, b->key, a->len) == 0;
}

/* Where a directory's key's last component starts (its kind byte): after the last "/" end before its own. */
static uint32_t last_component(const struct item *d)
{
  uint32_t i = d->len - 1;
  while (i > 0 && d->key[i - 1] != '/')
    i--;
  return i;
}

/* The first item whose key is not below `key` (ties on the key alone: the first of a run). */
static size_t lower_bound(const struct item *items, size_t n, const uint8_t *key, uint32_t len)
{
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    const struct item *m = &items[mid];
    uint32_t k = m->len < len ? m->len : len;
    int c = memcmp(m->key, key, k);
    if (c < 0 || (c == 0 && m->len < len))
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

/* A typed array argument of type `want`: its data (NULL when empty) and length; false when it is none. */
static bool typed(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *len)
{
  napi_typedarray_type t;
  bool is;
  return napi_is_typedarray(env, v, &is) == napi_ok && is &&
         napi_get_typedarray_info(env, v, &t, len, data, NULL, NULL) == napi_ok && t == want;
}

napi_value flist_order(napi_env env, napi_callback_info info)
{
  ARGS(3);
  const uint8_t *names;
  uint32_t total;
  size_t n, nd;
  void *e, *d;
  if (!arg_buffer(env, argv[0], &names, &total) || !typed(env, argv[1], napi_uint32_array, &e, &n) ||
      !typed(env, argv[2], napi_uint8_array, &d, &nd) || nd != n) {
    napi_throw_type_error(env, NULL, "flistOrder(names: Buffer, ends: Uint32Array, dirs: Uint8Array of the same length)");
    return NULL;
  }
  const uint32_t *ends = e;
  const uint8_t *dirs = d;
  struct item *items = malloc((n ? n : 1) * sizeof *items);
  uint8_t *keys = malloc(2 * (size_t)total + 2 * n + 1);
  if (!items || !keys) {
    free(items);
    free(keys);
    napi_throw_error(env, "ENOMEM", "flistOrder: out of memory");
    return NULL;
  }
  uint32_t at = 0;
  size_t ko = 0;
  for (size_t i = 0; i < n; i++) {
    if (ends[i] < at || ends[i] > total) {
      free(items);
      free(keys);
      napi_throw_range_error(env, NULL, "flistOrder: ends must rise within names");
      return NULL;
    }
    uint32_t len = make_key(names + at, ends[i] - at, dirs[i] != 0, keys + ko);
    items[i] = (struct item){keys + ko, len, (uint32_t)i};
    ko += len;
    at = ends[i];
  }
  qsort(items, n, sizeof *items, cmp_item);
  /* { order: the n indices in order, drop: n bytes, 1 where the entry is cleared }, in one buffer. */
  napi_value buf, out, ord, drp;
  void *data;
  if (napi_create_arraybuffer(env, n * (sizeof(uint32_t) + 1), &data, &buf) != napi_ok ||
      napi_create_typedarray(env, napi_uint32_array, n, buf, 0, &ord) != napi_ok ||
      napi_create_typedarray(env, napi_uint8_array, n, buf, n * sizeof(uint32_t), &drp) != napi_ok ||
      napi_create_object(env, &out) != napi_ok || napi_set_named_property(env, out, "order", ord) != napi_ok ||
      napi_set_named_property(env, out, "drop", drp) != napi_ok) {
    free(items);
    free(keys);
    return NULL;
  }
  uint32_t *order = data;
  uint8_t *drop = (uint8_t *)data + n * sizeof(uint32_t);
  for (size_t i = 0; i < n; i++) {
    order[i] = items[i].idx;
    /* The same name and kind again: the first sent stays. */
    drop[i] = i > 0 && same_key(&items[i - 1], &items[i]);
  }
  /* A non-directory of a directory's name: its key is the directory's with the last kind and end of a
   * file; the first of its run goes (the others went above), the directory stays. */
  uint8_t *fk = malloc(2 * (size_t)total + 3);
  if (!fk) {
    free(items);
    free(keys);
    napi_throw_error(env, "ENOMEM", "flistOrder: out of memory");
    return NULL;
  }
  for (size_t i = 0; i < n; i++) {
    const struct item *d = &items[i];
    /* A directory other than the root: its key ends in 2 NAME "/". */
    if (d->len < 2 || d->key[d->len - 1] != '/' || !dirs[d->idx])
      continue;
    uint32_t start = last_component(d);
    memcpy(fk, d->key, d->len);
    fk[start] = 1;
    fk[d->len - 1] = 0;
    size_t at = lower_bound(items, n, fk, d->len);
    if (at < n && items[at].len == d->len && memcmp(items[at].key, fk, d->len) == 0)
      drop[at] = 1;
  }
  free(fk);
  free(items);
  free(keys);
  return out;
}
