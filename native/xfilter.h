/* Xattr-name filter rules (rsync's filter rules with the `x` modifier): which names -X copies, compares
 * and removes. The CLI parses the rules (plan/filter-parse.ts) and hands the context each one's pattern
 * and what it does; the first rule that matches a name decides, as rsync's check_filter. */
#ifndef ARSYNC_XFILTER_H
#define ARSYNC_XFILTER_H

#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>

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

#endif
