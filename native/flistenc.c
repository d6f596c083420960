/* rsync's send_file_entry, one entry at a time (fle_entry): for a push's list (flistEncode below) and,
 * only counted, for a local run's incremental lists (streamlist.c, where a new id's name follows it).
 *
 * flistEncode(names, at, meta, bits, protocol) -> Buffer: the entries of a list flistWalk made, encoded
 * as rsync's send_file_entry writes them (protocol 30 and later, no incremental recursion): each field
 * only when it differs from the previous entry's, the name as the bytes it shares with the previous one
 * and the rest. The C twin of src/remote/flist-send.ts encodeFlist for the fields a plain walk has (no
 * -H, -A, -X, -U, -c: the walk is not used with them); the end marker and the id lists stay in
 * TypeScript. test/contract/flist-encode.test.ts holds the two encoders to the same bytes. The first
 * entry is the operand's directory (rsync's XMIT_TOP_DIR); every directory's contents are in the list. */
#include "flistenc.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "args.h"
#include "errors.h"
#include "flistwalk.h"

/* rsync's XMIT_* bits (rsync.h), as flist.ts's Xmit. */
enum {
  X_TOP_DIR = 1 << 0,
  X_SAME_MODE = 1 << 1,
  X_EXTENDED_FLAGS = 1 << 2,
  X_SAME_UID = 1 << 3,
  X_SAME_GID = 1 << 4,
  X_SAME_NAME = 1 << 5,
  X_LONG_NAME = 1 << 6,
  X_SAME_TIME = 1 << 7,
  X_SAME_RDEV_MAJOR = 1 << 8,
  X_USER_NAME_FOLLOWS = 1 << 10,
  X_GROUP_NAME_FOLLOWS = 1 << 11,
  X_MOD_NSEC = 1 << 13,
};

static void room(struct fle_out *o, size_t more)
{
  if (o->n + more <= o->cap || o->failed)
    return;
  size_t c = o->cap ? o->cap : 65536;
  while (c < o->n + more)
    c *= 2;
  uint8_t *q = realloc(o->p, c);
  if (!q) {
    o->failed = true;
    return;
  }
  o->p = q;
  o->cap = c;
}

/* One write_buf(): copied, or only counted as rsync's multiplexed output would frame it (a write that
 * does not fit in its 64 KiB buffer first sends what the buffer holds, as one MSG_DATA frame; the
 * TypeScript twin is src/run/stream-out.ts MuxCounter). */
static void put(struct fle_out *o, const void *b, size_t len)
{
  if (len == 0)
    return;
  if (o->counting) {
    if (o->held + len > MUX_OUT_SIZE)
      fle_flush(o);
    o->held += len;
    return;
  }
  room(o, len);
  if (!b)
    o->failed = true;
  if (o->failed)
    return;
  memcpy(o->p + o->n, b, len);
  o->n += len;
}

void fle_flush(struct fle_out *o)
{
  if (o->held > MUX_HEADER)
    o->written += o->held;
  o->held = MUX_HEADER;
}

static void u8(struct fle_out *o, unsigned v)
{
  uint8_t b = (uint8_t)v;
  put(o, &b, 1);
}

static void int32(struct fle_out *o, int32_t v)
{
  uint32_t u = (uint32_t)v;
  uint8_t b[4] = {(uint8_t)u, (uint8_t)(u >> 8), (uint8_t)(u >> 16), (uint8_t)(u >> 24)};
  put(o, b, 4);
}

/* rsync's write_varint: a first byte whose high bits say how many bytes follow. */
static void varint(struct fle_out *o, int32_t v)
{
  uint8_t b[5];
  uint32_t u = (uint32_t)v;
  b[0] = 0;
  for (int i = 0; i < 4; i++)
    b[1 + i] = (uint8_t)(u >> (8 * i));
  int cnt = 4;
  while (cnt > 1 && b[cnt] == 0)
    cnt--;
  int bit = 1 << (7 - cnt + 1);
  if (b[cnt] >= bit) {
    cnt++;
    b[0] = (uint8_t)~(bit - 1);
  } else if (cnt > 1) {
    b[0] = (uint8_t)(b[cnt] | ~(bit * 2 - 1));
  } else {
    b[0] = b[1];
  }
  put(o, b, (size_t)cnt);
}

/* rsync's write_varlong with at least min bytes. */
static void varlong(struct fle_out *o, int64_t v, int min)
{
  uint8_t b[9];
  uint64_t u = (uint64_t)v;
  b[0] = 0;
  for (int i = 0; i < 8; i++)
    b[1 + i] = (uint8_t)(u >> (8 * i));
  int cnt = 8;
  while (cnt > min && b[cnt] == 0)
    cnt--;
  int bit = 1 << (7 - cnt + min);
  if (b[cnt] >= bit) {
    cnt++;
    b[0] = (uint8_t)~(bit - 1);
  } else if (cnt > min) {
    b[0] = (uint8_t)(b[cnt] | ~(bit * 2 - 1));
  } else {
    b[0] = b[cnt];
  }
  put(o, b, (size_t)cnt);
}

/* An owner's or group's name after its id: one length byte (its low byte), then the name, in one write.
 * Only a counted list carries names inline (struct fle's incremental), so the bytes are not needed. */
static void id_name(struct fle_out *o, size_t len)
{
  uint8_t b = (uint8_t)len;
  put(o, &b, 1);
  put(o, NULL, len);
}

/* An id sent for the first time under incremental lists: the length of the name that follows it (rsync's
 * add_uid()/add_gid() name every new id, root's too, when it has a name), or -1 when none follows. */
static int new_id(struct fle *st, struct fle_ids *ids, uint32_t id, bool user)
{
  if (!st->incremental || (st->bits & FLE_NUMERIC_IDS))
    return -1;
  for (size_t i = 0; i < ids->n; i++)
    if (ids->v[i] == id)
      return -1;
  if (ids->n == ids->cap) {
    size_t cap = ids->cap ? ids->cap * 2 : 16;
    uint32_t *v = realloc(ids->v, cap * sizeof *v);
    if (!v)
      return -1;
    ids->v = v;
    ids->cap = cap;
  }
  ids->v[ids->n++] = id;
  return st->name_len ? st->name_len(st->name_arg, id, user) : -1;
}

/* The flag bits of an entry's owner (`user`) or group: the same as the entry before's (or not sent), else
 * a new id, which becomes the one later entries are compared with, and whose name may follow it (*name:
 * its length, or -1). */
static unsigned id_bits(struct fle *st, bool on, bool first, uint32_t id, bool user, int *name)
{
  uint32_t *last = user ? &st->uid : &st->gid;
  if (!on || (id == *last && !first))
    return user ? X_SAME_UID : X_SAME_GID;
  *last = id;
  *name = new_id(st, user ? &st->users : &st->groups, id, user);
  return *name >= 0 ? (user ? X_USER_NAME_FOLLOWS : X_GROUP_NAME_FOLLOWS) : 0;
}

void fle_free(struct fle *st)
{
  free(st->users.v);
  free(st->groups.v);
  st->users.v = st->groups.v = NULL;
  st->users.n = st->users.cap = st->groups.n = st->groups.cap = 0;
}

void fle_entry(struct fle *st, struct fle_out *o, const struct fle_ent *e, bool top)
{
  const unsigned bits = st->bits;
  const bool uidOn = bits & FLE_UID, gidOn = bits & FLE_GID, links = bits & FLE_LINKS;
  const bool devices = bits & FLE_DEVICES, specials = bits & FLE_SPECIALS;
  const int protocol = st->protocol;
  uint32_t emode = e->mode;
  bool dir = S_ISDIR(emode), dev = S_ISCHR(emode) || S_ISBLK(emode), special = S_ISFIFO(emode) || S_ISSOCK(emode);
  unsigned x = 0;
  /* Every directory of a recursive walk has its contents in the list: only the top one is marked. */
  if (dir && top)
    x = X_TOP_DIR;
  if (emode == st->mode)
    x |= X_SAME_MODE;
  else
    st->mode = emode;
  uint32_t minor = 0;
  if (devices && dev) {
    uint32_t major = e->rmaj;
    minor = e->rmin;
    if (major == st->rdev_major)
      x |= X_SAME_RDEV_MAJOR;
    else
      st->rdev_major = major;
  } else if (specials && special && protocol < 31) {
    x |= X_SAME_RDEV_MAJOR;
  }
  bool first = st->sent++ == 0;
  int uname = -1, gname = -1;
  x |= id_bits(st, uidOn, first, e->uid, true, &uname);
  x |= id_bits(st, gidOn, first, e->gid, false, &gname);
  if (e->mtime == st->mtime)
    x |= X_SAME_TIME;
  else
    st->mtime = e->mtime;
  if (e->nsec && protocol >= 31)
    x |= X_MOD_NSEC;
  const char *name = e->name;
  size_t len = e->len, l1 = 0;
  while (l1 < st->last_len && l1 < len && name[l1] == st->last[l1])
    l1++;
  size_t l2 = len - l1;
  if (l1 > 0)
    x |= X_SAME_NAME;
  if (l2 > 255)
    x |= X_LONG_NAME;
  if (bits & FLE_VARINT_FLAGS) {
    varint(o, (int32_t)(x ? x : X_EXTENDED_FLAGS));
  } else {
    if (!x && !dir)
      x |= X_TOP_DIR;
    if ((x & 0xff00) || !x) {
      x |= X_EXTENDED_FLAGS;
      u8(o, x & 0xff);
      u8(o, (x >> 8) & 0xff);
    } else {
      u8(o, x);
    }
  }
  if (x & X_SAME_NAME)
    u8(o, (unsigned)l1);
  if (x & X_LONG_NAME)
    varint(o, (int32_t)l2);
  else
    u8(o, (unsigned)l2);
  put(o, name + l1, l2);
  /* Only the first 255 bytes can ever be shared with the next name. */
  st->last_len = len < sizeof st->last ? len : sizeof st->last;
  memcpy(st->last, name, st->last_len);
  varlong(o, dev || special ? 0 : e->size, 3);
  if (!(x & X_SAME_TIME))
    varlong(o, st->mtime, 4);
  if (x & X_MOD_NSEC)
    varint(o, e->nsec);
  if (!(x & X_SAME_MODE))
    int32(o, (int32_t)st->mode);
  if (uidOn && !(x & X_SAME_UID)) {
    varint(o, (int32_t)st->uid);
    if (uname >= 0)
      id_name(o, (size_t)uname);
  }
  if (gidOn && !(x & X_SAME_GID)) {
    varint(o, (int32_t)st->gid);
    if (gname >= 0)
      id_name(o, (size_t)gname);
  }
  if ((devices && dev) || (specials && special && protocol < 31)) {
    if (!(x & X_SAME_RDEV_MAJOR))
      varint(o, (int32_t)st->rdev_major);
    varint(o, (int32_t)minor);
  }
  if (links && S_ISLNK(emode)) {
    varint(o, (int32_t)e->tlen);
    put(o, e->target, e->tlen);
  }
}

static void encode(struct fle_out *o, const char *names, size_t nlen, const uint32_t *at, const double *meta, size_t n,
                   unsigned bits, int protocol)
{
  struct fle st = {.bits = bits, .protocol = protocol};
  for (size_t i = 0; i < n && !o->failed; i++) {
    const double *m = meta + i * FLW_FIELDS;
    if (at[i] >= nlen)
      break;
    struct fle_ent e = {
      .name = names + at[i],
      .len = strnlen(names + at[i], nlen - at[i]),
      .mode = (uint32_t)m[FLW_MODE],
      .uid = (uint32_t)m[FLW_UID],
      .gid = (uint32_t)m[FLW_GID],
      .rmaj = (uint32_t)m[FLW_RMAJOR],
      .rmin = (uint32_t)m[FLW_RMINOR],
      .size = (int64_t)m[FLW_SIZE],
      .mtime = (int64_t)m[FLW_MTIME],
      .nsec = (int32_t)m[FLW_NSEC],
    };
    if (S_ISLNK(e.mode)) {
      /* The target follows its name's NUL (flistwalk.c). */
      size_t t = at[i] + e.len + 1;
      e.target = t < nlen ? names + t : "";
      e.tlen = t < nlen ? strnlen(names + t, nlen - t) : 0;
    }
    fle_entry(&st, o, &e, i == 0);
  }
  fle_free(&st);
}

napi_value flist_encode(napi_env env, napi_callback_info info)
{
  ARGS(5);
  const uint8_t *names;
  uint32_t nlen;
  void *at = NULL, *meta = NULL;
  size_t atLen = 0, metaLen = 0;
  napi_typedarray_type t1, t2;
  napi_value ab;
  size_t off;
  int64_t bits, protocol;
  if (argc < 5 || !arg_buffer(env, argv[0], &names, &nlen) ||
      napi_get_typedarray_info(env, argv[1], &t1, &atLen, &at, &ab, &off) != napi_ok || t1 != napi_uint32_array ||
      napi_get_typedarray_info(env, argv[2], &t2, &metaLen, &meta, &ab, &off) != napi_ok || t2 != napi_float64_array ||
      !arg_int64(env, argv[3], &bits) || !arg_int64(env, argv[4], &protocol) || metaLen < atLen * FLW_FIELDS)
    return throw_type(env, "flistEncode(names: Buffer, at: Uint32Array, meta: Float64Array, bits, protocol)");
  struct fle_out o = {0};
  room(&o, atLen * 24 + 64);
  encode(&o, (const char *)names, nlen, at, meta, atLen, (unsigned)bits, (int)protocol);
  napi_value buf = NULL;
  void *d;
  if (!o.failed && napi_create_buffer_copy(env, o.n, o.n ? (const void *)o.p : "", &d, &buf) != napi_ok)
    buf = NULL;
  free(o.p);
  if (!buf)
    return throw_error(env, "flistEncode: could not build the result");
  return buf;
}
