/* removeTree(path): a tree this process made, removed in one call (native/rmtree.c). */
#ifndef ARSYNC_RMTREE_H
#define ARSYNC_RMTREE_H

#include <node_api.h>

napi_value rm_tree(napi_env env, napi_callback_info info);

#endif
