/* The sender's delta search in C (rsync's match.c hash_search, for src/remote/match-native.ts): the
 * rolling checksum over the file, candidate blocks in rsync's chain order, the strong-sum check, the
 * preferred block after a match and the early flush of long literal runs, all in one call per window
 * of data, so TypeScript sees match ranges instead of every offset and every block. The rules are the
 * ones src/remote/match.ts implements in TypeScript; test/contract/deltamatch.test.ts holds the two
 * together on random data. */
#include "deltamatch.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "checksum.h"

/* rsync's CHUNK_SIZE (src/remote/tokens.ts) and MAX_CHAIN_LEN (src/remote/match.ts MAX_CHAIN). */
#define CHUNK 32768
#define MAX_CHAIN 1024
/* Each step of the search emits at most two events (a match, a flush); the end adds one. */
#define EVENT_SLACK 3
/* The result's header: events, status (0 more data wanted, 1 done), the file offset wanted. */
#define HEAD 3

typedef struct {
  int kind;
  uint32_t seed;
  int64_t count, blength, s2length, remainder, len;
  bool inplace;
  uint32_t *sum1;
  uint8_t *sum2;
  /* In place (rsync's SUMFLG_SAME_OFFSET): blocks found at their own offset. */
  uint8_t *same;
  int64_t aligned_offset, aligned_i;
  /* The hash table: bucket -> highest block index in it, next[i] the next lower one (-1 ends). */
  int32_t *head, *next;
  uint32_t bits;
  /* One bit per 2^fbits slot of the same hash, set where some block's weak sum falls: most offsets
   * of a literal run are turned away here. The table is too large to stay in the cache (512 KiB for a
   * 1 GiB file's 32,768 blocks): a lookup per byte of a literal run missed it (60% of the search's own
   * samples were that load and the weak sum's behind it). The filter is an eighth of the table's size,
   * and at 4 slots a bucket 3% of them are set. */
  uint8_t *filter;
  uint32_t fbits;
  /* The search's state between calls. */
  int64_t offset, end, last_match, want, k;
  uint32_t s1, s2;
  bool started, done;
} matcher;

static const napi_type_tag MATCHER_TAG = {0x6172737964656c74ULL, 0x616d617463683031ULL};

static void matcher_free(napi_env env, void *data, void *hint)
{
  (void)env;
  (void)hint;
  matcher *m = data;
  free(m->sum1);
  free(m->sum2);
  free(m->same);
  free(m->head);
  free(m->next);
  free(m->filter);
  free(m);
}

static napi_value fail(napi_env env, const char *msg)
{
  napi_throw_type_error(env, NULL, msg);
  return NULL;
}

/* A typed array's bytes. */
static bool typed(napi_env env, napi_value v, napi_typedarray_type want, void **p, size_t *n)
{
  bool is;
  napi_typedarray_type t;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is)
    return false;
  if (napi_get_typedarray_info(env, v, &t, n, p, NULL, NULL) != napi_ok)
    return false;
  return t == want;
}

static inline uint32_t bucket(const matcher *m, uint32_t sum)
{
  return (sum * 0x9E3779B1u) >> (32 - m->bits);
}

/* The filter's slot: the same hash to more bits, so a bucket's blocks all set bits of its own slots. */
static inline uint32_t slot(const matcher *m, uint32_t sum)
{
  return (sum * 0x9E3779B1u) >> (32 - m->fbits);
}

static inline int64_t block_len(const matcher *m, int64_t i)
{
  return i == m->count - 1 && m->remainder ? m->remainder : m->blength;
}

/*
 * sumMatcher(kind, seed, sum1: Uint32Array, sum2: Uint8Array, blength, s2length, remainder, len,
 * inplace) -> External: the search state for one file of `len` bytes against count = sum1.length
 * blocks. The sums are copied.
 */
napi_value sum_matcher(napi_env env, napi_callback_info info)
{
  ARGS(9);
  int64_t kind, seed, blength, s2length, remainder, len;
  void *s1p, *s2p;
  size_t count, s2n;
  bool inplace;
  if (!arg_int64(env, argv[0], &kind) || kind < 0 || kind > 3 || !arg_int64(env, argv[1], &seed) ||
      !typed(env, argv[2], napi_uint32_array, &s1p, &count) || !typed(env, argv[3], napi_uint8_array, &s2p, &s2n) ||
      !arg_int64(env, argv[4], &blength) || blength < 1 || !arg_int64(env, argv[5], &s2length) || s2length < 0 ||
      s2length > (kind == 0 || kind == 3 ? 16 : 8) || !arg_int64(env, argv[6], &remainder) || remainder < 0 ||
      remainder > blength || !arg_int64(env, argv[7], &len) || len < 0 || napi_get_value_bool(env, argv[8], &inplace) != napi_ok)
    return fail(env, "sumMatcher(kind, seed, sum1, sum2, blength, s2length, remainder, len, inplace)");
  if (count < 1 || count > INT32_MAX / 4 || s2n < count * (size_t)s2length)
    return fail(env, "sumMatcher: sum1 must hold 1 or more blocks and sum2 s2length bytes for each");
  matcher *m = calloc(1, sizeof *m);
  if (!m)
    return fail(env, "out of memory");
  m->kind = (int)kind;
  m->seed = (uint32_t)seed;
  m->count = (int64_t)count;
  m->blength = blength;
  m->s2length = s2length;
  m->remainder = remainder;
  m->len = len;
  m->inplace = inplace;
  /* About two buckets a block, at most 2^24 (64 MiB; a terabyte's blocks): a receiver announcing more
   * blocks gets longer chains, not a larger table. */
  m->bits = 16;
  while (m->bits < 24 && ((size_t)1 << m->bits) < 2 * count)
    m->bits++;
  m->sum1 = malloc(count * 4);
  m->sum2 = malloc(count * (size_t)s2length + 1);
  m->head = malloc(((size_t)1 << m->bits) * 4);
  m->next = malloc(count * 4);
  m->fbits = m->bits + 2;
  m->filter = calloc((size_t)1 << (m->fbits - 3), 1);
  m->same = calloc(count, 1);
  if (!m->sum1 || !m->sum2 || !m->head || !m->next || !m->same || !m->filter) {
    matcher_free(env, m, NULL);
    return fail(env, "out of memory");
  }
  memcpy(m->sum1, s1p, count * 4);
  memcpy(m->sum2, s2p, count * (size_t)s2length);
  memset(m->head, 0xff, ((size_t)1 << m->bits) * 4);
  /* Ascending inserts at each bucket's head: a bucket lists the highest index first, rsync's order. */
  for (size_t i = 0; i < count; i++) {
    uint32_t b = bucket(m, m->sum1[i]);
    m->next[i] = m->head[b];
    m->head[b] = (int32_t)i;
    uint32_t f = slot(m, m->sum1[i]);
    m->filter[f >> 3] |= (uint8_t)(1u << (f & 7));
  }
  napi_value ext;
  if (napi_create_external(env, m, matcher_free, NULL, &ext) != napi_ok || napi_type_tag_object(env, ext, &MATCHER_TAG) != napi_ok)
    return NULL;
  return ext;
}

typedef struct {
  double *out;
  size_t n, cap;
} events;

/* rsync's matched(): the literal run up to `offset`, then `blocks` blocks from `first` (0: none). A
 * match right after the previous one's blocks, with the next index, extends it. */
static void emit(events *ev, matcher *m, int64_t offset, int64_t first)
{
  if (first >= 0 && ev->n > 0 && offset == m->last_match) {
    double *e = ev->out + HEAD + 3 * (ev->n - 1);
    if (e[2] > 0 && (int64_t)(e[1] + e[2]) == first) {
      e[2] += 1;
      m->last_match = offset + block_len(m, first);
      return;
    }
  }
  double *e = ev->out + HEAD + 3 * ev->n++;
  e[0] = (double)offset;
  e[1] = (double)first;
  e[2] = first >= 0 ? 1 : 0;
  m->last_match = first >= 0 ? offset + block_len(m, first) : offset;
}

static bool same_strong(const matcher *m, int64_t i, const uint8_t *strong)
{
  return memcmp(m->sum2 + i * m->s2length, strong, (size_t)m->s2length) == 0;
}

/* rsync's preference when updating in place: the block at this very offset, or for a block of zeros
 * the next aligned one (the offset moves on to it, the literal run grows). Returns the block to use;
 * *offset, *sum and strong change as rsync's do on the way. */
static int64_t prefer_aligned(matcher *m, const uint8_t *w, int64_t base, int64_t *offset, uint32_t *sum, int64_t l, int64_t i,
                              uint8_t strong[16])
{
  while (m->aligned_offset < *offset) {
    m->aligned_offset += m->blength;
    m->aligned_i++;
  }
  int64_t ao = m->aligned_offset, ai = m->aligned_i;
  if (!((*offset == ao || (*sum == 0 && l == m->blength && ao + l <= m->len)) && ai < m->count))
    return i;
  if (i != ai) {
    if (*sum != m->sum1[ai] || l != block_len(m, ai) || !same_strong(m, ai, strong))
      return i;
    i = ai;
  }
  if (*offset != ao) {
    const uint8_t *there = w + (ao - base);
    *sum = sum_weak(there, (size_t)l);
    if (*sum != m->sum1[i])
      return i;
    sum_strong(m->kind, there, (size_t)l, m->seed, strong);
    if (!same_strong(m, i, strong))
      return i;
    *offset = ao;
  }
  m->same[i] = 1;
  m->want = i;
  return i;
}

/*
 * sumMatchRun(matcher, window, base, out: Float64Array) -> undefined: goes on with the search over the
 * file's bytes window[0..) = file[base..). Writes into out: [events, status, wanted, then per event
 * offset, first block, blocks]: the literal run from the previous event's end to `offset` goes out,
 * then `blocks` basis blocks from `first` (blocks 0: a literal flush only). Status 1: the file's end
 * event is written and the search is over. Status 0: call again, with the window reaching at least
 * file offset `wanted` (or the file's end), once the events are sent; the window must always start at
 * or before the end of the last event.
 */
napi_value sum_match_run(napi_env env, napi_callback_info info)
{
  ARGS(4);
  matcher *m = arg_external(env, argv[0], &MATCHER_TAG);
  void *wp, *op;
  size_t wn, on;
  int64_t base;
  if (!m || !typed(env, argv[1], napi_uint8_array, &wp, &wn) || !arg_int64(env, argv[2], &base) || base < 0 ||
      !typed(env, argv[3], napi_float64_array, &op, &on) || on < HEAD + 3 * (EVENT_SLACK + 1))
    return fail(env, "sumMatchRun(matcher, window, base, out)");
  const uint8_t *w = wp;
  events ev = {op, 0, (on - HEAD) / 3};
  double *out = op;
  const int64_t have = base + (int64_t)wn, len = m->len, blength = m->blength;
  if (!m->started) {
    if (base > 0 || have < (len < 3 * blength + 1 ? len : 3 * blength + 1))
      return fail(env, "sumMatchRun: the first window must hold the start of the file");
    m->k = len < blength ? len : blength;
    uint32_t c = sum_weak(w, (size_t)m->k);
    m->s1 = c & 0xffff;
    m->s2 = c >> 16;
    m->end = len + 1 - block_len(m, m->count - 1);
  }
  int64_t offset = m->offset, k = m->k;
  uint32_t s1 = m->s1, s2 = m->s2;
  if (m->last_match < base && !m->done)
    return fail(env, "sumMatchRun: the window starts after the unsent data");
  int status = 0;
  int64_t wanted = 0;
  uint8_t strong[16];
  for (;;) {
    if (m->done) {
      status = 1;
      break;
    }
    if (m->started && offset >= m->end) {
      emit(&ev, m, len, -1);
      m->done = true;
      status = 1;
      break;
    }
    /* A match may move to the next aligned block (in place) and needs the block after it summed. */
    int64_t need = offset + 3 * blength + 1 < len ? offset + 3 * blength + 1 : len;
    if (have < need || offset < base) {
      wanted = need;
      break;
    }
    if (ev.n + EVENT_SLACK > ev.cap) {
      wanted = need;
      break;
    }
    m->started = true;
    const uint8_t *p = w + (offset - base);
    uint32_t sum = (s1 & 0xffff) | (s2 << 16);
    uint32_t f = slot(m, sum);
    int32_t j = m->filter[f >> 3] & (1u << (f & 7)) ? m->head[bucket(m, sum)] : -1;
    if (j >= 0) {
      int64_t l = len - offset < blength ? len - offset : blength;
      bool have_strong = false;
      int tried = 0;
      for (; j >= 0; j = m->next[j]) {
        int64_t i = j;
        if (m->sum1[i] != sum)
          continue;
        /* In place, a block behind the offset is gone unless it was found where it already is. */
        if (m->inplace && i * blength < offset && !m->same[i])
          continue;
        if (++tried > MAX_CHAIN)
          break;
        if (l != block_len(m, i))
          continue;
        if (!have_strong) {
          sum_strong(m->kind, p, (size_t)l, m->seed, strong);
          have_strong = true;
        }
        if (!same_strong(m, i, strong))
          continue;
        if (m->inplace)
          i = prefer_aligned(m, w, base, &offset, &sum, l, i, strong);
        /* A match: the block after the previous one is preferred when it matches too. */
        int64_t want = m->want;
        if (i != want && want < m->count && (!m->inplace || want * blength >= offset || m->same[want]) && m->sum1[want] == sum &&
            l == block_len(m, want) && same_strong(m, want, strong))
          i = want;
        m->want = i + 1;
        emit(&ev, m, offset, i);
        offset += block_len(m, i) - 1;
        p = w + (offset - base);
        k = len - offset < blength ? len - offset : blength;
        uint32_t c = sum_weak(p, (size_t)k);
        s1 = c & 0xffff;
        s2 = c >> 16;
        break;
      }
    }
    /* Roll the window one byte on: drop its first byte, add the next one if there is one. */
    uint32_t first = (uint32_t)(int32_t)(int8_t)p[0];
    s1 -= first;
    s2 -= (uint32_t)k * first;
    if (offset + k < len) {
      s1 += (uint32_t)(int32_t)(int8_t)p[k];
      s2 += s1;
    } else
      k--;
    /* A long literal run goes out now rather than being held (rsync's early matched(-2)). */
    if (offset - m->last_match >= blength + CHUNK && m->end - offset > CHUNK)
      emit(&ev, m, offset - blength, -1);
    offset++;
  }
  m->offset = offset;
  m->k = k;
  m->s1 = s1;
  m->s2 = s2;
  out[0] = (double)ev.n;
  out[1] = status;
  out[2] = (double)wanted;
  return NULL;
}
