/* --bwlimit in the C engines: the rate meter every thread shares through two counter slots (the rate
 * and the clock at which the data written so far is paid for). The TypeScript twin is
 * src/engine/rate-meter.ts; test/contract/rate-meter.test.ts holds both to the same rule.
 *
 * The rule, rsync's sleep_for_bwlimit() made shared: writing n bytes moves the meter's clock n/rate
 * seconds on from max(clock, now) (time not spent writing earns no credit, so no burst follows a slow
 * walk), and the writer sleeps until that clock when it is more than METER_SLACK_NS ahead. Every worker
 * charges the same clock, so the limit holds for the run, not per thread; a copy is cut into pieces of
 * at most rate/8 bytes (rsync's bwlimit_writemax) so that the pace is even. The sleep is in slices so
 * that a stop (signal, --stop-at, --timeout) is seen within METER_SLICE_NS. */
#ifndef ARSYNC_METER_H
#define ARSYNC_METER_H

#include <stdint.h>
#include <time.h>

#include "context.h"

#define METER_SLACK_NS 10000000LL  /* 10 ms: shorter sleeps cost more than they even out */
#define METER_SLICE_NS 100000000LL /* 100 ms */
#define METER_PIECE_DIVISOR 8      /* rsync's bwlimit_writemax: an eighth of a second's data */
#define METER_PIECE_MIN 512

static inline int64_t meter_rate(const struct ctx *c)
{
  return atomic_load_explicit(&c->counters[C_BW_RATE], memory_order_relaxed);
}

/* The most a copy loop should write in one piece: rate/8 (at least 512), or `def` without a limit. */
static inline size_t meter_piece(const struct ctx *c, size_t def)
{
  int64_t rate = meter_rate(c);
  if (rate <= 0)
    return def;
  int64_t piece = rate / METER_PIECE_DIVISOR < METER_PIECE_MIN ? METER_PIECE_MIN : rate / METER_PIECE_DIVISOR;
  return (size_t)piece < def ? (size_t)piece : def;
}

static inline int64_t meter_now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Charge n written bytes to the meter and sleep off what is ahead of the rate. */
static inline void meter_charge(struct ctx *c, int64_t n)
{
  int64_t rate = meter_rate(c);
  if (rate <= 0 || n <= 0)
    return;
  /* __extension__: 128-bit arithmetic is a GCC/Clang extension, which -pedantic would otherwise flag */
  int64_t cost = __extension__(int64_t)((__int128)n * 1000000000 / rate);
  int64_t now = meter_now_ns();
  int64_t next = atomic_load_explicit(&c->counters[C_BW_NEXT], memory_order_relaxed), due;
  do
    due = (next > now ? next : now) + cost;
  while (!atomic_compare_exchange_weak_explicit(&c->counters[C_BW_NEXT], &next, due, memory_order_relaxed,
                                                memory_order_relaxed));
  while (due - now > METER_SLACK_NS && !aborted(c)) {
    int64_t wait = due - now < METER_SLICE_NS ? due - now : METER_SLICE_NS;
    struct timespec ts = {.tv_sec = wait / 1000000000LL, .tv_nsec = wait % 1000000000LL};
    nanosleep(&ts, NULL);
    now = meter_now_ns();
  }
}

#endif
