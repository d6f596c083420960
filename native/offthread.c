/* runAsync(ctx, batch, outcomes?) → Promise<failures>: one batch of a sync-engine context executed on a
 * libuv pool thread instead of the calling one. The dispatcher sends a batch carrying a large file here:
 * the copy gets a thread of its own at once (a piscina worker first boots Node, loads its bundle and the
 * addon: tens of ms on a slow host, and CPU the copies then lack), while the main thread's event loop stays
 * free, so a signal's handler runs mid-file and sets the abort slot the copy loop reads between chunks.
 *
 * The context is lent whole for the batch (`busy`: every other call on it throws until the promise
 * settles); the batch is copied, so the caller's array may change or go; the outcome bytes are written into
 * the caller's array on completion (referenced meanwhile). Only the sync engine: a uring context's ring
 * belongs to the thread that made it (SINGLE_ISSUER). */
#include "offthread.h"

#include <stdlib.h>
#include <string.h>

#include "context.h"
#include "ctxapi.h"
#include "errors.h"

#include "args.h"

struct offrun {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref ctx_ref;      /* the context's handle: not collected while its batch runs */
  napi_ref outcomes_ref; /* the caller's outcome bytes (NULL: none asked for) */
  struct ctx *c;
  _Atomic int64_t *counters;
  struct batch_args a;   /* a.batch and a.outcomes are this run's own copies */
};

static void off_free(napi_env env, struct offrun *r)
{
  if (r->work)
    napi_delete_async_work(env, r->work);
  if (r->ctx_ref)
    napi_delete_reference(env, r->ctx_ref);
  if (r->outcomes_ref)
    napi_delete_reference(env, r->outcomes_ref);
  free((void *)r->a.batch);
  free(r->a.outcomes);
  free(r);
}

static void off_execute(napi_env env, void *data)
{
  (void)env; /* a pool thread: no node-api call here */
  struct offrun *r = data;
  ctxapi_exec(r->c, r->counters, &r->a);
}

/* Back on the context's thread: the outcomes into the caller's array, the failures as run() returns them. */
static void off_complete(napi_env env, napi_status status, void *data)
{
  struct offrun *r = data;
  r->c->busy = false;
  napi_value result = NULL;
  if (status == napi_ok && r->outcomes_ref) {
    napi_value o;
    napi_typedarray_type tt;
    size_t n;
    void *od;
    if (napi_get_reference_value(env, r->outcomes_ref, &o) == napi_ok &&
        napi_get_typedarray_info(env, o, &tt, &n, &od, NULL, NULL) == napi_ok)
      memcpy(od, r->a.outcomes, n < r->a.noutcomes ? n : r->a.noutcomes);
  }
  if (status == napi_ok)
    result = ctxapi_failures(env, r->c);
  else
    failures_clear(&r->c->fails);
  bool pending = false;
  napi_value err = NULL;
  if (!result) {
    if (napi_is_exception_pending(env, &pending) == napi_ok && pending)
      napi_get_and_clear_last_exception(env, &err);
    else
      napi_create_string_utf8(env, "runAsync: the batch did not complete", NAPI_AUTO_LENGTH, &err);
    napi_reject_deferred(env, r->deferred, err);
  } else {
    napi_resolve_deferred(env, r->deferred, result);
  }
  off_free(env, r);
}

napi_value off_run_async(napi_env env, napi_callback_info info)
{
  ARGS(3);
  struct ctx *c;
  _Atomic int64_t *counters;
  struct batch_args a;
  if (!ctxapi_run_args(env, argc, argv, "runAsync(ctx, batch, outcomes?)", &c, &counters, &a))
    return NULL;
  if (c->engine != ENGINE_SYNC)
    return throw_type(env, "runAsync: only a sync context can run off its thread");
  struct offrun *r = calloc(1, sizeof *r);
  uint8_t *batch = malloc(a.len ? a.len : 1);
  uint8_t *outcomes = a.outcomes ? calloc(a.noutcomes ? a.noutcomes : 1, 1) : NULL;
  if (!r || !batch || (a.outcomes && !outcomes)) {
    free(r);
    free(batch);
    free(outcomes);
    return throw_error(env, "runAsync: out of memory");
  }
  memcpy(batch, a.batch, a.len);
  if (outcomes)
    memcpy(outcomes, a.outcomes, a.noutcomes);
  r->c = c;
  r->counters = counters;
  r->a = a;
  r->a.batch = batch;
  r->a.outcomes = outcomes;
  napi_value promise, name;
  if (napi_create_reference(env, argv[0], 1, &r->ctx_ref) != napi_ok ||
      (outcomes && napi_create_reference(env, argv[2], 1, &r->outcomes_ref) != napi_ok) ||
      napi_create_string_utf8(env, "arsync.runAsync", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, off_execute, off_complete, r, &r->work) != napi_ok ||
      napi_create_promise(env, &r->deferred, &promise) != napi_ok) {
    off_free(env, r);
    return throw_error(env, "runAsync: internal node-api call failed");
  }
  if (napi_queue_async_work(env, r->work) != napi_ok) {
    /* The promise is never settled: nothing holds it but this frame, which throws instead. */
    off_free(env, r);
    return throw_error(env, "runAsync: could not queue the batch");
  }
  c->busy = true;
  return promise;
}
