/* The JS-facing lifetime of an engine context: argument checking, the External handle (type-tagged
 * so that a foreign External is a TypeError, not a crash), the finalizer, and run()'s entry. A
 * context is used only on the thread that created it: Externals cannot cross threads. */
#include "ctxapi.h"
#include "walk.h"

#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "backup.h"
#include "context.h"
#include "longpath.h"
#include "meta.h"
#include "errors.h"
#include "beneath.h"
#include "dest.h"
#include "exec.h"
#include "source.h"
#include "temp.h"
#include "partial.h"
#include "pipeline.h"
#include "ring.h"

static const napi_type_tag ctx_tag = {0x6172737972696e67ULL, 0x636f6e7465787431ULL};

#define DEFAULT_DEPTH 64
#define DEFAULT_BUFSIZE (256u * 1024)
#define DEFAULT_BUFCOUNT 32

/* Reads opts[key] as a uint32 within [lo, hi]; undefined gives def. NULL on a bad value. */
static napi_value opt_u32(napi_env env, napi_value obj, const char *key, uint32_t def, uint32_t lo, uint32_t hi,
                          uint32_t *out)
{
  napi_value v;
  napi_valuetype t;
  NAPI_TRY(env, napi_get_named_property(env, obj, key, &v));
  NAPI_TRY(env, napi_typeof(env, v, &t));
  if (t == napi_undefined) {
    *out = def;
    return v;
  }
  if (t != napi_number)
    return throw_type(env, key);
  double d;
  NAPI_TRY(env, napi_get_value_double(env, v, &d));
  if (!(d >= lo && d <= hi) || d != (double)(uint32_t)d)
    return throw_range(env, key);
  *out = (uint32_t)d;
  return v;
}

static void ctx_free_resources(struct ctx *c, napi_env env)
{
  if (c->closed)
    return;
  c->closed = true;
  if (c->ur) {
    pipeline_destroy(c);
    ring_destroy(c->ur);
    c->ur = NULL;
  }
  parents_release_all(c);
  if (c->rootfd >= 0)
    close(c->rootfd);
  c->rootfd = -1;
  free(c->root);
  c->root = NULL;
  free(c->rootpath);
  c->rootpath = NULL;
  for (char **t = c->twins; t && *t; t++)
    free(*t);
  free(c->twins);
  c->twins = NULL;
  xfilter_free(&c->xf);
  backup_release(c);
  temp_release(c);
  partial_release(c);
  free(c->iobuf);
  free(c->xnames);
  free(c->xval);
  c->iobuf = NULL;
  c->xnames = c->xval = NULL;
  failures_free(&c->fails);
  if (c->counters_ref && env)
    napi_delete_reference(env, c->counters_ref);
  c->counters_ref = NULL;
}

static void ctx_finalize(napi_env env, void *data, void *hint)
{
  (void)hint;
  struct ctx *c = data;
  /* Only at env teardown (process.exit while runAsync copies): the pool thread still uses the context,
   * and the process is ending, so it is left as it is. */
  if (c->busy)
    return;
  /* At env teardown references may already be gone; deleting one then is harmless but pointless. */
  ctx_free_resources(c, env);
  free(c);
}

static uint64_t seed(void)
{
  uint64_t s = 0;
  if (getrandom(&s, sizeof s, GRND_NONBLOCK) != (ssize_t)sizeof s) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    s = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)getpid();
  }
  return s ? s : 0x9E3779B97F4A7C15ULL;
}

napi_value ctx_create(napi_env env, napi_callback_info info)
{
  ARGS(1);
  napi_value v;
  napi_valuetype t;
  if (argc < 1 || napi_typeof(env, argv[0], &t) != napi_ok || t != napi_object)
    return throw_type(env, "createContext(opts): opts must be an object");
  napi_value o = argv[0];

  char engine[16] = {0};
  size_t n;
  NAPI_TRY(env, napi_get_named_property(env, o, "engine", &v));
  if (napi_get_value_string_utf8(env, v, engine, sizeof engine, &n) != napi_ok)
    return throw_type(env, "opts.engine must be 'uring' or 'sync'");
  enum engine eng;
  if (strcmp(engine, "uring") == 0)
    eng = ENGINE_URING;
  else if (strcmp(engine, "sync") == 0)
    eng = ENGINE_SYNC;
  else
    return throw_type(env, "opts.engine must be 'uring' or 'sync'");

  bool isbuf = false;
  void *root;
  size_t rootlen;
  NAPI_TRY(env, napi_get_named_property(env, o, "destRoot", &v));
  if (napi_is_buffer(env, v, &isbuf) != napi_ok || !isbuf)
    return throw_type(env, "opts.destRoot must be a Buffer");
  NAPI_TRY(env, napi_get_buffer_info(env, v, &root, &rootlen));
  char rootz[PATH_MAX];
  if (rootlen == 0 || zpath(root, (uint32_t)rootlen, rootz, sizeof rootz))
    return throw_type(env, "opts.destRoot must be a non-empty path without NUL bytes");

  uint32_t flags, umask_, depth, bufsize, bufcount;
  if (!opt_u32(env, o, "flags", 0, 0, P_ALL, &flags) || !opt_u32(env, o, "umask", 022, 0, 0777, &umask_) ||
      !opt_u32(env, o, "queueDepth", DEFAULT_DEPTH, 1, 4096, &depth) ||
      !opt_u32(env, o, "bufferSize", DEFAULT_BUFSIZE, 4096, 64u << 20, &bufsize) ||
      !opt_u32(env, o, "bufferCount", DEFAULT_BUFCOUNT, 1, 1024, &bufcount))
    return NULL;
  if (bufsize % 4096)
    return throw_range(env, "opts.bufferSize must be a multiple of 4096");

  bool direct = false;
  NAPI_TRY(env, napi_get_named_property(env, o, "direct", &v));
  NAPI_TRY(env, napi_typeof(env, v, &t));
  if (t != napi_undefined && napi_get_value_bool(env, v, &direct) != napi_ok)
    return throw_type(env, "opts.direct must be a boolean");

  /* --backup-dir, absolute; absent or undefined: backups are made beside the files. */
  void *bdir = NULL;
  size_t bdirlen = 0;
  NAPI_TRY(env, napi_get_named_property(env, o, "backupDir", &v));
  NAPI_TRY(env, napi_typeof(env, v, &t));
  if (t != napi_undefined) {
    if (napi_is_buffer(env, v, &isbuf) != napi_ok || !isbuf)
      return throw_type(env, "opts.backupDir must be a Buffer");
    NAPI_TRY(env, napi_get_buffer_info(env, v, &bdir, &bdirlen));
    while (bdirlen > 1 && ((const uint8_t *)bdir)[bdirlen - 1] == '/')
      bdirlen--;
    char bz[PATH_MAX];
    if (bdirlen == 0 || ((const uint8_t *)bdir)[0] != '/' || zpath(bdir, (uint32_t)bdirlen, bz, sizeof bz))
      return throw_type(env, "opts.backupDir must be an absolute path without NUL bytes");
  }

  /* --temp-dir, absolute and free of symlinks (the CLI resolved it); absent: temps beside targets. */
  void *tdir = NULL;
  size_t tdirlen = 0;
  NAPI_TRY(env, napi_get_named_property(env, o, "tempDir", &v));
  NAPI_TRY(env, napi_typeof(env, v, &t));
  if (t != napi_undefined) {
    if (napi_is_buffer(env, v, &isbuf) != napi_ok || !isbuf)
      return throw_type(env, "opts.tempDir must be a Buffer");
    NAPI_TRY(env, napi_get_buffer_info(env, v, &tdir, &tdirlen));
    char tz[PATH_MAX];
    if (tdirlen == 0 || ((const uint8_t *)tdir)[0] != '/' || zpath(tdir, (uint32_t)tdirlen, tz, sizeof tz))
      return throw_type(env, "opts.tempDir must be an absolute path without NUL bytes");
  }

  /* --link-dest/--compare-dest directories, absolute (an array of Buffers); absent: none. Read only to
   * decide which unchanged files the pair cursors hand on (scanpair.c), never written through. */
  char **twins = NULL;
  NAPI_TRY(env, napi_get_named_property(env, o, "twinDirs", &v));
  NAPI_TRY(env, napi_typeof(env, v, &t));
  if (t != napi_undefined) {
    bool isarr = false;
    uint32_t n = 0;
    if (napi_is_array(env, v, &isarr) != napi_ok || !isarr || napi_get_array_length(env, v, &n) != napi_ok || n > 64)
      return throw_type(env, "opts.twinDirs must be an array of at most 64 Buffers");
    twins = calloc((size_t)n + 1, sizeof *twins);
    if (!twins)
      return throw_error(env, "out of memory");
    for (uint32_t i = 0; i < n; i++) {
      napi_value e;
      void *d = NULL;
      size_t dl = 0;
      char z[PATH_MAX];
      if (napi_get_element(env, v, i, &e) != napi_ok || napi_is_buffer(env, e, &isbuf) != napi_ok || !isbuf ||
          napi_get_buffer_info(env, e, &d, &dl) != napi_ok || dl == 0 || ((const uint8_t *)d)[0] != '/' ||
          zpath(d, (uint32_t)dl, z, sizeof z) || !(twins[i] = strdup(z))) {
        for (uint32_t j = 0; j < i; j++)
          free(twins[j]);
        free(twins);
        return throw_type(env, "opts.twinDirs must hold absolute paths without NUL bytes");
      }
    }
  }

  /* --partial-dir: relative (one per destination directory) or absolute (the CLI resolved it). */
  void *pdir = NULL;
  size_t pdirlen = 0;
  NAPI_TRY(env, napi_get_named_property(env, o, "partialDir", &v));
  NAPI_TRY(env, napi_typeof(env, v, &t));
  if (t != napi_undefined) {
    if (napi_is_buffer(env, v, &isbuf) != napi_ok || !isbuf)
      return throw_type(env, "opts.partialDir must be a Buffer");
    NAPI_TRY(env, napi_get_buffer_info(env, v, &pdir, &pdirlen));
    char pz[PATH_MAX];
    if (pdirlen == 0 || zpath(pdir, (uint32_t)pdirlen, pz, sizeof pz))
      return throw_type(env, "opts.partialDir must be a path without NUL bytes");
  }

  bool ista = false;
  napi_typedarray_type tt;
  size_t tlen;
  NAPI_TRY(env, napi_get_named_property(env, o, "counters", &v));
  if (napi_is_typedarray(env, v, &ista) != napi_ok || !ista)
    return throw_type(env, "opts.counters must be a BigInt64Array");
  NAPI_TRY(env, napi_get_typedarray_info(env, v, &tt, &tlen, NULL, NULL, NULL));
  if (tt != napi_bigint64_array || tlen < C_USED)
    return throw_type(env, "opts.counters must be a BigInt64Array of at least 10 slots");
  napi_value counters = v;

  struct xfilter xf;
  if (!xfilter_from_js(env, o, &xf)) {
    for (char **t = twins; t && *t; t++)
      free(*t);
    free(twins);
    return NULL;
  }

  struct ctx *c = calloc(1, sizeof *c);
  if (!c) {
    xfilter_free(&xf);
    return throw_error(env, "out of memory");
  }
  c->xf = xf;
  c->engine = eng;
  c->flags = flags;
  c->umask = (mode_t)umask_;
  c->direct = direct;
  /* rsync's am_root: --super and --no-super override the effective uid. */
  /* --fake-super is rsync's am_root -1: owners go to records, and only user.* xattrs are copied. */
  c->is_root = (flags & P_FAKE_SUPER) ? false : (flags & P_SUPER) ? true : (flags & P_NO_SUPER) ? false : geteuid() == 0;
  c->ngroups = getgroups(63, c->groups);
  if (c->ngroups >= 0)
    c->groups[c->ngroups++] = getegid();
  c->noatime = !(flags & P_ATIME_ON_READ); /* --open-noatime is arsync's default */
  c->rng = seed();
  c->bufsize = bufsize;
  c->rootfd = -1;
  c->brootfd = -1;
  c->tdirfd = -1;
  c->pdirfd = -1;
  c->twins = twins;
  if (pdir && !(c->ppath = strndup(pdir, pdirlen))) {
    free(c);
    return throw_error(env, "out of memory");
  }
  if (tdir) {
    /* Without it the temps would silently go beside their targets: fail instead. */
    c->tpath = malloc(tdirlen + 1);
    if (!c->tpath) {
      free(c->bpath);
      free(c);
      return throw_error(env, "out of memory");
    }
    memcpy(c->tpath, tdir, tdirlen);
    c->tpath[tdirlen] = 0;
  }
  if (bdir) {
    c->bpath = malloc(bdirlen + 1);
    if (c->bpath) {
      memcpy(c->bpath, bdir, bdirlen);
      c->bpath[bdirlen] = 0;
      c->blen = bdirlen;
    }
  }
  while (rootlen > 1 && ((const uint8_t *)root)[rootlen - 1] == '/')
    rootlen--;
  c->rootpath = malloc(rootlen);
  c->rootlen = rootlen;
  const char *sys = "open";
  int e = 0;
  /* The CLI resolves the root once (operator-path rule) to a path with no symlink; a symlink found in
   * it now was swapped in since, and must not redirect every write (ELOOP). */
  c->rootfd = open_no_symlinks(rootz, O_PATH | O_DIRECTORY);
  if (c->rootfd < 0)
    e = errno;
  if (!e) {
    c->root = calloc(1, sizeof *c->root);
    c->iobuf = aligned_alloc(4096, bufsize);
    if (c->rootpath)
      memcpy(c->rootpath, root, rootlen);
    if (!c->root || !c->iobuf || !c->rootpath || (bdir && !c->bpath)) {
      e = ENOMEM;
      sys = "malloc";
    } else {
      c->root->fd = c->rootfd;
      c->root->refs = 1;
      c->root->borrowed = true;
      struct statfs sf;
      c->both_times = fstatfs(c->rootfd, &sf) == 0 && meta_both_times_fs((long)sf.f_type);
    }
  }
  if (!e && eng == ENGINE_URING) {
    e = ring_create(&c->ur, depth, bufsize, bufcount, &sys);
    if (!e && (e = pipeline_create(c)) != 0)
      sys = "malloc";
  }
  if (!e && napi_create_reference(env, counters, 1, &c->counters_ref) != napi_ok) {
    ctx_free_resources(c, NULL);
    free(c);
    return throw_error(env, "createContext: could not hold the counters");
  }
  if (e) {
    ctx_free_resources(c, env);
    free(c);
    return err_object(env, e, sys);
  }
  napi_value ext;
  if (napi_create_external(env, c, ctx_finalize, NULL, &ext) != napi_ok) {
    ctx_free_resources(c, env);
    free(c);
    return throw_error(env, "createContext: could not create the handle");
  }
  NAPI_TRY(env, napi_type_tag_object(env, ext, &ctx_tag));
  return ext;
}

struct ctx *ctxapi_get(napi_env env, napi_value v)
{
  struct ctx *c = arg_external(env, v, &ctx_tag);
  if (!c) {
    throw_type(env, "ctx must be a context from createContext()");
    return NULL;
  }
  if (c->closed) {
    throw_error(env, "the context is closed");
    return NULL;
  }
  if (c->busy) {
    throw_error(env, "the context is running a batch off this thread");
    return NULL;
  }
  return c;
}

bool ctxapi_batch_args(napi_env env, napi_value batch, napi_value outcomes, struct batch_args *a)
{
  bool ista = false;
  napi_typedarray_type tt;
  size_t len;
  void *data;
  if (napi_is_typedarray(env, batch, &ista) != napi_ok || !ista)
    return throw_type(env, "batch must be a Uint8Array"), false;
  if (napi_get_typedarray_info(env, batch, &tt, &len, &data, NULL, NULL) != napi_ok || tt != napi_uint8_array)
    return throw_type(env, "batch must be a Uint8Array"), false;
  /* Validate the whole batch before the first I/O: a malformed batch does nothing at all. */
  size_t off = 0, nops = 0;
  struct op op;
  int r;
  while ((r = batch_next(data, len, &off, &op)) == 1)
    nops++;
  if (r < 0)
    return throw_range(env, "batch is malformed"), false;
  *a = (struct batch_args){.batch = data, .len = len, .nops = nops};
  napi_valuetype t3 = napi_undefined;
  if (outcomes && napi_typeof(env, outcomes, &t3) != napi_ok)
    return throw_error(env, "internal node-api call failed: napi_typeof"), false;
  if (t3 != napi_undefined) {
    void *od;
    if (napi_is_typedarray(env, outcomes, &ista) != napi_ok || !ista ||
        napi_get_typedarray_info(env, outcomes, &tt, &a->noutcomes, &od, NULL, NULL) != napi_ok ||
        tt != napi_uint8_array)
      return throw_type(env, "outcomes must be a Uint8Array"), false;
    a->outcomes = od;
  }
  return true;
}

_Atomic int64_t *ctxapi_counters(napi_env env, struct ctx *c)
{
  /* Fetched per call: the context's reference keeps the SharedArrayBuffer (and so the pointer) alive. */
  napi_value counters;
  napi_typedarray_type tt;
  size_t len;
  void *cdata;
  if (napi_get_reference_value(env, c->counters_ref, &counters) != napi_ok ||
      napi_get_typedarray_info(env, counters, &tt, &len, &cdata, NULL, NULL) != napi_ok) {
    throw_error(env, "internal node-api call failed: the counters");
    return NULL;
  }
  return cdata;
}

void ctxapi_exec(struct ctx *c, _Atomic int64_t *counters, const struct batch_args *a)
{
  c->counters = counters;
  c->outcomes = a->outcomes;
  c->noutcomes = a->noutcomes;
  /* Room for 7 bytes per op: after the outcomes, each op's temp-name letters (-vvv's renaming lines). */
  c->temps = a->nops && a->noutcomes >= a->nops * 7 ? a->outcomes + a->nops : NULL;
  c->ntemps = c->temps ? a->nops : 0;
  failures_clear(&c->fails);
  if (c->engine == ENGINE_URING)
    pipeline_run(c, a->batch, a->len);
  else
    exec_batch_sync(c, a->batch, a->len);
  c->counters = NULL;
  c->outcomes = NULL;
  c->noutcomes = 0;
  c->temps = NULL;
  c->ntemps = 0;
  failures_sort(&c->fails);
}

napi_value ctxapi_failures(napi_env env, struct ctx *c)
{
  napi_value out = failures_to_js(env, &c->fails);
  failures_clear(&c->fails);
  return out;
}

bool ctxapi_run_args(napi_env env, long argc, napi_value *argv, const char *usage, struct ctx **c,
                     _Atomic int64_t **counters, struct batch_args *a)
{
  if (argc < 2) {
    throw_type(env, usage);
    return false;
  }
  if (!(*c = ctxapi_get(env, argv[0])))
    return false;
  if (!ctxapi_batch_args(env, argv[1], argc >= 3 ? argv[2] : NULL, a))
    return false;
  return (*counters = ctxapi_counters(env, *c)) != NULL;
}

napi_value ctx_run(napi_env env, napi_callback_info info)
{
  ARGS(3);
  struct ctx *c;
  _Atomic int64_t *counters;
  struct batch_args a;
  if (!ctxapi_run_args(env, argc, argv, "run(ctx, batch, outcomes?)", &c, &counters, &a))
    return NULL;
  ctxapi_exec(c, counters, &a);
  return ctxapi_failures(env, c);
}

napi_value ctx_close(napi_env env, napi_callback_info info)
{
  ARGS(1);
  if (argc < 1)
    return throw_type(env, "closeContext(ctx)");
  /* Closing twice is fine; closing something that is not a context is not. */
  struct ctx *p = arg_external(env, argv[0], &ctx_tag);
  if (!p)
    return throw_type(env, "ctx must be a context from createContext()");
  if (p->busy)
    return throw_error(env, "closeContext: the context is running a batch off this thread");
  ctx_free_resources(p, env);
  return NULL;
}

napi_value ctx_uring_probe(napi_env env, napi_callback_info info)
{
  (void)info;
  napi_value v;
  NAPI_TRY(env, napi_create_int32(env, ring_probe(), &v));
  return v;
}

napi_value ctx_readlink_dest(napi_env env, napi_callback_info info)
{
  ARGS(2);
  struct ctx *c = argc < 2 ? NULL : ctxapi_get(env, argv[0]);
  if (!c)
    return throw_type(env, "readlinkDest(ctx, rel: Buffer)");
  struct op op = {0};
  if (!arg_buffer(env, argv[1], &op.dst, &op.dst_len))
    return throw_type(env, "rel must be a Buffer");
  struct job j = {.c = c, .op = &op};
  char name[NAME_MAX + 1];
  struct parent *p;
  if (dest_parent(&j, op.dst, op.dst_len, &p, name) != OP_OK)
    return err_object(env, j.err.no, j.err.sys);
  napi_value buf = walk_readlink_at(env, p->fd, name);
  parent_put(c, p);
  return buf;
}

napi_value ctx_remove_source(napi_env env, napi_callback_info info)
{
  ARGS(6);
  struct ctx *c = argc < 4 ? NULL : ctxapi_get(env, argv[0]);
  struct op op = {0};
  bool follow = false;
  if (!c || !arg_buffer(env, argv[1], &op.src, &op.src_len) || napi_get_value_double(env, argv[2], &op.ino) != napi_ok ||
      napi_get_value_double(env, argv[3], &op.dev) != napi_ok || (argc >= 5 && !arg_anchor(env, argv[4], &op.anchor)) ||
      (argc >= 6 && napi_get_value_bool(env, argv[5], &follow) != napi_ok))
    return throw_type(env, "removeSource(ctx, src: Buffer, ino: number, dev: number, anchor?: number, follow?: boolean)");
  /* follow: the entry was reached through a link -L follows (src_remove's OF_FOLLOW_SOURCE). */
  if (follow)
    op.flags |= OF_FOLLOW_SOURCE;
  /* Beneath the anchor like the ops' own removal (source.c): a swapped directory never leads it out. */
  struct job j = {.c = c, .op = &op};
  if (src_remove(&j) != OP_OK)
    return err_object(env, j.err.no, j.err.sys);
  napi_value v;
  NAPI_TRY(env, napi_get_null(env, &v));
  return v;
}

napi_value ctx_xattr_diff(napi_env env, napi_callback_info info)
{
  ARGS(6);
  struct ctx *c = argc < 4 ? NULL : ctxapi_get(env, argv[0]);
  static const char usage[] = "xattrDiff(ctx, src: Buffer, rel: Buffer, flags: number, basis?: boolean, xrules?: Buffer)";
  if (!c)
    return throw_type(env, usage);
  struct op op = {0};
  uint32_t flags;
  bool basis = false;
  napi_valuetype xt = napi_undefined;
  if (!arg_buffer(env, argv[1], &op.src, &op.src_len) || !arg_buffer(env, argv[2], &op.dst, &op.dst_len) ||
      napi_get_value_uint32(env, argv[3], &flags) != napi_ok ||
      (argc >= 5 && napi_get_value_bool(env, argv[4], &basis) != napi_ok) ||
      (argc >= 6 && napi_typeof(env, argv[5], &xt) != napi_ok))
    return throw_type(env, usage);
  /* The entry's own x-rules, as an op carries them (batch.h): its comparison is in their views. */
  if (xt != napi_undefined &&
      (!arg_buffer(env, argv[5], &op.xrules, &op.xrules_len) || op.xrules_len > 0xffff || !batch_xrules_ok(op.xrules, op.xrules_len)))
    return throw_type(env, usage);
  struct job j = {.c = c, .op = &op};
  char spath[PATH_MAX + 64], name[NAME_MAX + 1], dpath[PATH_MAX + 64];
  struct lp_at sat = {.dirfd = AT_FDCWD}, bat = {.dirfd = AT_FDCWD};
  /* Never a failure object (the TypeScript signature is a number): when a side cannot be read the
   * requested classes count as different, the planner issues Attrs, and that op reports the error. */
  int all = ((flags & P_XATTRS) ? XC_XATTR : 0) | ((flags & P_ACLS) ? XC_ACL : 0);
  int diff = all;
  struct stat st;
  /* A source beyond PATH_MAX is named through our fd of a directory on its way (longpath.h). */
  if (all && lp_source(op.src, op.src_len, PATH_MAX - 64, &sat) == 0 &&
      (sat.owned ? snprintf(spath, sizeof spath, "/proc/self/fd/%d/%s", sat.dirfd, sat.rest)
                 : snprintf(spath, sizeof spath, "%s", sat.rest)) > 0 &&
      lstat(spath, &st) == 0) {
    /* The destination entry is named through our own fd of its parent (a /proc magic link we
     * opened beneath the root), so l*xattr never resolves a path an attacker could redirect, and
     * symlinks and device nodes are read without being opened. A --*-dest basis file is named as
     * the planner found it (an absolute path it checked has no symlink on the way), like a source. */
    struct parent *p = NULL;
    bool ok = true;
    if (basis)
      ok = lp_source(op.dst, op.dst_len, PATH_MAX - 64, &bat) == 0 &&
           (bat.owned ? snprintf(dpath, sizeof dpath, "/proc/self/fd/%d/%s", bat.dirfd, bat.rest)
                      : snprintf(dpath, sizeof dpath, "%s", bat.rest)) > 0;
    else if (op.dst_len == 0)
      snprintf(dpath, sizeof dpath, "/proc/self/fd/%d/.", c->rootfd);
    else if ((ok = dest_parent(&j, op.dst, op.dst_len, &p, name) == OP_OK))
      snprintf(dpath, sizeof dpath, "/proc/self/fd/%d/%s", p->fd, name);
    if (ok) {
      struct xnode s = {.fd = -1, .path = spath}, d = {.fd = -1, .path = dpath};
      diff = meta_xattrs_diff(&j, flags & (P_XATTRS | P_ACLS), s, d, S_ISDIR(st.st_mode));
      if (diff < 0)
        diff = all;
    }
    parent_put(c, p);
  }
  lp_release(&bat);
  lp_release(&sat);
  napi_value v;
  NAPI_TRY(env, napi_create_int32(env, diff, &v));
  return v;
}
