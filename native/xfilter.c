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

/* One rule's say on `name` in one side's view: 1 excluded, 0 included, -1 the rule does not match (or
 * is not in that view). */
static int rule_says(const char *pattern, uint32_t bits, const char *name, bool sender)
{
  /* A rule for one side only ("s" or "r", not both) is not in the other side's view. */
  if ((bits & (XR_SENDER | XR_RECEIVER)) == (sender ? XR_RECEIVER : XR_SENDER))
    return -1;
  bool m = bits & XR_WILD ? fnmatch(pattern, name, 0) == 0 : strcmp(pattern, name) == 0;
  if (bits & XR_NEGATE)
    m = !m;
  return m ? !(bits & XR_INCLUDE) : -1;
}

bool xfilter_excluded(const struct xfilter *f, const char *name, bool sender)
{
  for (uint32_t i = 0; i < f->count; i++) {
    int says = rule_says(f->rules[i].pattern, f->rules[i].bits, name, sender);
    if (says >= 0)
      return says;
  }
  return false;
}

void xview_of(const uint8_t *p, uint32_t len, struct xview *v)
{
  *v = (struct xview){0};
  if (!len)
    return;
  v->own = true;
  v->send = p;
  v->send_len = len;
  /* Patterns end in NULs and bits stay below XV_GEN, so the first XV_GEN byte at a rule's start is the
   * one between the views (batch.h batch_xrules_ok checked the bytes). */
  for (uint32_t i = 0; i < len;) {
    if (p[i] == XV_GEN) {
      v->send_len = i;
      v->gen = p + i + 1;
      v->gen_len = len - i - 1;
      v->has_gen = true;
      return;
    }
    const uint8_t *nul = memchr(p + i + 1, 0, len - i - 1);
    i = (uint32_t)(nul - p) + 1;
  }
}

bool xrules_excluded(const uint8_t *p, uint32_t len, const char *name, bool sender)
{
  for (uint32_t i = 0; i < len;) {
    const char *pattern = (const char *)p + i + 1;
    int says = rule_says(pattern, p[i], name, sender);
    if (says >= 0)
      return says;
    i += 2 + (uint32_t)strlen(pattern);
  }
  return false;
}
