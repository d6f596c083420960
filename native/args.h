/* napi argument helpers: each entry point fetches its arguments with args_get and checks each with one
 * line, instead of repeating the prologue; and the Float64Array results the scans build. Checks return false (or NULL) without throwing unless
 * they say otherwise, so the caller throws the TypeError that names its own signature. */
#ifndef ARSYNC_ARGS_H
#define ARSYNC_ARGS_H

#include <node_api.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The call's first n arguments into argv (the ones not passed are undefined) and how many were
 * passed, or -1 with an exception pending. */
long args_get(napi_env env, napi_callback_info info, napi_value *argv, size_t n);
/* The prologue of a napi callback (its parameters named env and info): argv[n] and argc, or return. */
#define ARGS(n)                                                                                            \
  napi_value argv[n];                                                                                      \
  long argc = args_get(env, info, argv, n);                                                                \
  if (argc < 0)                                                                                            \
  return NULL

/* undefined or null (an optional argument left out). */
bool arg_absent(napi_env env, napi_value v);

/* A number argument as an integer (its fraction dropped); false when v is not a number or is NaN. */
bool arg_int64(napi_env env, napi_value v, int64_t *out);

/* A Buffer argument's bytes; false when v is not a Buffer. */
bool arg_buffer(napi_env env, napi_value v, const uint8_t **p, uint32_t *len);

/* A path argument: a Buffer, NUL-free (the kernel would silently cut the path at the NUL), of any
 * length. False with a TypeError/RangeError thrown when it is not. */
bool arg_path(napi_env env, napi_value v, const uint8_t **p, uint32_t *n);

/* An optional source anchor length (source.h): undefined counts as 0; false when v is not a whole
 * number in [0, PATH_MAX). */
bool arg_anchor(napi_env env, napi_value v, uint32_t *out);

/* A Float64Array of at least n values (the query of pairOpen/scanTree), or NULL. */
const double *arg_f64(napi_env env, napi_value v, size_t n);

/* The pointer behind an External carrying `tag` (a context, a pair cursor), or NULL. */
void *arg_external(napi_env env, napi_value v, const napi_type_tag *tag);

/* A new Float64Array holding a copy of from[0..n), or NULL. */
napi_value f64_copy(napi_env env, const double *from, size_t n);

#endif
