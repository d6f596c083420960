/* writeNew(path, parts) and writeNewSettled(ctx, ...): a received file created and written whole in one
 * call (native/stagefile.c). */
#ifndef ARSYNC_STAGEFILE_H
#define ARSYNC_STAGEFILE_H

#include <node_api.h>

napi_value stage_write_new(napi_env env, napi_callback_info info);
/* writeNewSettled(ctx, rel, parts, mode, uid, gid, mtimeSec, mtimeNsec): the same, beneath the
 * context's destination root, and given its metadata there by the Attrs op's rules. */
napi_value stage_write_new_settled(napi_env env, napi_callback_info info);

#endif
