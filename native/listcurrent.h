/* listCurrent(...): whether a pull's destination already is what its received list says (native/listcurrent.c). */
#ifndef ARSYNC_LISTCURRENT_H
#define ARSYNC_LISTCURRENT_H

#include <node_api.h>

napi_value list_current(napi_env env, napi_callback_info info);

#endif
