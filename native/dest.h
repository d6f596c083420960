/* Destination parents: each op's target directory, opened beneath the destination root without
 * following symlinks (DESIGN §3.2), cached while consecutive ops share it. */
#ifndef ARSYNC_DEST_H
#define ARSYNC_DEST_H

#include <limits.h>
#include <stdint.h>

#include "context.h"

/* Opens a destination path ("" = the root) beneath the root; an fd or -errno. */
int dest_open(struct ctx *c, const uint8_t *rel, uint32_t len, int flags);

/* Opens (or takes from the one-entry cache) the destination directory that holds `path`
 * (destination-relative) and copies the last component into name. The caller owns one reference. */
int dest_parent(struct job *j, const uint8_t *path, uint32_t len, struct parent **out, char name[NAME_MAX + 1]);
/* Gives back one reference (a destination or a source parent). */
void parent_put(struct ctx *c, struct parent *p);
/* Forgets the cached destination and source parents (a new destination parent; EMFILE recovery and
 * context close through parents_release_all). */
void parents_drop_cache(struct ctx *c);
/* parents_drop_cache, and the held source anchor as well: every cached descriptor (EMFILE recovery,
 * context close). */
void parents_release_all(struct ctx *c);

#endif
