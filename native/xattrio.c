/* Whole xattr lists read and single values written for the remote protocol (see xattrio.h). */
#include "xattrio.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

#include "args.h"
#include "errors.h"
#include "meta.h"

/* A path argument's bytes as a C string; NULL with an exception pending. */
static char *cpath(napi_env env, napi_value v)
{
  const uint8_t *p;
  uint32_t n;
  if (!arg_path(env, v, &p, &n))
    return NULL;
  char *s = malloc((size_t)n + 1);
  if (!s) {
    throw_error(env, "out of memory");
    return NULL;
  }
  memcpy(s, p, n);
  s[n] = '\0';
  return s;
}

napi_value xattr_read(napi_env env, napi_callback_info info)
{
  ARGS(1);
  static const char usage[] = "xattrRead(target: Buffer | number)";
  if (argc < 1)
    return throw_type(env, usage);
  struct xnode node = {.fd = -1, .path = NULL};
  char *path = NULL;
  napi_valuetype t;
  NAPI_TRY(env, napi_typeof(env, argv[0], &t));
  if (t == napi_number) {
    int32_t fd;
    if (napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0)
      return throw_type(env, usage);
    node.fd = fd;
  } else {
    if (!(path = cpath(env, argv[0])))
      return NULL;
    node.path = path;
  }
  char *names = NULL, *val = NULL;
  size_t ncap = 0, vcap = 0;
  napi_value out = NULL, jnames, jvalues;
  ssize_t len = meta_xattr_names(node, &names, &ncap);
  if (len < 0) {
    out = err_object(env, (int)-len, "listxattr");
    goto done;
  }
  if (napi_create_array(env, &jnames) != napi_ok || napi_create_array(env, &jvalues) != napi_ok)
    goto fail;
  uint32_t k = 0;
  for (ssize_t i = 0; i < len; i += (ssize_t)strlen(names + i) + 1) {
    const char *name = names + i;
    ssize_t v = meta_xattr_value(node, name, &val, &vcap);
    if (v == -ENODATA)
      continue; /* removed since it was listed */
    if (v < 0) {
      out = err_object(env, (int)-v, "getxattr");
      goto done;
    }
    napi_value jn, jv;
    void *data;
    if (napi_create_buffer_copy(env, strlen(name), name, &data, &jn) != napi_ok ||
        napi_create_buffer_copy(env, (size_t)v, val, &data, &jv) != napi_ok || napi_set_element(env, jnames, k, jn) != napi_ok ||
        napi_set_element(env, jvalues, k, jv) != napi_ok)
      goto fail;
    k++;
  }
  if (napi_create_object(env, &out) != napi_ok || napi_set_named_property(env, out, "names", jnames) != napi_ok ||
      napi_set_named_property(env, out, "values", jvalues) != napi_ok)
    goto fail;
  goto done;
fail:
  out = throw_error(env, "internal node-api call failed in xattrRead");
done:
  free(names);
  free(val);
  free(path);
  return out;
}

napi_value xattr_write(napi_env env, napi_callback_info info)
{
  ARGS(3);
  static const char usage[] = "xattrWrite(path: Buffer, name: Buffer, value: Buffer)";
  const uint8_t *name, *value;
  uint32_t nlen, vlen;
  if (argc < 3 || !arg_buffer(env, argv[1], &name, &nlen) || !arg_buffer(env, argv[2], &value, &vlen) || nlen == 0 ||
      memchr(name, 0, nlen))
    return throw_type(env, usage);
  char *path = cpath(env, argv[0]);
  if (!path)
    return NULL;
  char *cname = malloc((size_t)nlen + 1);
  if (!cname) {
    free(path);
    return throw_error(env, "out of memory");
  }
  memcpy(cname, name, nlen);
  cname[nlen] = '\0';
  int rc = lsetxattr(path, cname, value, vlen, 0);
  int e = errno;
  free(cname);
  free(path);
  napi_value out;
  if (rc < 0)
    return err_object(env, e, "setxattr");
  NAPI_TRY(env, napi_get_null(env, &out));
  return out;
}
