/* rsync's transfer checksums in C (the contract with src/remote/checksum.ts is docs/native-contract.md,
 * checked by test/contract/checksum.test.ts): checksum1 reads bytes as SIGNED chars, as rsync's
 * get_checksum1 does; block sums are seeded as rsync's get_checksum2 seeds them (the seed before the
 * data for md5, the hash's own seed for xxh*); file sums are unseeded; 64-bit digests are stored
 * little-endian, xxh128 as its low half then its high half. The xxhash functions come from Debian's
 * libxxhash-dev header, inlined (nothing to link). */
#include "checksum.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "md5.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#if !__has_include(<xxhash.h>)
#error "xxhash.h is missing: install it with: apt-get install libxxhash-dev"
#endif
/* xxhash's own advice is -O3 for its loops: at the addon's -O2 the inlined XXH3 ran at 72-78 ms a GiB
 * here, at -O3 45-59 (faster than Debian's libxxhash that rsync uses, 69-73), and every byte of a
 * delta goes through it twice on each side (docs/benchmarks.md "delta, session 21"). Only these
 * functions get -O3; GCC's pragma, which clang does not have (it builds them at -O2). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("O3")
#endif
#define XXH_INLINE_ALL
#include <xxhash.h>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif

/* The kinds, in the numbering src/remote/checksum.ts uses. */
enum { SUM_MD5 = 0, SUM_XXH64 = 1, SUM_XXH3 = 2, SUM_XXH128 = 3 };

static const size_t SUM_LEN[] = {16, 8, 8, 16};

static napi_value fail(napi_env env, const char *msg)
{
  napi_throw_type_error(env, NULL, msg);
  return NULL;
}

/* The bytes of a Buffer or any typed array. */
static bool bytes_of(napi_env env, napi_value v, const uint8_t **p, size_t *len)
{
  bool is;
  napi_typedarray_type t;
  size_t n;
  void *data;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is)
    return false;
  if (napi_get_typedarray_info(env, v, &t, &n, &data, NULL, NULL) != napi_ok)
    return false;
  size_t width = t == napi_int32_array || t == napi_uint32_array || t == napi_float32_array ? 4
                 : t == napi_int16_array || t == napi_uint16_array                          ? 2
                 : t == napi_float64_array || t == napi_bigint64_array || t == napi_biguint64_array ? 8
                                                                                                     : 1;
  *p = data;
  *len = n * width;
  return true;
}

static void put64le(uint8_t *o, uint64_t v)
{
  for (int i = 0; i < 8; i++)
    o[i] = (uint8_t)(v >> (8 * i));
}

static napi_value new_buffer(napi_env env, const uint8_t *p, size_t n)
{
  napi_value out;
  void *data;
  if (napi_create_buffer_copy(env, n, p, &data, &out) != napi_ok)
    return NULL;
  return out;
}

#ifdef __SSE2__
static inline uint32_t hsum32(__m128i v)
{
  v = _mm_add_epi32(v, _mm_shuffle_epi32(v, 0x4e));
  v = _mm_add_epi32(v, _mm_shuffle_epi32(v, 0xb1));
  return (uint32_t)_mm_cvtsi128_si32(v);
}
#endif

/* The plain loop, for the bytes after the vector spans: s1 and s2 go on from the values given. */
static uint32_t weak_tail(const uint8_t *p, size_t i, size_t n, uint32_t s1, uint32_t s2)
{
  for (; i < n; i++) {
    s1 += (uint32_t)(int32_t)(int8_t)p[i];
    s2 += s1;
  }
  return (s1 & 0xffff) + (s2 << 16);
}

/* Every byte of a file passes through here on both sides of a delta (the basis's block sums, the
 * sender's sum after each match), so 16 bytes go at a time where SSE2 is there: over a span of 16
 * bytes x0..x15, s1 grows by their sum and s2 by 16 * s1 (before the span) + sum (16 - j) * xj. Every
 * step is addition mod 2^32, as in the plain loop. */
static uint32_t weak_sse2(const uint8_t *p, size_t n)
{
  uint32_t s1 = 0, s2 = 0;
  size_t i = 0;
#ifdef __SSE2__
  if (n >= 16) {
    const __m128i ones = _mm_set1_epi16(1);
    const __m128i wlo = _mm_setr_epi16(16, 15, 14, 13, 12, 11, 10, 9), whi = _mm_setr_epi16(8, 7, 6, 5, 4, 3, 2, 1);
    __m128i vs1 = _mm_setzero_si128(), vps = _mm_setzero_si128(), vw = _mm_setzero_si128();
    for (; i + 16 <= n; i += 16) {
      __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
      /* Each byte doubled into a 16-bit lane, shifted back down with its sign: the signed char. */
      __m128i lo = _mm_srai_epi16(_mm_unpacklo_epi8(v, v), 8), hi = _mm_srai_epi16(_mm_unpackhi_epi8(v, v), 8);
      vps = _mm_add_epi32(vps, vs1);
      vs1 = _mm_add_epi32(vs1, _mm_add_epi32(_mm_madd_epi16(lo, ones), _mm_madd_epi16(hi, ones)));
      vw = _mm_add_epi32(vw, _mm_add_epi32(_mm_madd_epi16(lo, wlo), _mm_madd_epi16(hi, whi)));
    }
    s1 = hsum32(vs1);
    s2 = 16 * hsum32(vps) + hsum32(vw);
  }
#endif
  return weak_tail(p, i, n, s1, s2);
}

#if defined(__x86_64__) && defined(__GNUC__)
#define WEAK_AVX2 1
/* The same over spans of 32 bytes with AVX2 (chosen at run time: the addon is built for any x86-64):
 * s2 grows by 32 * s1 + sum (32 - j) * xj a span. Twice the bytes an instruction, about half the time
 * a GiB (docs/benchmarks.md, session 42). */
__attribute__((target("avx2"))) static uint32_t weak_avx2(const uint8_t *p, size_t n)
{
  uint32_t s1 = 0, s2 = 0;
  size_t i = 0;
  if (n >= 32) {
    const __m256i ones = _mm256_set1_epi16(1);
    const __m256i wlo = _mm256_setr_epi16(32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17);
    const __m256i whi = _mm256_setr_epi16(16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1);
    __m256i vs1 = _mm256_setzero_si256(), vps = _mm256_setzero_si256(), vw = _mm256_setzero_si256();
    for (; i + 32 <= n; i += 32) {
      /* Each half of the span widened to 16-bit lanes with its sign: the signed chars. */
      __m256i lo = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(p + i)));
      __m256i hi = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(p + i + 16)));
      vps = _mm256_add_epi32(vps, vs1);
      vs1 = _mm256_add_epi32(vs1, _mm256_add_epi32(_mm256_madd_epi16(lo, ones), _mm256_madd_epi16(hi, ones)));
      vw = _mm256_add_epi32(vw, _mm256_add_epi32(_mm256_madd_epi16(lo, wlo), _mm256_madd_epi16(hi, whi)));
    }
    __m128i a = _mm_add_epi32(_mm256_castsi256_si128(vs1), _mm256_extracti128_si256(vs1, 1));
    __m128i b = _mm_add_epi32(_mm256_castsi256_si128(vps), _mm256_extracti128_si256(vps, 1));
    __m128i c = _mm_add_epi32(_mm256_castsi256_si128(vw), _mm256_extracti128_si256(vw, 1));
    s1 = hsum32(a);
    s2 = 32 * hsum32(b) + hsum32(c);
  }
  return weak_tail(p, i, n, s1, s2);
}
#endif

/* The variant this CPU runs, chosen at the first call. */
static uint32_t weak_first(const uint8_t *p, size_t n);
static uint32_t (*weak_impl)(const uint8_t *, size_t) = weak_first;

static uint32_t weak_first(const uint8_t *p, size_t n)
{
  uint32_t (*f)(const uint8_t *, size_t) = weak_sse2;
#ifdef WEAK_AVX2
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2"))
    f = weak_avx2;
#endif
  /* Threads may race here at the first sums: each stores the same choice. */
  __atomic_store_n(&weak_impl, f, __ATOMIC_RELAXED);
  return f(p, n);
}

uint32_t sum_weak(const uint8_t *p, size_t n)
{
  return __atomic_load_n(&weak_impl, __ATOMIC_RELAXED)(p, n);
}

/* checksum1Variants(bytes) -> number[]: checksum1 by every variant this CPU can run (the plain loop,
 * SSE2's, AVX2's), for the contract test that they agree with each other and with TypeScript's. */
napi_value sum_checksum1_variants(napi_env env, napi_callback_info info)
{
  ARGS(1);
  const uint8_t *p;
  size_t n;
  if (!bytes_of(env, argv[0], &p, &n))
    return fail(env, "checksum1Variants(bytes)");
  uint32_t got[3];
  size_t k = 0;
  got[k++] = weak_tail(p, 0, n, 0, 0);
  got[k++] = weak_sse2(p, n);
#ifdef WEAK_AVX2
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2"))
    got[k++] = weak_avx2(p, n);
#endif
  napi_value out, v;
  if (napi_create_array_with_length(env, k, &out) != napi_ok)
    return NULL;
  for (size_t i = 0; i < k; i++) {
    if (napi_create_uint32(env, got[i], &v) != napi_ok || napi_set_element(env, out, (uint32_t)i, v) != napi_ok)
      return NULL;
  }
  return out;
}

/* checksum1(bytes) -> number (uint32) */
napi_value sum_checksum1(napi_env env, napi_callback_info info)
{
  ARGS(1);
  const uint8_t *p;
  size_t n;
  if (!bytes_of(env, argv[0], &p, &n))
    return fail(env, "checksum1(bytes): bytes must be a Buffer or typed array");
  napi_value out;
  napi_create_uint32(env, sum_weak(p, n), &out);
  return out;
}

void sum_strong(int64_t kind, const uint8_t *p, size_t n, uint32_t s, uint8_t out[16])
{
  switch (kind) {
  case SUM_MD5: {
    md5_ctx c;
    md5_init(&c);
    if (s) {
      uint8_t sb[4] = {(uint8_t)s, (uint8_t)(s >> 8), (uint8_t)(s >> 16), (uint8_t)(s >> 24)};
      md5_update(&c, sb, 4);
    }
    md5_update(&c, p, n);
    md5_final(&c, out);
    break;
  }
  case SUM_XXH64:
    put64le(out, XXH64(p, n, s));
    break;
  case SUM_XXH3:
    put64le(out, XXH3_64bits_withSeed(p, n, s));
    break;
  default: {
    XXH128_hash_t h = XXH3_128bits_withSeed(p, n, s);
    put64le(out, h.low64);
    put64le(out + 8, h.high64);
  }
  }
}

/* block(kind, bytes, seed) -> Buffer: rsync's get_checksum2 for the kind. */
napi_value sum_block(napi_env env, napi_callback_info info)
{
  ARGS(3);
  int64_t kind, seed;
  const uint8_t *p;
  size_t n;
  if (!arg_int64(env, argv[0], &kind) || kind < SUM_MD5 || kind > SUM_XXH128 || !bytes_of(env, argv[1], &p, &n) ||
      !arg_int64(env, argv[2], &seed))
    return fail(env, "block(kind, bytes, seed): kind 0-3, bytes a Buffer, seed a number");
  uint8_t out[16];
  sum_strong(kind, p, n, (uint32_t)seed, out);
  return new_buffer(env, out, SUM_LEN[kind]);
}

/* blocks(kind, bytes, blength, s2length, seed, out, at) -> count: the block sums a pulling client
 * sends for a span of its basis (rsync's generate_sums), one call per span instead of two per block:
 * for each blength-byte block of bytes (the last may be shorter), its checksum1 as an int32 LE, then
 * the first s2length bytes of its strong sum, written into out from byte `at`. */
napi_value sum_blocks(napi_env env, napi_callback_info info)
{
  ARGS(7);
  int64_t kind, blength, s2length, seed, at;
  const uint8_t *p;
  size_t n, olen;
  uint8_t *o;
  if (!arg_int64(env, argv[0], &kind) || kind < SUM_MD5 || kind > SUM_XXH128 || !bytes_of(env, argv[1], &p, &n) ||
      !arg_int64(env, argv[2], &blength) || blength < 1 || !arg_int64(env, argv[3], &s2length) || s2length < 0 ||
      (size_t)s2length > SUM_LEN[kind] || !arg_int64(env, argv[4], &seed) || !bytes_of(env, argv[5], (const uint8_t **)&o, &olen) ||
      !arg_int64(env, argv[6], &at) || at < 0)
    return fail(env, "blocks(kind, bytes, blength, s2length, seed, out, at): kind 0-3, blength > 0, s2length within the sum");
  size_t per = 4 + (size_t)s2length, count = (n + (size_t)blength - 1) / (size_t)blength;
  if ((size_t)at > olen || count > (olen - (size_t)at) / per)
    return fail(env, "blocks: out is too short for the sums");
  uint8_t *w = o + at, sum[16];
  for (size_t off = 0; off < n; off += (size_t)blength, w += per) {
    size_t len = n - off < (size_t)blength ? n - off : (size_t)blength;
    uint32_t c1 = sum_weak(p + off, len);
    for (int i = 0; i < 4; i++)
      w[i] = (uint8_t)(c1 >> (8 * i));
    sum_strong(kind, p + off, len, (uint32_t)seed, sum);
    memcpy(w + 4, sum, (size_t)s2length);
  }
  napi_value out;
  napi_create_uint32(env, (uint32_t)count, &out);
  return out;
}

typedef struct {
  int kind;
  md5_ctx md5;
  XXH64_state_t *x64;
  XXH3_state_t *x3;
} hasher;

static const napi_type_tag HASHER_TAG = {0x6172737973756d31ULL, 0x68617368657231ULL};

static void hasher_free(napi_env env, void *data, void *hint)
{
  (void)env;
  (void)hint;
  hasher *h = data;
  if (h->x64)
    XXH64_freeState(h->x64);
  if (h->x3)
    XXH3_freeState(h->x3);
  free(h);
}

/* hasher(kind) -> External: a whole-file sum being fed (unseeded, as rsync's sum_init). */
napi_value sum_hasher(napi_env env, napi_callback_info info)
{
  ARGS(1);
  int64_t kind;
  if (!arg_int64(env, argv[0], &kind) || kind < SUM_MD5 || kind > SUM_XXH128)
    return fail(env, "hasher(kind): kind 0-3");
  hasher *h = calloc(1, sizeof *h);
  if (!h)
    return fail(env, "out of memory");
  h->kind = (int)kind;
  if (kind == SUM_MD5)
    md5_init(&h->md5);
  else if (kind == SUM_XXH64) {
    h->x64 = XXH64_createState();
    if (h->x64)
      XXH64_reset(h->x64, 0);
  } else {
    h->x3 = XXH3_createState();
    if (h->x3) {
      if (kind == SUM_XXH3)
        XXH3_64bits_reset(h->x3);
      else
        XXH3_128bits_reset(h->x3);
    }
  }
  if (kind != SUM_MD5 && !h->x64 && !h->x3) {
    free(h);
    return fail(env, "out of memory");
  }
  napi_value ext;
  if (napi_create_external(env, h, hasher_free, NULL, &ext) != napi_ok || napi_type_tag_object(env, ext, &HASHER_TAG) != napi_ok)
    return NULL;
  return ext;
}

/* hasherUpdate(h, bytes) */
napi_value sum_hasher_update(napi_env env, napi_callback_info info)
{
  ARGS(2);
  hasher *h = arg_external(env, argv[0], &HASHER_TAG);
  const uint8_t *p;
  size_t n;
  if (!h || !bytes_of(env, argv[1], &p, &n))
    return fail(env, "hasherUpdate(hasher, bytes)");
  if (h->kind == SUM_MD5)
    md5_update(&h->md5, p, n);
  else if (h->kind == SUM_XXH64)
    XXH64_update(h->x64, p, n);
  else if (h->kind == SUM_XXH3)
    XXH3_64bits_update(h->x3, p, n);
  else
    XXH3_128bits_update(h->x3, p, n);
  return NULL;
}

/* hasherDigest(h) -> Buffer */
napi_value sum_hasher_digest(napi_env env, napi_callback_info info)
{
  ARGS(1);
  hasher *h = arg_external(env, argv[0], &HASHER_TAG);
  if (!h)
    return fail(env, "hasherDigest(hasher)");
  uint8_t out[16];
  if (h->kind == SUM_MD5)
    md5_final(&h->md5, out);
  else if (h->kind == SUM_XXH64)
    put64le(out, XXH64_digest(h->x64));
  else if (h->kind == SUM_XXH3)
    put64le(out, XXH3_64bits_digest(h->x3));
  else {
    XXH128_hash_t d = XXH3_128bits_digest(h->x3);
    put64le(out, d.low64);
    put64le(out + 8, d.high64);
  }
  return new_buffer(env, out, SUM_LEN[h->kind]);
}

void sum_file(int kind, const uint8_t *p, size_t n, uint8_t *out)
{
  if (kind == SUM_MD5) {
    md5_ctx c;
    md5_init(&c);
    md5_update(&c, p, n);
    md5_final(&c, out);
  } else if (kind == SUM_XXH64)
    put64le(out, XXH64(p, n, 0));
  else if (kind == SUM_XXH3)
    put64le(out, XXH3_64bits(p, n));
  else {
    XXH128_hash_t d = XXH3_128bits(p, n);
    put64le(out, d.low64);
    put64le(out + 8, d.high64);
  }
}

size_t sum_file_length(int kind)
{
  return SUM_LEN[kind];
}

/* A bitmap this large (2^24 bits) is indexed by 24 bits of a multiplicative hash of the sum. */
#define SCAN_WIDE_BYTES (1u << 21)

/* The bit of a weak sum in a scan bitmap of `wide` (2^24 bits) or narrow (2^16 bits) size. */
static inline uint32_t scan_bit(uint32_t sum, bool wide)
{
  return wide ? (sum * 0x9E3779B1u) >> 8 : (sum ^ (sum >> 16)) & 0xffff;
}

/*
 * rollScan(window, base, from, to, k, state, bitmap) -> offset: the sender's rolling search (rsync's
 * hash_search inner loop). `window` holds the file from offset `base`; state is an Int32Array [s1, s2]
 * of the checksum of the k bytes at `from`. Rolls one byte at a time until the offset whose sum's
 * bit is set in `bitmap`, or `to`; returns that offset with the state of the sum there. The bitmap is
 * 8192 bytes (bit (sum ^ sum >> 16) & 0xffff) or, where many blocks would fill that one and stop the
 * scan every few bytes, 2 MiB (bit (sum * 0x9E3779B1) >> 8). The caller keeps from + ... + k within
 * the window and the file.
 */
napi_value sum_roll_scan(napi_env env, napi_callback_info info)
{
  ARGS(7);
  const uint8_t *w, *bm, *st;
  size_t wn, bmn, stn;
  int64_t base, from, to, k;
  if (!bytes_of(env, argv[0], &w, &wn) || !arg_int64(env, argv[1], &base) || !arg_int64(env, argv[2], &from) ||
      !arg_int64(env, argv[3], &to) || !arg_int64(env, argv[4], &k) || !bytes_of(env, argv[5], &st, &stn) || stn < 8 ||
      !bytes_of(env, argv[6], &bm, &bmn) || bmn < 8192)
    return fail(env, "rollScan(window, base, from, to, k, state, bitmap)");
  if (from < base || to < from || k < 1 || (uint64_t)(to - base + k) > wn)
    return fail(env, "rollScan: the range is not inside the window");
  int32_t *state = (int32_t *)(uintptr_t)st;
  uint32_t s1 = (uint32_t)state[0], s2 = (uint32_t)state[1];
  const uint8_t *p = w + (from - base);
  int64_t off = from;
  uint32_t kk = (uint32_t)k;
  bool wide = bmn >= SCAN_WIDE_BYTES;
  for (; off < to; off++, p++) {
    uint32_t sum = (s1 & 0xffff) | (s2 << 16);
    uint32_t bit = scan_bit(sum, wide);
    if (bm[bit >> 3] & (1u << (bit & 7)))
      break;
    uint32_t first = (uint32_t)(int32_t)(int8_t)p[0];
    s1 -= first;
    s2 -= kk * first;
    s1 += (uint32_t)(int32_t)(int8_t)p[kk];
    s2 += s1;
  }
  state[0] = (int32_t)s1;
  state[1] = (int32_t)s2;
  napi_value out;
  napi_create_int64(env, off, &out);
  return out;
}
