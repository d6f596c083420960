/* The sync engine's batch loop and what follows every op on either engine: --remove-source-files,
 * failure recording and counting, the outcome byte, and the one EMFILE/ENFILE retry of an op. */
#include "exec.h"

#include "backup.h"
#include "dest.h"
#include "ops.h"
#include "source.h"

void exec_fail(struct ctx *c, const struct op *op, struct operr err)
{
  failures_push(&c->fails, op, err);
  counter_add(c, C_ERRORS, 1);
  set_outcome(c, op->index, OUT_FAILED);
}

void exec_uncount(struct job *j)
{
  if (j->bytes)
    counter_add(j->c, C_BYTES, -j->bytes);
  j->bytes = 0;
}

int exec_finish(struct job *j, int rc)
{
  struct ctx *c = j->c;
  const struct op *op = j->op;
  uint8_t k = op->kind;
  if (rc == OP_OK && j->refused) {
    /* The entry is in place without some attributes, each already reported (meta.c): the op failed
     * (exit 23), and its source is not removed, since the copy is not complete. */
    set_outcome(c, op->index, OUT_FAILED);
    return OP_FAIL;
  }
  if (rc == OP_OK && (op->flags & OF_REMOVE_SOURCE) &&
      (k == OP_FILE || k == OP_SYMLINK || k == OP_SPECIAL || k == OP_ATTRS)) {
    rc = src_remove(j);
    /* Gone already: not the op's failure (rsync's sender only says so); the run queues its removals
     * itself wherever a file it lists twice could be gone (run/removal-queue.ts). */
    if (rc == OP_FAIL && j->err.no == ENOENT)
      rc = OP_OK;
  }
  if (rc == OP_FAIL)
    exec_fail(c, op, j->err);
  else if (rc == OP_OK) {
    set_outcome(c, op->index, j->equal ? OUT_EQUAL : OUT_DONE);
    if (j->temp[0] && op->index < c->ntemps)
      memcpy(c->temps + (size_t)op->index * 6, j->temp, 6);
  }
  return rc;
}

int exec_op_sync(struct ctx *c, const struct op *op, bool allow_retry)
{
  struct job j = {.c = c, .op = op};
  int rc = ops_dispatch(&j);
  if (rc == OP_FAIL && allow_retry && fd_exhausted(j.err.no)) {
    /* Give back the fd we can spare and try once more; the op cleaned up after itself. */
    parents_release_all(c);
    exec_uncount(&j);
    j = (struct job){.c = c, .op = op};
    rc = ops_dispatch(&j);
  }
  return exec_finish(&j, rc);
}

int exec_next_sync(struct ctx *c, const struct op *op)
{
  if (aborted(c))
    return OP_ABORT;
  if (backup_gate(c, op) && exec_op_sync(c, op, true) == OP_ABORT)
    return OP_ABORT;
  return OP_OK;
}

int exec_batch_from(struct ctx *c, const uint8_t *batch, size_t len, size_t off, uint32_t index)
{
  struct op op;
  for (uint32_t i = index; batch_next(batch, len, &off, &op) == 1; i++) {
    op.index = i;
    if (exec_next_sync(c, &op) == OP_ABORT)
      return OP_ABORT;
  }
  return OP_OK;
}

int exec_batch_sync(struct ctx *c, const uint8_t *batch, size_t len)
{
  return exec_batch_from(c, batch, len, 0, 0);
}
