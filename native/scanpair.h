/* scanPair: a source directory and its destination twin, matched by name, with the quick check done
 * in C for unchanged regular files and symlinks. */
#ifndef ARSYNC_SCANPAIR_H
#define ARSYNC_SCANPAIR_H

#include <node_api.h>

napi_value scan_pair(napi_env env, napi_callback_info info);

#endif
