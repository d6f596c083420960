/* The direct path of a plain fresh copy (direct.h): File ops encoded in C from the listing's statx,
 * byte for byte what src/engine/batch.ts BatchWriter writes for the same entry (a contract test,
 * test/contract/direct-ops.test.ts, holds the two together). The engines run these ops as any other,
 * so every safety rule of an op holds (temp file and rename, O_NOFOLLOW, the dev/ino check). */
#include "direct.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "listing.h"
#include "quickcheck.h"

static uint8_t *dup_bytes(const uint8_t *p, uint32_t n)
{
  uint8_t *out = malloc(n ? n : 1);
  if (out && n)
    memcpy(out, p, n);
  return out;
}

void direct_free(struct direct *d)
{
  free(d->src);
  free(d->rel);
  free(d->ops);
  *d = (struct direct){0};
}

int direct_set(struct direct *d, const uint8_t *src, uint32_t srclen, const uint8_t *rel, uint32_t rellen,
               uint32_t anchor, double big, bool hardlinks, bool changed)
{
  direct_free(d);
  d->src = dup_bytes(src, srclen);
  d->rel = dup_bytes(rel, rellen);
  if (!d->src || !d->rel) {
    direct_free(d);
    return ENOMEM;
  }
  d->srclen = srclen;
  d->rellen = rellen;
  d->anchor = anchor;
  d->big = big;
  d->hardlinks = hardlinks;
  d->changed = changed;
  d->on = true;
  return 0;
}

bool direct_takes(const struct direct *d, const struct statx *s)
{
  return d->on && S_ISREG(s->stx_mode) && (double)s->stx_size < d->big && !(d->hardlinks && s->stx_nlink > 1);
}

bool direct_replaces(const struct direct *d, const struct quick *q, const struct statx *s, const struct statx *dst)
{
  return d->changed && (q->bits & SP_COLLAPSE) && S_ISREG(dst->stx_mode) && dst->stx_nlink == 1 && direct_takes(d, s) &&
         quick_data_differs(q, s, dst);
}

static void put_u32(uint8_t *p, uint32_t v)
{
  memcpy(p, &v, sizeof v);
}

static void put_f64(uint8_t *p, double v)
{
  memcpy(p, &v, sizeof v);
}

/* util/names.ts joinPath's rule: nothing before a name joins as the name itself, and a directory
 * that already ends with "/" takes no second one. */
static uint32_t join_len(uint32_t dirlen, const uint8_t *dir, size_t namelen)
{
  if (dirlen == 0)
    return (uint32_t)namelen;
  return dirlen + (dir[dirlen - 1] == '/' ? 0 : 1) + (uint32_t)namelen;
}

static uint8_t *join_into(uint8_t *out, const uint8_t *dir, uint32_t dirlen, const char *name, size_t namelen)
{
  if (dirlen) {
    memcpy(out, dir, dirlen);
    out += dirlen;
    if (dir[dirlen - 1] != '/')
      *out++ = '/';
  }
  memcpy(out, name, namelen);
  return out + namelen;
}

int direct_add(struct direct *d, const char *name, const struct statx *s, bool replaces)
{
  size_t namelen = strlen(name);
  uint32_t sl = join_len(d->srclen, d->src, namelen), dl = join_len(d->rellen, d->rel, namelen);
  size_t need = OP_HEADER + (((size_t)sl + dl + 7) & ~(size_t)7);
  if (d->len + need > d->cap) {
    size_t cap = d->cap ? d->cap * 2 : 4096; /* one page: a dirty directory of a re-sync holds a few */
    while (cap < d->len + need)
      cap *= 2;
    uint8_t *grown = realloc(d->ops, cap);
    if (!grown)
      return ENOMEM;
    d->ops = grown;
    d->cap = cap;
  }
  /* The same numbers the listing hands TypeScript (listing_fill), so both paths encode one value. */
  double m[META_FIELDS];
  listing_fill(m, s, 0);
  uint8_t *h = d->ops + d->len;
  memset(h, 0, need);
  h[0] = OP_FILE;
  put_u32(h + 4, sl);
  put_u32(h + 8, dl);
  put_u32(h + 12, (uint32_t)m[0]);
  put_u32(h + 16, (uint32_t)m[1]);
  put_u32(h + 20, (uint32_t)m[2]);
  put_u32(h + 24, (uint32_t)m[5]);
  put_u32(h + 28, d->anchor);
  put_f64(h + 32, m[3]);
  put_f64(h + 40, m[4]);
  put_f64(h + 48, m[6]);
  put_f64(h + 56, m[7]);
  put_f64(h + 64, m[9]);
  put_f64(h + 72, m[12]);
  uint8_t *p = join_into(h + OP_HEADER, d->src, d->srclen, name, namelen);
  join_into(p, d->rel, d->rellen, name, namelen);
  d->len += need;
  d->count++;
  d->replaced += replaces;
  d->bytes += m[3];
  return 0;
}

void direct_reset(struct direct *d)
{
  d->len = 0;
  d->count = 0;
  d->replaced = 0;
  d->bytes = 0;
}
