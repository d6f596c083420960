/* createContext / run / closeContext: the JS-facing lifetime of an engine context. */
#ifndef ARSYNC_CTXAPI_H
#define ARSYNC_CTXAPI_H

#include <node_api.h>

napi_value ctx_create(napi_env env, napi_callback_info info);
napi_value ctx_run(napi_env env, napi_callback_info info);
napi_value ctx_close(napi_env env, napi_callback_info info);
napi_value ctx_uring_probe(napi_env env, napi_callback_info info);

#endif
