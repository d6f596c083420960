/* removeTree(path) and moveTree(from, to): a private staging tree's end (native/rmtree.c). */
#ifndef ARSYNC_RMTREE_H
#define ARSYNC_RMTREE_H

#include <node_api.h>

napi_value rm_tree(napi_env env, napi_callback_info info);
napi_value mv_tree(napi_env env, napi_callback_info info);

#endif
