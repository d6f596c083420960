/* --iconv's filename conversion (src/engine/charset.ts is the TypeScript half): glibc iconv(3)
 * descriptors opened once per run, names converted whole, with rsync's choice of what happens to a byte
 * sequence the source charset does not have (fail, or copy it through). */
#ifndef ARSYNC_ICONV_H
#define ARSYNC_ICONV_H

#include <node_api.h>

/* Flags of iconvConvert, rsync's ICB_INCLUDE_BAD and ICB_INCLUDE_INCOMPLETE: an invalid sequence, or an
 * incomplete one at the end of the input, is copied through byte by byte instead of ending the
 * conversion. */
#define ICONV_INCLUDE_BAD 1
#define ICONV_INCLUDE_INCOMPLETE 2

napi_value iconv_charset(napi_env env, napi_callback_info info);
napi_value iconv_open_js(napi_env env, napi_callback_info info);
napi_value iconv_convert(napi_env env, napi_callback_info info);

#endif
