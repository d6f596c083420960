/* The sender's delta search in C (rsync's match.c): a matcher per file, run over windows of its data,
 * returning the token events (literal runs and matched block ranges). */
#ifndef ARSYNC_DELTAMATCH_H
#define ARSYNC_DELTAMATCH_H

#include <node_api.h>

napi_value sum_matcher(napi_env env, napi_callback_info info);
napi_value sum_match_run(napi_env env, napi_callback_info info);

#endif
