/* createContext / run / closeContext: the JS-facing lifetime of an engine context. */
#ifndef ARSYNC_CTXAPI_H
#define ARSYNC_CTXAPI_H

#include <node_api.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

napi_value ctx_create(napi_env env, napi_callback_info info);
napi_value ctx_run(napi_env env, napi_callback_info info);
napi_value ctx_close(napi_env env, napi_callback_info info);
napi_value ctx_uring_probe(napi_env env, napi_callback_info info);
napi_value ctx_readlink_dest(napi_env env, napi_callback_info info);
napi_value ctx_xattr_diff(napi_env env, napi_callback_info info);
napi_value ctx_remove_source(napi_env env, napi_callback_info info);

struct ctx;
/* The open context behind a JS handle; NULL with a TypeError (or, when closed or running off this thread, an
 * Error) thrown otherwise. */
struct ctx *ctxapi_get(napi_env env, napi_value v);

/* run()'s arguments: the batch (validated whole) and the optional outcome bytes. */
struct batch_args {
  const uint8_t *batch;
  size_t len, nops;
  uint8_t *outcomes;
  size_t noutcomes;
};
/* Reads and checks `batch` and `outcomes` (NULL or undefined: none); false with an exception thrown. */
bool ctxapi_batch_args(napi_env env, napi_value batch, napi_value outcomes, struct batch_args *a);
/* The context's counters (NULL with an exception thrown). */
_Atomic int64_t *ctxapi_counters(napi_env env, struct ctx *c);
/* run() and runAsync()'s arguments (ctx, batch, outcomes?): the context, its counters and the checked batch;
 * false with an exception thrown (a TypeError naming `usage` when fewer than two were given). */
bool ctxapi_run_args(napi_env env, long argc, napi_value *argv, const char *usage, struct ctx **c,
                     _Atomic int64_t **counters, struct batch_args *a);
/* Executes a batch on the context: no node-api call, so any thread may run it while no other uses the context. */
void ctxapi_exec(struct ctx *c, _Atomic int64_t *counters, const struct batch_args *a);
/* The batch's failures as run() returns them (NULL with an exception pending), and cleared. */
napi_value ctxapi_failures(napi_env env, struct ctx *c);
#endif
