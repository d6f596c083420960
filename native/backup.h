/* --backup: the Backup op, and the rule that a file whose backup failed is left alone. */
#ifndef ARSYNC_BACKUP_H
#define ARSYNC_BACKUP_H

#include <stdbool.h>

#include "context.h"

/* Moves (or, with OF_BACKUP_KEEP, duplicates) the destination entry op->dst to its backup name
 * op->src (absolute: beneath the backup directory, or beneath the destination root without one).
 * Records the result for backup_gate(). OP_OK/OP_FAIL. */
int backup_op(struct job *j);

/* Whether op may run: an op flagged OF_AFTER_BACKUP replaces the entry just backed up, and runs only
 * when that backup succeeded. Otherwise it is recorded as failed (syscall "backup", the backup's
 * errno, so an EMFILE retry takes both ops again) and false is returned. */
bool backup_gate(struct ctx *c, const struct op *op);

/* Frees what the context holds for backups (the backup directory fd). */
void backup_release(struct ctx *c);

#endif
