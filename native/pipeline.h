/* The uring engine's batch executor: many files' opens, reads, writes, closes and renames in flight
 * on the context's ring. */
#ifndef ARSYNC_PIPELINE_H
#define ARSYNC_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "context.h"

/* Per-context state (slots, chunk pool), created with the ring. 0 or an errno. */
int pipeline_create(struct ctx *c);
void pipeline_destroy(struct ctx *c);
/* Same contract as exec_batch_sync. */
int pipeline_run(struct ctx *c, const uint8_t *batch, size_t len);

#endif
