/* The sync engine's batch loop, and the end of every op (both engines). */
#ifndef ARSYNC_EXEC_H
#define ARSYNC_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "context.h"

/* A failed op: recorded for run()'s result, counted, its outcome byte set. */
void exec_fail(struct ctx *c, const struct op *op, struct operr err);
/* Takes back the bytes a failed attempt counted, before the op is tried again (EMFILE). */
void exec_uncount(struct job *j);

/* After an op ran: --remove-source-files, failure recording and counting, the outcome byte.
 * Returns the final OP_* code. */
int exec_finish(struct job *j, int rc);

/* Runs one op with the sync engine. Failures are recorded in c->fails (and counted); with
 * allow_retry an EMFILE/ENFILE drops the cached fds and runs the op once more. OP_OK/OP_FAIL/OP_ABORT. */
int exec_op_sync(struct ctx *c, const struct op *op, bool allow_retry);

/* The next op of a batch with the sync engine: not started once the abort flag is up, skipped when its
 * Backup failed (backup_gate), else run with the EMFILE retry. OP_ABORT stops the batch. */
int exec_next_sync(struct ctx *c, const struct op *op);
/* The sync engine from byte `off` of the batch, whose op there has index `index`: every op in order
 * (the uring engine finishes a batch this way when its ring stops working). */
int exec_batch_from(struct ctx *c, const uint8_t *batch, size_t len, size_t off, uint32_t index);
/* The sync engine: every op in order. OP_OK, or OP_ABORT when the abort flag stopped the batch. */
int exec_batch_sync(struct ctx *c, const uint8_t *batch, size_t len);

#endif
