/* The pipe a remote shell's stdout is connected to, made larger than the kernel's default (native/pipes.c). */
#ifndef ARSYNC_PIPES_H
#define ARSYNC_PIPES_H

#include <node_api.h>

napi_value pipe_open(napi_env env, napi_callback_info info);
napi_value pipe_resize(napi_env env, napi_callback_info info);

#endif
