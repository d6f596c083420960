/* A pull's file list decoded in C: rsync's recv_file_entry for the entries nearly every list is made of,
 * as many as have arrived, into flat arrays (numbers in a Float64Array, names, targets and checksums
 * packed in one buffer) that src/remote/flist-native.ts turns into entries. Everything else stops the
 * call at that entry's first byte for the TypeScript decoder (src/remote/flist.ts, which also owns every
 * message a refusal prints): the end marker, an -H entry, an id whose name follows it, a name that needs
 * cleaning or is ".", and any value rsync refuses. Only a complete entry is taken: the state changes
 * after its last byte is read, so a call that meets a partial entry leaves it for the next one. Every
 * read is checked against the input's end; every write against the output's size.
 * test/contract/flist-decode.test.ts holds the two decoders to the same entries. */
#include "flistdec.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "args.h"
#include "xmit.h"

/* rsync's IOERR limit on nanoseconds (read_varint_bounded's upper bound). */
#define MAX_WIRE_NSEC 999999999

/* A read position; `why` says what stopped it. */
struct rd {
  const uint8_t *b;
  size_t pos, end;
  int why;
};

static bool need(struct rd *r, size_t n)
{
  if (r->end - r->pos >= n)
    return true;
  r->why = FLD_STOP_SHORT;
  return false;
}

/* The other stop: an entry TypeScript decodes, or refuses with rsync's message. */
static bool other(struct rd *r)
{
  r->why = FLD_STOP_OTHER;
  return false;
}

static bool byte(struct rd *r, uint32_t *v)
{
  if (!need(r, 1))
    return false;
  *v = r->b[r->pos++];
  return true;
}

/* How many bytes follow a varint's first byte: its leading one-bits, at most 6. */
static int extra_bytes(uint8_t first)
{
  int n = 0;
  for (unsigned bit = 0x80; n < 6 && (first & bit); bit >>= 1)
    n++;
  return n;
}

/* rsync's read_varint: a signed 32-bit value in 1 to 5 bytes. */
static bool varint(struct rd *r, int32_t *v)
{
  if (!need(r, 1))
    return false;
  uint8_t first = r->b[r->pos];
  int extra = extra_bytes(first);
  if (extra >= 5)
    return other(r);
  if (!need(r, 1 + (size_t)extra))
    return false;
  uint32_t u = 0;
  for (int i = 0; i < extra; i++)
    u |= (uint32_t)r->b[r->pos + 1 + i] << (8 * i);
  if (extra < 4)
    u |= (uint32_t)(first & ((1u << (8 - extra)) - 1)) << (8 * extra);
  r->pos += 1 + (size_t)extra;
  *v = (int32_t)u;
  return true;
}

/* rsync's read_varlong of at least `min` bytes; a value past 2^53 either way is TypeScript's to refuse. */
static bool varlong(struct rd *r, int min, int64_t *v)
{
  if (!need(r, (size_t)min))
    return false;
  uint8_t first = r->b[r->pos];
  int extra = extra_bytes(first);
  if (min + extra > 9)
    return other(r);
  if (!need(r, (size_t)(min + extra)))
    return false;
  int n = min + extra - 1;
  uint8_t top = extra ? (uint8_t)(first & ((1u << (8 - extra)) - 1)) : first;
  uint64_t u = 0;
  for (int i = 0; i < 8 && i <= n; i++)
    u |= (uint64_t)(i < n ? r->b[r->pos + 1 + i] : top) << (8 * i);
  int64_t s = (int64_t)u;
  const int64_t lim = ((int64_t)1 << 53) - 1;
  if (s > lim || s < -lim)
    return other(r);
  r->pos += (size_t)(min + extra);
  *v = s;
  return true;
}

static bool int32le(struct rd *r, uint32_t *v)
{
  if (!need(r, 4))
    return false;
  const uint8_t *p = r->b + r->pos;
  *v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
  r->pos += 4;
  return true;
}

/* A name with no NUL, no leading, trailing or doubled "/", and no "." or ".." component: what rsync's
 * clean_fname leaves as it is (the TypeScript twin is flist.ts alreadyClean). Any other name, "." among
 * them, goes to TypeScript, which cleans it or refuses it. */
static bool already_clean(const uint8_t *s, size_t n)
{
  if (n == 0 || s[0] == '/' || s[n - 1] == '/')
    return false;
  size_t start = 0;
  for (size_t i = 0; i <= n; i++) {
    uint8_t b = i < n ? s[i] : '/';
    if (b == 0)
      return false;
    if (b != '/')
      continue;
    size_t len = i - start;
    if (len == 0 || (s[start] == '.' && (len == 1 || (len == 2 && s[start + 1] == '.'))))
      return false;
    start = i + 1;
  }
  return true;
}

static bool known_type(uint32_t mode)
{
  switch (mode & S_IFMT) {
  case S_IFDIR:
  case S_IFREG:
  case S_IFLNK:
  case S_IFCHR:
  case S_IFBLK:
  case S_IFIFO:
  case S_IFSOCK:
    return true;
  default:
    return false;
  }
}

/* What one call works on. */
struct dec {
  unsigned bits;
  int protocol;
  size_t sum_len;
  double *st;
  uint8_t *last; /* XMIT_MAXPATHLEN bytes: the previous name */
  double *nums;
  size_t slots, count;
  uint8_t *out;
  size_t out_len, used;
};

/* One entry, committed only when whole; false with r->why set when it stops before it. */
static bool entry(struct dec *d, struct rd *r)
{
  const unsigned bits = d->bits;
  double *st = d->st;
  uint32_t flags, b;
  if (bits & FLD_VARINT_FLAGS) {
    int32_t f;
    if (!varint(r, &f))
      return false;
    flags = (uint32_t)f;
  } else {
    if (!byte(r, &flags))
      return false;
    if (flags & X_EXTENDED_FLAGS) {
      if (!byte(r, &b))
        return false;
      flags |= b << 8;
    }
  }
  /* The end (0 or, without varint flags, the I/O-error form), hard links and names after ids: TypeScript's. */
  if (flags == 0 || (!(bits & FLD_VARINT_FLAGS) && flags == (X_EXTENDED_FLAGS | X_IO_ERROR_ENDLIST)))
    return other(r);
  if ((bits & FLD_HARD_LINKS) && (flags & X_HLINKED))
    return other(r);
  if (((bits & FLD_UID) && !(flags & X_SAME_UID) && (flags & X_USER_NAME_FOLLOWS)) ||
      ((bits & FLD_GID) && !(flags & X_SAME_GID) && (flags & X_GROUP_NAME_FOLLOWS)))
    return other(r);
  uint32_t l1 = 0;
  if ((flags & X_SAME_NAME) && !byte(r, &l1))
    return false;
  int32_t l2;
  if (flags & X_LONG_NAME) {
    if (!varint(r, &l2))
      return false;
  } else {
    uint32_t s;
    if (!byte(r, &s))
      return false;
    l2 = (int32_t)s;
  }
  const size_t last_len = (size_t)st[FLD_S_LAST_LEN];
  if (l1 > last_len || l2 < 0 || (uint32_t)l2 >= XMIT_MAXPATHLEN - l1)
    return other(r);
  if (!need(r, (size_t)l2))
    return false;
  const uint8_t *tail = r->b + r->pos;
  r->pos += (size_t)l2;
  const size_t name_len = l1 + (size_t)l2;

  int64_t size, mtime = (int64_t)st[FLD_S_MTIME], atime = (int64_t)st[FLD_S_ATIME];
  int32_t nsec = 0, v;
  uint32_t mode = (uint32_t)st[FLD_S_MODE], uid = (uint32_t)st[FLD_S_UID], gid = (uint32_t)st[FLD_S_GID];
  uint32_t rmaj = (uint32_t)st[FLD_S_RDEV_MAJOR], rmin = 0;
  bool rdev = false;
  if (!varlong(r, 3, &size))
    return false;
  if (size < 0)
    return other(r);
  if (!(flags & X_SAME_TIME) && !varlong(r, 4, &mtime))
    return false;
  if (flags & X_MOD_NSEC) {
    if (!varint(r, &nsec))
      return false;
    if (nsec < 0 || nsec > MAX_WIRE_NSEC)
      return other(r);
  }
  if (!(flags & X_SAME_MODE) && !int32le(r, &mode))
    return false;
  if (!known_type(mode))
    return other(r);
  const bool dir = S_ISDIR(mode), dev = S_ISCHR(mode) || S_ISBLK(mode), special = S_ISFIFO(mode) || S_ISSOCK(mode);
  if ((bits & FLD_ATIMES) && !dir && !(flags & X_SAME_ATIME) && !varlong(r, 4, &atime))
    return false;
  if ((bits & FLD_UID) && !(flags & X_SAME_UID)) {
    if (!varint(r, &v))
      return false;
    uid = (uint32_t)v;
  }
  if ((bits & FLD_GID) && !(flags & X_SAME_GID)) {
    if (!varint(r, &v))
      return false;
    gid = (uint32_t)v;
  }
  if (((bits & FLD_DEVICES) && dev) || ((bits & FLD_SPECIALS) && special && d->protocol < 31)) {
    if (!(flags & X_SAME_RDEV_MAJOR)) {
      if (!varint(r, &v))
        return false;
      rmaj = (uint32_t)v;
    }
    if (!varint(r, &v))
      return false;
    rmin = (uint32_t)v;
    rdev = true;
    size = 0;
  } else if (dev) {
    size = 0;
  }
  const uint8_t *link = NULL;
  size_t link_len = 0;
  if ((bits & FLD_LINKS) && S_ISLNK(mode)) {
    if (!varint(r, &v))
      return false;
    if (v <= 0 || v >= XMIT_MAXPATHLEN)
      return other(r);
    if (!need(r, (size_t)v))
      return false;
    link = r->b + r->pos;
    link_len = (size_t)v;
    r->pos += link_len;
  }
  const uint8_t *sum = NULL;
  size_t sum_len = 0;
  if (d->sum_len && S_ISREG(mode)) {
    if (!need(r, d->sum_len))
      return false;
    sum = r->b + r->pos;
    sum_len = d->sum_len;
    r->pos += sum_len;
  }
  /* The whole entry has arrived. The name is the previous one's first l1 bytes and the new ones. */
  if (d->count >= d->slots || d->out_len - d->used < name_len + link_len + sum_len) {
    r->why = FLD_STOP_FULL;
    return false;
  }
  uint8_t *name = d->out + d->used;
  memcpy(name, d->last, l1);
  memcpy(name + l1, tail, (size_t)l2);
  if (!already_clean(name, name_len))
    return other(r);
  if (link_len)
    memcpy(name + name_len, link, link_len);
  if (sum_len)
    memcpy(name + name_len + link_len, sum, sum_len);
  memcpy(d->last + l1, tail, (size_t)l2);
  d->used += name_len + link_len + sum_len;
  st[FLD_S_LAST_LEN] = (double)name_len;
  st[FLD_S_MTIME] = (double)mtime;
  st[FLD_S_MODE] = mode;
  st[FLD_S_UID] = uid;
  st[FLD_S_GID] = gid;
  st[FLD_S_ATIME] = (double)atime;
  st[FLD_S_RDEV_MAJOR] = rmaj;
  double *e = d->nums + d->count++ * FLD_ENTRY;
  e[FLD_E_NAME_LEN] = (double)name_len;
  e[FLD_E_MODE] = mode;
  e[FLD_E_SIZE] = (double)size;
  e[FLD_E_MTIME] = (double)mtime;
  e[FLD_E_NSEC] = nsec;
  e[FLD_E_ATIME] = (double)atime;
  e[FLD_E_UID] = uid;
  e[FLD_E_GID] = gid;
  e[FLD_E_RDEV_MAJOR] = rmaj;
  e[FLD_E_RDEV_MINOR] = rmin;
  e[FLD_E_LINK_LEN] = (double)link_len;
  e[FLD_E_FLAGS] = (dir && (flags & X_TOP_DIR) ? FLD_F_TOP_DIR : 0) | (dir && (flags & X_NO_CONTENT_DIR) ? FLD_F_NO_CONTENT : 0) |
                   (rdev ? FLD_F_RDEV : 0);
  return true;
}

/* A typed array's bytes and length, of the type wanted. */
static bool typed(napi_env env, napi_value v, napi_typedarray_type want, void **p, size_t *n)
{
  bool is;
  napi_typedarray_type t;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is)
    return false;
  if (napi_get_typedarray_info(env, v, &t, n, p, NULL, NULL) != napi_ok)
    return false;
  return t == want;
}

napi_value flist_decode(napi_env env, napi_callback_info info)
{
  ARGS(8);
  void *in, *st, *last, *nums, *out;
  size_t in_len, st_len, last_len, nums_len, out_len;
  int64_t bits, protocol, sum_len;
  if (!typed(env, argv[0], napi_uint8_array, &in, &in_len) || !arg_int64(env, argv[1], &bits) ||
      !arg_int64(env, argv[2], &protocol) || !arg_int64(env, argv[3], &sum_len) || sum_len < 0 || sum_len > 64 ||
      !typed(env, argv[4], napi_float64_array, &st, &st_len) || st_len < FLD_STATE_LEN ||
      !typed(env, argv[5], napi_uint8_array, &last, &last_len) || last_len < XMIT_MAXPATHLEN ||
      !typed(env, argv[6], napi_float64_array, &nums, &nums_len) || !typed(env, argv[7], napi_uint8_array, &out, &out_len)) {
    napi_throw_type_error(env, NULL, "flistDecode(input, bits, protocol, sumLen, state, last, nums, bytes)");
    return NULL;
  }
  double *s = st;
  double pos = s[FLD_S_POS], prev = s[FLD_S_LAST_LEN];
  if (!(pos >= 0 && pos <= (double)in_len) || !(prev >= 0 && prev < XMIT_MAXPATHLEN)) {
    napi_throw_range_error(env, NULL, "flistDecode: position or previous name length out of range");
    return NULL;
  }
  struct dec d = {(unsigned)bits, (int)protocol, (size_t)sum_len, s, last, nums, nums_len / FLD_ENTRY, 0, out, out_len, 0};
  struct rd r = {in, (size_t)pos, in_len, FLD_STOP_SHORT};
  for (;;) {
    size_t at = r.pos;
    if (!entry(&d, &r)) {
      r.pos = at;
      break;
    }
  }
  s[FLD_S_POS] = (double)r.pos;
  s[FLD_S_USED] = (double)d.used;
  s[FLD_S_STOP] = r.why;
  napi_value n;
  if (napi_create_uint32(env, (uint32_t)d.count, &n) != napi_ok)
    return NULL;
  return n;
}
