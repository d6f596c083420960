/* The direct path of a plain fresh copy: a regular file the destination lacks, in a run whose options
 * leave nothing to decide per entry (src/run/direct.ts says which runs), is encoded by the pair cursor
 * straight into a File op of the batch layout (batch.h), so it never becomes a JavaScript object. */
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
  uint8_t *ops;     /* this chunk's encoded ops */
  size_t len, cap;
  uint32_t count;   /* ops in `ops` */
  double bytes;     /* their files' sizes together */
};

/* Switches the direct path on with copies of the two paths; 0, or ENOMEM (then it stays off). */
int direct_set(struct direct *d, const uint8_t *src, uint32_t srclen, const uint8_t *rel, uint32_t rellen,
               uint32_t anchor, double big, bool hardlinks);
/* Whether an entry whose lstat is `s` and which has no destination twin goes the direct way. */
bool direct_takes(const struct direct *d, const struct statx *s);
/* Appends the File op of entry `name`; 0, or ENOMEM (the entry then goes the planner's way). */
int direct_add(struct direct *d, const char *name, const struct statx *s);
/* The chunk's ops handed over: empty again for the next chunk. */
void direct_reset(struct direct *d);
void direct_free(struct direct *d);

#endif
