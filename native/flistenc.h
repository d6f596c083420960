/* The file list's entries encoded as a sending rsync writes them, from flistWalk's arrays
 * (native/flistenc.c; the TypeScript twin is src/remote/flist-send.ts encodeFlist). */
#ifndef ARSYNC_FLISTENC_H
#define ARSYNC_FLISTENC_H

#include <node_api.h>

/* flistEncode's option bits (src/run/push-native.ts mirrors them; test/contract/flist-encode.test.ts
 * parses them from here). */
enum {
  FLE_VARINT_FLAGS = 1, /* CF_VARINT_FLIST_FLAGS: each entry's flags as a varint */
  FLE_UID = 2,          /* -o */
  FLE_GID = 4,          /* -g */
  FLE_LINKS = 8,        /* -l */
  FLE_DEVICES = 16,     /* --devices */
  FLE_SPECIALS = 32,    /* --specials */
};

napi_value flist_encode(napi_env env, napi_callback_info info);

#endif
