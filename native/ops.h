/* The per-kind ops: what each op kind does to the destination, in plain syscalls. */
#ifndef ARSYNC_OPS_H
#define ARSYNC_OPS_H

#include "context.h"

/* Runs one op by its kind; OP_OK/OP_FAIL (j->err set)/OP_ABORT. Nothing is recorded or counted as
 * failed here (exec.c does that). */
int ops_dispatch(struct job *j);

/* An Attrs op's work on a regular file the caller has open (stagefile.c's writeNewSettled): owner,
 * mode and times by the same rules, only what differs; OP_OK or OP_FAIL with j->err set. */
int ops_attrs_file_fd(struct job *j, int fd);

#endif
