/* Xattr-name filter rules (rsync's filter rules with the `x` modifier): which names -X copies, compares
 * and removes. The CLI parses the rules (plan/filter-parse.ts) and hands the context each one's pattern
 * and what it does; the first rule that matches a name decides, as rsync's check_filter. */
#ifndef ARSYNC_XFILTER_H
#define ARSYNC_XFILTER_H

#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>

#include "batch.h" /* XV_GEN */

/* The bits of one rule as the TypeScript side passes them (engine/types.ts XattrRule). */
enum {
  XR_INCLUDE = 1,  /* "+": a match keeps the name */
  XR_NEGATE = 2,   /* "!": the rule matches the names the pattern does not */
  XR_SENDER = 4,   /* "s" (or --delete-excluded's unqualified rule): only the sending side's view */
  XR_RECEIVER = 8, /* "r": only the receiving side's view */
  XR_WILD = 16,    /* the pattern has wildcards: matched as a glob, else compared whole */
};

struct xrule {
  char *pattern; /* NUL-terminated, a leading "/" dropped (an xattr name is one component) */
  uint32_t bits;
};

struct xfilter {
  struct xrule *rules;
  uint32_t count;
};

/* Reads opts.xattrRules (an array of {pattern: Buffer, bits: number}; absent or empty: no filter).
 * Returns false with a JS exception pending on a bad value. */
bool xfilter_from_js(napi_env env, napi_value opts, struct xfilter *out);

void xfilter_free(struct xfilter *f);

/* Whether the rules exclude `name` in the sending side's view (receiver-only rules skipped) or the
 * receiving side's (sender-only rules skipped). */
bool xfilter_excluded(const struct xfilter *f, const char *name, bool sender);

/* An op's views (batch.h: its xrules bytes, plan/xattr-rules.ts xattrView). Where x-rules come from
 * per-directory merge files, an entry's names are judged in rules of their own: the sending side's view
 * (`send`: the command line's rules with those its sender read for the entry's directory, as rsync's
 * sender meets them while it lists the directory), and, under --delete-during/--delete-delay, after an
 * XV_GEN byte, the one rsync's generator compares the destination in (its per-directory files read in the
 * destination). Each rule is its XR_* bits in a byte and its pattern, NUL-terminated. Without them (no
 * bytes) the context's rules are both sides' views; without a generator view the context's are the
 * receiving side's. rsync's receiver reads no per-directory file: what it sets and removes is judged in
 * the context's rules. */
struct xview {
  const uint8_t *send, *gen;
  uint32_t send_len, gen_len;
  bool own;     /* the op has views of its own */
  bool has_gen; /* and a generator's among them */
};

/* The views in an op's xrules bytes (well formed: batch.h batch_xrules_ok). */
void xview_of(const uint8_t *p, uint32_t len, struct xview *v);

/* xfilter_excluded over one view's bytes. */
bool xrules_excluded(const uint8_t *p, uint32_t len, const char *name, bool sender);

#endif
