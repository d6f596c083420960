/* The direct path of a plain copy: a regular file the destination lacks, in a run whose options leave
 * nothing to decide per entry (src/run/direct.ts says which runs), is encoded by the pair cursor or the
 * tree scan straight into a File op of the batch layout (batch.h), so it never becomes a JavaScript
 * object. When asked (`changed`), so is one that replaces a destination file the quick check finds with
 * other data: the planner's op for it is the same File op (temp file and rename over the old one). */
#ifndef ARSYNC_DIRECT_H
#define ARSYNC_DIRECT_H

#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

struct direct {
  bool on;
  uint8_t *src;     /* the source directory as the walk names it (the ops' src is it joined with a name) */
  uint32_t srclen;
  uint8_t *rel;     /* its path relative to the destination root ("" = the root) */
  uint32_t rellen;
  uint32_t anchor;  /* the ops' source anchor: one value for every entry of a directory (batch.h) */
  double big;       /* files of this size or more are left to the planner (they go in a batch alone) */
  bool hardlinks;   /* -H: files with more than one link are left to the planner (its groups) */
  bool changed;     /* also files replacing a destination file whose data differs (direct_replaces) */
  uint8_t *ops;     /* this chunk's encoded ops */
  size_t len, cap;
  uint32_t count;   /* ops in `ops` */
  uint32_t replaced; /* of them, ops replacing a destination file (the rest make new files) */
  double bytes;     /* their files' sizes together */
};

struct quick;

/* Switches the direct path on with copies of the two paths; 0, or ENOMEM (then it stays off). */
int direct_set(struct direct *d, const uint8_t *src, uint32_t srclen, const uint8_t *rel, uint32_t rellen,
               uint32_t anchor, double big, bool hardlinks, bool changed);
/* Whether an entry whose lstat is `s` and which has no destination twin goes the direct way. */
bool direct_takes(const struct direct *d, const struct statx *s);
/* Whether an entry whose lstat is `s`, over a destination entry whose lstat is `dst`, goes the direct way
 * as a replacement: asked for (`changed`: the caller has ruled out the options that decide such a file
 * otherwise, -u and --ignore-existing among them, src/run/direct.ts runAllowsChanged), under the run's
 * quick check `q` when that leaves unchanged entries out (SP_COLLAPSE: no -c, -I, --size-only, whose
 * verdicts differ from this test's), both regular files, their data
 * differing, and the destination's file a single link (another name of it may have its attributes set by
 * this run first: the planner decides such a file from its stat then, run/dest-links.ts). */
bool direct_replaces(const struct direct *d, const struct quick *q, const struct statx *s, const struct statx *dst);
/* Appends the File op of entry `name` (`replaces`: over a destination file); 0, or ENOMEM (the entry
 * then goes the planner's way). */
int direct_add(struct direct *d, const char *name, const struct statx *s, bool replaces);
/* The chunk's ops handed over: empty again for the next chunk. */
void direct_reset(struct direct *d);
void direct_free(struct direct *d);

#endif
