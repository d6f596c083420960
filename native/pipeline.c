/* Placeholder until the uring executor lands: the uring engine runs the sync path. */
#include "pipeline.h"

#include "ops.h"

int pipeline_create(struct ctx *c)
{
  (void)c;
  return 0;
}

void pipeline_destroy(struct ctx *c)
{
  (void)c;
}

int pipeline_run(struct ctx *c, const uint8_t *batch, size_t len)
{
  return ops_run_sync(c, batch, len);
}
