/* runAsync: a sync context's batch executed on a libuv pool thread (offthread.c). */
#ifndef ARSYNC_OFFTHREAD_H
#define ARSYNC_OFFTHREAD_H

#include <node_api.h>

napi_value off_run_async(napi_env env, napi_callback_info info);

#endif
