/* flistEncode(names, at, meta, bits, protocol) -> Buffer: the entries of a list flistWalk made, encoded
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
  X_MOD_NSEC = 1 << 13,
};

struct out {
  uint8_t *p;
  size_t n, cap;
  bool failed;
};

static void room(struct out *o, size_t more)
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

static void put(struct out *o, const void *b, size_t len)
{
  room(o, len);
  if (o->failed)
    return;
  memcpy(o->p + o->n, b, len);
  o->n += len;
}

static void u8(struct out *o, unsigned v)
{
  uint8_t b = (uint8_t)v;
  put(o, &b, 1);
}

static void int32(struct out *o, int32_t v)
{
  uint32_t u = (uint32_t)v;
  uint8_t b[4] = {(uint8_t)u, (uint8_t)(u >> 8), (uint8_t)(u >> 16), (uint8_t)(u >> 24)};
  put(o, b, 4);
}

/* rsync's write_varint: a first byte whose high bits say how many bytes follow. */
static void varint(struct out *o, int32_t v)
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
static void varlong(struct out *o, int64_t v, int min)
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

static void encode(struct out *o, const char *names, size_t nlen, const uint32_t *at, const double *meta, size_t n,
                   unsigned bits, int protocol)
{
  const bool uidOn = bits & FLE_UID, gidOn = bits & FLE_GID, links = bits & FLE_LINKS;
  const bool devices = bits & FLE_DEVICES, specials = bits & FLE_SPECIALS;
  uint32_t mode = 0, uid = 0, gid = 0, rdevMajor = 0;
  int64_t mtime = 0;
  const char *last = "";
  size_t lastLen = 0;
  for (size_t i = 0; i < n && !o->failed; i++) {
    const double *m = meta + i * FLW_FIELDS;
    if (at[i] >= nlen)
      break;
    const char *name = names + at[i];
    size_t len = strnlen(name, nlen - at[i]);
    uint32_t emode = (uint32_t)m[FLW_MODE];
    bool dir = S_ISDIR(emode), dev = S_ISCHR(emode) || S_ISBLK(emode), special = S_ISFIFO(emode) || S_ISSOCK(emode);
    unsigned x = 0;
    if (dir && i == 0)
      x = X_TOP_DIR;
    if (emode == mode)
      x |= X_SAME_MODE;
    else
      mode = emode;
    uint32_t minor = 0;
    if (devices && dev) {
      uint32_t major = (uint32_t)m[FLW_RMAJOR];
      minor = (uint32_t)m[FLW_RMINOR];
      if (major == rdevMajor)
        x |= X_SAME_RDEV_MAJOR;
      else
        rdevMajor = major;
    } else if (specials && special && protocol < 31) {
      x |= X_SAME_RDEV_MAJOR;
    }
    uint32_t euid = (uint32_t)m[FLW_UID], egid = (uint32_t)m[FLW_GID];
    if (!uidOn || (euid == uid && i > 0))
      x |= X_SAME_UID;
    else
      uid = euid;
    if (!gidOn || (egid == gid && i > 0))
      x |= X_SAME_GID;
    else
      gid = egid;
    int64_t emtime = (int64_t)m[FLW_MTIME];
    if (emtime == mtime)
      x |= X_SAME_TIME;
    else
      mtime = emtime;
    int32_t nsec = (int32_t)m[FLW_NSEC];
    if (nsec && protocol >= 31)
      x |= X_MOD_NSEC;
    size_t l1 = 0;
    while (l1 < lastLen && l1 < len && l1 < 255 && name[l1] == last[l1])
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
    last = name;
    lastLen = len;
    varlong(o, dev || special ? 0 : (int64_t)m[FLW_SIZE], 3);
    if (!(x & X_SAME_TIME))
      varlong(o, mtime, 4);
    if (x & X_MOD_NSEC)
      varint(o, nsec);
    if (!(x & X_SAME_MODE))
      int32(o, (int32_t)mode);
    if (uidOn && !(x & X_SAME_UID))
      varint(o, (int32_t)uid);
    if (gidOn && !(x & X_SAME_GID))
      varint(o, (int32_t)gid);
    if ((devices && dev) || (specials && special && protocol < 31)) {
      if (!(x & X_SAME_RDEV_MAJOR))
        varint(o, (int32_t)rdevMajor);
      varint(o, (int32_t)minor);
    }
    if (links && S_ISLNK(emode)) {
      /* The target follows its name's NUL (flistwalk.c). */
      size_t t = at[i] + len + 1;
      size_t tlen = t < nlen ? strnlen(names + t, nlen - t) : 0;
      varint(o, (int32_t)tlen);
      put(o, names + t, tlen);
    }
  }
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
  struct out o = {0};
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
