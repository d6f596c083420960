/* Error reporting: builds the `{ errno, syscall }` objects and the per-op failure list that run()
 * returns, so that TypeScript can build errors that look exactly like Node's fs errors. */
#include "errors.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

void failures_push(struct failures *f, const struct op *op, struct operr err)
{
  if (f->n == f->cap) {
    size_t cap = f->cap ? f->cap * 2 : 16;
    struct failure *v = realloc(f->v, cap * sizeof *v);
    if (!v) {
      f->oom = 1;
      return;
    }
    f->v = v;
    f->cap = cap;
  }
  f->v[f->n] = (struct failure){
    .index = op->index,
    .seq = (uint32_t)f->n,
    .err = err,
    .src = op->src,
    .dst = op->dst,
    .src_len = op->src_len,
    .dst_len = op->dst_len,
  };
  f->n++;
}

/* Batch order; one op's failures (refused attributes) in the order they happened. */
static int by_index(const void *a, const void *b)
{
  const struct failure *p = a, *q = b;
  if (p->index != q->index)
    return (p->index > q->index) - (p->index < q->index);
  return (p->seq > q->seq) - (p->seq < q->seq);
}

/* The uring engine finishes ops out of order; callers get failures in batch order. */
void failures_sort(struct failures *f)
{
  if (f->n > 1)
    qsort(f->v, f->n, sizeof *f->v, by_index);
}

void failures_clear(struct failures *f)
{
  f->n = 0;
  f->oom = 0;
}

void failures_free(struct failures *f)
{
  free(f->v);
  *f = (struct failures){0};
}

napi_value throw_type(napi_env env, const char *msg)
{
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) == napi_ok && !pending)
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
  return NULL;
}

napi_value throw_range(napi_env env, const char *msg)
{
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) == napi_ok && !pending)
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", msg);
  return NULL;
}

napi_value throw_error(napi_env env, const char *msg)
{
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) == napi_ok && !pending)
    napi_throw_error(env, NULL, msg);
  return NULL;
}

static napi_status set_int(napi_env env, napi_value obj, const char *key, int64_t v)
{
  napi_value x;
  napi_status s = napi_create_int64(env, v, &x);
  return s != napi_ok ? s : napi_set_named_property(env, obj, key, x);
}

static napi_status set_str(napi_env env, napi_value obj, const char *key, const char *v)
{
  napi_value x;
  napi_status s = napi_create_string_utf8(env, v, NAPI_AUTO_LENGTH, &x);
  return s != napi_ok ? s : napi_set_named_property(env, obj, key, x);
}

static napi_status set_buf(napi_env env, napi_value obj, const char *key, const uint8_t *p, size_t n)
{
  napi_value x;
  void *data;
  napi_status s = napi_create_buffer_copy(env, n, n ? (const void *)p : (const void *)"", &data, &x);
  return s != napi_ok ? s : napi_set_named_property(env, obj, key, x);
}

static napi_status set_bool(napi_env env, napi_value obj, const char *key, bool v)
{
  napi_value x;
  napi_status s = napi_get_boolean(env, v, &x);
  return s != napi_ok ? s : napi_set_named_property(env, obj, key, x);
}

napi_value err_object(napi_env env, int no, const char *sys)
{
  napi_value obj;
  NAPI_TRY(env, napi_create_object(env, &obj));
  NAPI_TRY(env, set_int(env, obj, "errno", no));
  NAPI_TRY(env, set_str(env, obj, "syscall", sys));
  return obj;
}

napi_value failures_to_js(napi_env env, const struct failures *f)
{
  if (f->oom)
    return throw_error(env, "out of memory while recording failures");
  napi_value arr;
  NAPI_TRY(env, napi_create_array_with_length(env, f->n, &arr));
  for (size_t i = 0; i < f->n; i++) {
    const struct failure *x = &f->v[i];
    napi_value obj;
    NAPI_TRY(env, napi_create_object(env, &obj));
    NAPI_TRY(env, set_int(env, obj, "index", x->index));
    NAPI_TRY(env, set_int(env, obj, "errno", x->err.no));
    NAPI_TRY(env, set_str(env, obj, "syscall", x->err.sys));
    int w = x->err.where;
    if (w == W_DST || w == W_DST_SRC) {
      NAPI_TRY(env, set_buf(env, obj, "path", x->dst, x->dst_len));
      if (w == W_DST_SRC)
        NAPI_TRY(env, set_buf(env, obj, "dest", x->src, x->src_len));
    } else {
      NAPI_TRY(env, set_buf(env, obj, "path", x->src, x->src_len));
      if (w == W_LINK || w == W_SRC_LINK)
        NAPI_TRY(env, set_buf(env, obj, "dest", x->dst, x->dst_len));
    }
    NAPI_TRY(env, set_bool(env, obj, "onDest", w != W_SRC && w != W_SRC_LINK));
    if (x->err.attr[0])
      NAPI_TRY(env, set_buf(env, obj, "attr", (const uint8_t *)x->err.attr, strlen(x->err.attr)));
    NAPI_TRY(env, napi_set_element(env, arr, (uint32_t)i, obj));
  }
  return arr;
}
