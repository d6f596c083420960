/* The native walk: one directory per call, names as raw bytes, lstat semantics via statx; paths of
 * any length (longpath.h). */
#ifndef ARSYNC_WALK_H
#define ARSYNC_WALK_H

#include <node_api.h>

napi_value walk_scan_dir(napi_env env, napi_callback_info info);
napi_value walk_lstat(napi_env env, napi_callback_info info);
napi_value walk_stat(napi_env env, napi_callback_info info);
napi_value walk_readlink(napi_env env, napi_callback_info info);
/* A symlink's target as a Buffer (readlinkat of name in dirfd), or a failure object. */
napi_value walk_readlink_at(napi_env env, int dirfd, const char *name);
napi_value walk_scan_dest(napi_env env, napi_callback_info info);

#endif
