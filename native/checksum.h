/* rsync's transfer checksums for the remote protocol (src/remote/checksum.ts's native half): the
 * rolling checksum1, the strong block sums and whole-file hashers (md5, xxh64, xxh3, xxh128), and the
 * sender's rolling scan for the next offset whose weak sum may match a basis block. */
#ifndef ARSYNC_CHECKSUM_H
#define ARSYNC_CHECKSUM_H

#include <node_api.h>

napi_value sum_checksum1(napi_env env, napi_callback_info info);
napi_value sum_block(napi_env env, napi_callback_info info);
napi_value sum_blocks(napi_env env, napi_callback_info info);
napi_value sum_hasher(napi_env env, napi_callback_info info);
napi_value sum_hasher_update(napi_env env, napi_callback_info info);
napi_value sum_hasher_digest(napi_env env, napi_callback_info info);
napi_value sum_roll_scan(napi_env env, napi_callback_info info);

#endif
