/* rsync's transfer checksums for the remote protocol (src/remote/checksum.ts's native half): the
 * rolling checksum1, the strong block sums and whole-file hashers (md5, xxh64, xxh3, xxh128), and the
 * sender's rolling scan for the next offset whose weak sum may match a basis block. */
#ifndef ARSYNC_CHECKSUM_H
#define ARSYNC_CHECKSUM_H

#include <node_api.h>
#include <stddef.h>
#include <stdint.h>

/* rsync's get_checksum1 of p[0..n): bytes read as signed chars, (s1 & 0xffff) + (s2 << 16). */
uint32_t sum_weak(const uint8_t *p, size_t n);
/* rsync's get_checksum2 of p[0..n) for the kind (0 md5, 1 xxh64, 2 xxh3, 3 xxh128), seeded with seed,
 * into out (16 or 8 bytes). */
void sum_strong(int64_t kind, const uint8_t *p, size_t n, uint32_t seed, uint8_t out[16]);
/* The whole-file sum (unseeded, as rsync's sum_init/sum_update/sum_final) of p[0..n) for the kind, in
 * one call, into out; and its length in bytes (16 or 8). */
void sum_file(int kind, const uint8_t *p, size_t n, uint8_t *out);
size_t sum_file_length(int kind);


napi_value sum_checksum1(napi_env env, napi_callback_info info);
napi_value sum_checksum1_variants(napi_env env, napi_callback_info info);
napi_value sum_block(napi_env env, napi_callback_info info);
napi_value sum_blocks(napi_env env, napi_callback_info info);
napi_value sum_hasher(napi_env env, napi_callback_info info);
napi_value sum_hasher_update(napi_env env, napi_callback_info info);
napi_value sum_hasher_digest(napi_env env, napi_callback_info info);
napi_value sum_roll_scan(napi_env env, napi_callback_info info);

#endif
