/* Xattr-name filter rules: see xfilter.h. A pattern with wildcards is matched with fnmatch(3) without
 * FNM_PATHNAME: for a name without a "/" (every real xattr name) that is the rule's wildcard match. */
#include "xfilter.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"

#define XFILTER_MAX (1u << 20)

bool xfilter_from_js(napi_env env, napi_value opts, struct xfilter *out)
{
  *out = (struct xfilter){0};
  napi_value v;
  napi_valuetype t;
  if (napi_get_named_property(env, opts, "xattrRules", &v) != napi_ok || napi_typeof(env, v, &t) != napi_ok)
    return false;
  if (t == napi_undefined)
    return true;
  bool isarr = false;
  uint32_t n = 0;
  if (napi_is_array(env, v, &isarr) != napi_ok || !isarr || napi_get_array_length(env, v, &n) != napi_ok || n > XFILTER_MAX) {
    throw_type(env, "opts.xattrRules must be an array of at most 1048576 rules");
    return false;
  }
  if (n == 0)
    return true;
  out->rules = calloc(n, sizeof *out->rules);
  if (!out->rules) {
    throw_error(env, "out of memory");
    return false;
  }
  for (uint32_t i = 0; i < n; i++) {
    napi_value e, p, b;
    bool isbuf = false;
    void *data = NULL;
    size_t len = 0;
    uint32_t bits = 0;
    if (napi_get_element(env, v, i, &e) != napi_ok || napi_get_named_property(env, e, "pattern", &p) != napi_ok ||
        napi_is_buffer(env, p, &isbuf) != napi_ok || !isbuf || napi_get_buffer_info(env, p, &data, &len) != napi_ok ||
        memchr(data, 0, len) || napi_get_named_property(env, e, "bits", &b) != napi_ok ||
        napi_get_value_uint32(env, b, &bits) != napi_ok || bits > 31) {
      xfilter_free(out);
      throw_type(env, "opts.xattrRules[i] must be {pattern: Buffer without NUL bytes, bits: 0..31}");
      return false;
    }
    const char *s = data;
    if (len && s[0] == '/') {
      s++;
      len--;
    }
    char *z = malloc(len + 1);
    if (!z) {
      xfilter_free(out);
      throw_error(env, "out of memory");
      return false;
    }
    memcpy(z, s, len);
    z[len] = 0;
    out->rules[out->count++] = (struct xrule){.pattern = z, .bits = bits};
  }
  return true;
}

void xfilter_free(struct xfilter *f)
{
  for (uint32_t i = 0; i < f->count; i++)
    free(f->rules[i].pattern);
  free(f->rules);
  *f = (struct xfilter){0};
}

bool xfilter_excluded(const struct xfilter *f, const char *name, bool sender)
{
  for (uint32_t i = 0; i < f->count; i++) {
    const struct xrule *r = &f->rules[i];
    /* A rule for one side only ("s" or "r", not both) is not in the other side's view. */
    if ((r->bits & (XR_SENDER | XR_RECEIVER)) == (sender ? XR_RECEIVER : XR_SENDER))
      continue;
    bool m = r->bits & XR_WILD ? fnmatch(r->pattern, name, 0) == 0 : strcmp(r->pattern, name) == 0;
    if (r->bits & XR_NEGATE)
      m = !m;
    if (m)
      return !(r->bits & XR_INCLUDE);
  }
  return false;
}
