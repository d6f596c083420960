/* --iconv's filename conversion: glibc iconv(3) behind three exports.
 *   iconvCharset()            the locale's charset (nl_langinfo(CODESET) of LC_CTYPE from the
 *                             environment, as rsync's setlocale(LC_CTYPE, "") gives it), for --iconv=.
 *   iconvOpen(to, from)       a descriptor (an External, closed when collected) or the errno
 *                             iconv_open(3) failed with
 *   iconvConvert(h, buf, f)   buf converted whole: a Buffer, or { errno, out } where out is what was
 *                             converted before the sequence that stopped it (EILSEQ, EINVAL)
 * The descriptor's shift state is reset before each name (rsync's ICB_INIT). */
#include "iconv.h"

#include <errno.h>
#include <iconv.h>
#include <langinfo.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"

static const napi_type_tag ICONV_TAG = {0x6172737969636f6eULL, 0x7664657363723031ULL};

static void iconv_free(napi_env env, void *data, void *hint)
{
  (void)env;
  (void)hint;
  iconv_close((iconv_t)data);
}

napi_value iconv_charset(napi_env env, napi_callback_info info)
{
  (void)info;
  /* A private locale object: the process's own locale (Node's "C") is left alone. */
  locale_t loc = newlocale(LC_CTYPE_MASK, "", (locale_t)0);
  const char *set = loc ? nl_langinfo_l(CODESET, loc) : NULL;
  if (!set) {
    /* No such locale installed: glibc's setlocale would fail too and leave "C", whose charset this is. */
    set = "ANSI_X3.4-1968";
  }
  napi_value out;
  napi_status st = napi_create_string_utf8(env, set, NAPI_AUTO_LENGTH, &out);
  if (loc)
    freelocale(loc);
  return st == napi_ok ? out : NULL;
}

/* A string argument into buf: 1, or 0 when it is not a string, or -1 when it is too long to be a
 * charset name (or holds a NUL, which would cut it short) and so names no charset. */
static int arg_charset(napi_env env, napi_value v, char *buf, size_t size)
{
  size_t n;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &n) != napi_ok)
    return 0;
  if (n >= size)
    return -1;
  if (napi_get_value_string_utf8(env, v, buf, size, &n) != napi_ok)
    return 0;
  return strlen(buf) == n ? 1 : -1;
}

napi_value iconv_open_js(napi_env env, napi_callback_info info)
{
  ARGS(2);
  char to[256], from[256];
  int t = argc < 2 ? 0 : arg_charset(env, argv[0], to, sizeof to);
  int f = argc < 2 ? 0 : arg_charset(env, argv[1], from, sizeof from);
  if (t == 0 || f == 0) {
    napi_throw_type_error(env, NULL, "iconvOpen(to: string, from: string)");
    return NULL;
  }
  napi_value out;
  iconv_t cd = t < 0 || f < 0 ? (errno = EINVAL, (iconv_t)-1) : iconv_open(to, from);
  if (cd == (iconv_t)-1) {
    if (napi_create_int32(env, errno, &out) != napi_ok)
      return NULL;
    return out;
  }
  if (napi_create_external(env, (void *)cd, iconv_free, NULL, &out) != napi_ok) {
    iconv_close(cd);
    return NULL;
  }
  if (napi_type_tag_object(env, out, &ICONV_TAG) != napi_ok)
    return NULL;
  return out;
}

/* in[0..n) through cd into a growing buffer; *err is 0, or the errno that stopped it. */
static char *convert(iconv_t cd, const uint8_t *in, size_t n, int64_t flags, size_t *outlen, int *err)
{
  size_t cap = n * 2 + 16, used = 0;
  char *out = malloc(cap);
  if (!out)
    return NULL;
  char *ip = (char *)in;
  size_t left = n;
  *err = 0;
  iconv(cd, NULL, NULL, NULL, NULL);
  while (left) {
    char *op = out + used;
    size_t room = cap - used;
    size_t r = iconv(cd, &ip, &left, &op, &room);
    used = (size_t)(op - out);
    if (r != (size_t)-1)
      break;
    int e = errno;
    if (e == E2BIG || (cap - used) < 8) {
      char *grown = realloc(out, cap * 2);
      if (!grown) {
        free(out);
        return NULL;
      }
      out = grown;
      cap *= 2;
      if (e == E2BIG)
        continue;
    }
    if ((e == EILSEQ && (flags & ICONV_INCLUDE_BAD)) || (e == EINVAL && (flags & ICONV_INCLUDE_INCOMPLETE))) {
      out[used++] = *ip++;
      left--;
      continue;
    }
    if (e == EINTR)
      continue;
    *err = e;
    break;
  }
  *outlen = used;
  return out;
}

napi_value iconv_convert(napi_env env, napi_callback_info info)
{
  ARGS(3);
  iconv_t cd = (iconv_t)arg_external(env, argv[0], &ICONV_TAG);
  const uint8_t *in;
  uint32_t n;
  int64_t flags = 0;
  if (!cd || !arg_buffer(env, argv[1], &in, &n) || (!arg_absent(env, argv[2]) && !arg_int64(env, argv[2], &flags))) {
    napi_throw_type_error(env, NULL, "iconvConvert(handle: object, name: Buffer, flags?: number)");
    return NULL;
  }
  size_t len;
  int err;
  char *out = convert(cd, in, n, flags, &len, &err);
  if (!out) {
    napi_throw_error(env, "ENOMEM", "iconvConvert: out of memory");
    return NULL;
  }
  napi_value buf;
  napi_status st = napi_create_buffer_copy(env, len, out, NULL, &buf);
  free(out);
  if (st != napi_ok)
    return NULL;
  if (!err)
    return buf;
  napi_value obj, e;
  if (napi_create_object(env, &obj) != napi_ok || napi_create_int32(env, err, &e) != napi_ok ||
      napi_set_named_property(env, obj, "errno", e) != napi_ok || napi_set_named_property(env, obj, "out", buf) != napi_ok)
    return NULL;
  return obj;
}
