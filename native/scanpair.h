/* The scanPair cursor: a source directory and its destination twin, matched by name, with the quick
 * check done in C for unchanged regular files and symlinks, read a bounded chunk at a time. */
#ifndef ARSYNC_SCANPAIR_H
#define ARSYNC_SCANPAIR_H

#include <node_api.h>

napi_value pair_open(napi_env env, napi_callback_info info);
napi_value pair_next(napi_env env, napi_callback_info info);
napi_value pair_rewind(napi_env env, napi_callback_info info);
napi_value pair_direct(napi_env env, napi_callback_info info);
napi_value pair_close(napi_env env, napi_callback_info info);

#endif
