/* scanTree: the quick check over a whole tree on several threads; returns the dirty directories. */
#ifndef ARSYNC_TREE_H
#define ARSYNC_TREE_H

#include <node_api.h>

napi_value scan_tree(napi_env env, napi_callback_info info);

#endif
