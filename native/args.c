/* napi argument helpers (args.h): the checks every entry point makes on its arguments, and the
 * Float64Array copies the scans return. */
#include "args.h"

#include <limits.h>
#include <string.h>

#include "errors.h"

long args_get(napi_env env, napi_callback_info info, napi_value *argv, size_t n)
{
  size_t argc = n;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) {
    throw_error(env, "internal node-api call failed: napi_get_cb_info");
    return -1;
  }
  return (long)argc;
}

bool arg_absent(napi_env env, napi_value v)
{
  napi_valuetype t;
  return napi_typeof(env, v, &t) == napi_ok && (t == napi_undefined || t == napi_null);
}

bool arg_int64(napi_env env, napi_value v, int64_t *out)
{
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok || d != d)
    return false;
  *out = (int64_t)d;
  return true;
}

bool arg_buffer(napi_env env, napi_value v, const uint8_t **p, uint32_t *len)
{
  bool isbuf = false;
  void *data;
  size_t n;
  if (napi_is_buffer(env, v, &isbuf) != napi_ok || !isbuf || napi_get_buffer_info(env, v, &data, &n) != napi_ok ||
      n > UINT32_MAX)
    return false;
  *p = data;
  *len = (uint32_t)n;
  return true;
}

bool arg_path(napi_env env, napi_value v, const uint8_t **p, uint32_t *n)
{
  bool isbuf = false;
  if (napi_is_buffer(env, v, &isbuf) != napi_ok || !isbuf)
    return throw_type(env, "path must be a Buffer"), false;
  void *data;
  size_t len;
  if (napi_get_buffer_info(env, v, &data, &len) != napi_ok)
    return throw_error(env, "internal node-api call failed: napi_get_buffer_info"), false;
  if (len > UINT32_MAX)
    return throw_range(env, "path is too long"), false;
  if (len && memchr(data, 0, len))
    return throw_type(env, "path must not contain NUL bytes"), false;
  *p = data;
  *n = (uint32_t)len;
  return true;
}

bool arg_anchor(napi_env env, napi_value v, uint32_t *out)
{
  napi_valuetype t;
  double d;
  if (napi_typeof(env, v, &t) != napi_ok)
    return false;
  if (t == napi_undefined) {
    *out = 0;
    return true;
  }
  if (t != napi_number || napi_get_value_double(env, v, &d) != napi_ok || !(d >= 0 && d < PATH_MAX) ||
      d != (double)(uint32_t)d)
    return false;
  *out = (uint32_t)d;
  return true;
}

const double *arg_f64(napi_env env, napi_value v, size_t n)
{
  bool is_ta = false;
  napi_typedarray_type tt;
  size_t len = 0;
  void *data = NULL;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta ||
      napi_get_typedarray_info(env, v, &tt, &len, &data, NULL, NULL) != napi_ok || tt != napi_float64_array ||
      len < n)
    return NULL;
  return data;
}

void *arg_external(napi_env env, napi_value v, const napi_type_tag *tag)
{
  bool ok = false;
  napi_valuetype t;
  void *p = NULL;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_external || napi_check_object_type_tag(env, v, tag, &ok) != napi_ok ||
      !ok || napi_get_value_external(env, v, &p) != napi_ok)
    return NULL;
  return p;
}

napi_value f64_copy(napi_env env, const double *from, size_t n)
{
  napi_value ab, ta;
  void *p;
  if (napi_create_arraybuffer(env, (n ? n : 1) * sizeof(double), &p, &ab) != napi_ok ||
      napi_create_typedarray(env, napi_float64_array, n, ab, 0, &ta) != napi_ok)
    return NULL;
  if (n)
    memcpy(p, from, n * sizeof(double));
  return ta;
}
