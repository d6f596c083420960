/* A pull's received file put in place without copying its bytes again (P_ADOPT_SOURCE). */
#ifndef ARSYNC_ADOPT_H
#define ARSYNC_ADOPT_H

#include "context.h"

#include <sys/stat.h>

/* adopt_file's answer when the file must be copied after all (nothing was made). */
#define ADOPT_COPY 2

/* Whether a File op's source may be adopted under this context's flags and the op's. */
bool adopt_wanted(const struct ctx *c, const struct op *op);

/* Links the staged source `in` (opened and checked by the caller) in under a temp name of `name` in
 * its directory `p` (or -T's), sets its metadata and renames it over the target, as a copy would
 * finish. OP_OK, OP_FAIL (j->err set) or ADOPT_COPY. */
int adopt_file(struct job *j, struct parent *p, const char *name, int in, const struct stat *st);

#endif
