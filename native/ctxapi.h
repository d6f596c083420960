/* createContext / run / closeContext: the JS-facing lifetime of an engine context. */
#ifndef ARSYNC_CTXAPI_H
#define ARSYNC_CTXAPI_H

#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>

napi_value ctx_create(napi_env env, napi_callback_info info);
napi_value ctx_run(napi_env env, napi_callback_info info);
napi_value ctx_close(napi_env env, napi_callback_info info);
napi_value ctx_uring_probe(napi_env env, napi_callback_info info);
napi_value ctx_readlink_dest(napi_env env, napi_callback_info info);
napi_value ctx_xattr_diff(napi_env env, napi_callback_info info);
napi_value ctx_remove_source(napi_env env, napi_callback_info info);

struct ctx;
/* The open context behind a JS handle; NULL with a TypeError thrown otherwise. */
struct ctx *ctxapi_get(napi_env env, napi_value v);
#endif
