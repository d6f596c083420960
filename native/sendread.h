/* A push's reads of the files it sends: the checked open, a whole small file read into the outgoing
 * frame with its whole-file sum, and both in one call (native/sendread.c). */
#ifndef ARSYNC_SENDREAD_H
#define ARSYNC_SENDREAD_H

#include <node_api.h>

napi_value send_open(napi_env env, napi_callback_info info);
napi_value send_read_whole(napi_env env, napi_callback_info info);
napi_value send_file(napi_env env, napi_callback_info info);

#endif
