/* writeNew(path, parts): a received file created and written whole in one call (native/stagefile.c). */
#ifndef ARSYNC_STAGEFILE_H
#define ARSYNC_STAGEFILE_H

#include <node_api.h>

napi_value stage_write_new(napi_env env, napi_callback_info info);

#endif
