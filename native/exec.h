/* The sync engine's batch loop, and the end of every op (both engines). */
#ifndef ARSYNC_EXEC_H
#define ARSYNC_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "context.h"

/* After an op ran: --remove-source-files, failure recording and counting, the outcome byte.
 * Returns the final OP_* code. */
int exec_finish(struct job *j, int rc);

/* Runs one op with the sync engine. Failures are recorded in c->fails (and counted); with
 * allow_retry an EMFILE/ENFILE drops the cached fds and runs the op once more. OP_OK/OP_FAIL/OP_ABORT. */
int exec_op_sync(struct ctx *c, const struct op *op, bool allow_retry);

/* The sync engine: every op in order. OP_OK, or OP_ABORT when the abort flag stopped the batch. */
int exec_batch_sync(struct ctx *c, const uint8_t *batch, size_t len);

#endif
