/* A pulling client's block sums of its basis file, read and summed in C (two threads for a large file). */
#ifndef ARSYNC_BASISSUM_H
#define ARSYNC_BASISSUM_H

#include <node_api.h>

napi_value sum_file_blocks(napi_env env, napi_callback_info info);

#endif
