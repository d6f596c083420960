/* The per-kind ops: what each op kind does to the destination, in plain syscalls. */
#ifndef ARSYNC_OPS_H
#define ARSYNC_OPS_H

#include "context.h"

/* Runs one op by its kind; OP_OK/OP_FAIL (j->err set)/OP_ABORT. Nothing is recorded or counted as
 * failed here (exec.c does that). */
int ops_dispatch(struct job *j);

#endif
