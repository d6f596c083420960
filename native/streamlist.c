/* A local run's incremental file lists, counted without a second walk: rsync copies locally as two
 * processes, and its -v summary and --stats count the bytes its sender writes, the file lists above all
 * (src/run/stream-totals.ts works out the rest of that stream). scanTree already lists and lstats every
 * source directory of a re-sync; when asked, it records here each directory's entries with the fields
 * rsync's send_file_entry writes, in readdir order (rsync's sender reads each directory with readdir
 * and sends the entries as it reads them, each against the one before it, so the sizes depend on that
 * order). Afterwards the directories are put in the order rsync's sender sends their lists (depth
 * first, each directory's subdirectories in rsync's sorted order, numbered as its dir_flist takes them),
 * and stream-totals.ts has each list counted by flistenc.c's encoder into a counter of rsync's 64 KiB
 * multiplexed output, one call per list, between the index and end markers it writes itself.
 *
 * The record: { handle, order, links } (links: the symlinks among the entries recorded).
 * streamListCount(handle, list, prefix: Buffer, top: Buffer | null, topMeta: Float64Array[8],
 *   settings: Float64Array [bits, protocol], state: Float64Array [held, written], nameLen(id, user))
 *   -> the entries counted, or -1 when a name would not fit (the caller keeps its plain figures).
 * `top`: the operand's own entry (its name, topMeta its mode, size, mtime, nsec, uid, gid, rdev major
 * and minor) counted first; `list`: the place in `order` of the directory whose entries follow (-1:
 * none), named below `prefix` ("" for "dir/", else the operand's name). The encoder's state lives in
 * the handle, so lists must be counted in order, once. */
#include "streamlist.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "args.h"
#include "errors.h"
#include "flistenc.h"

static const napi_type_tag LISTS_TAG = {0x6172737973747265ULL, 0x616d6c6973743031ULL};

struct sl_ent {
  int64_t size, mtime;
  uint32_t mode, uid, gid, rmaj, rmin, tlen;
  int32_t nsec;
  uint32_t name; /* offset of its name in the directory's pool */
};

struct sl_dir {
  char *rel;
  char *pool;
  struct sl_ent *e;
  size_t n;
  size_t links; /* symlinks among the entries */
};

struct sl_lists {
  struct sl_dir **dirs;
  size_t n, cap;
  bool failed;
  /* Symlinks recorded in all: under -L, -k or --copy-unsafe-links the sender lists what a link leads
   * to, so the record is rsync's list only when there is none (stream-list.ts). */
  size_t links;
  /* After the scan: the lists in send order, and the encoder's state across them. */
  double *order;
  size_t norder;
  size_t next; /* the next list to count */
  struct fle enc;
  char name[2 * PATH_MAX];
};

struct sl_dir *sl_dir_new(size_t n)
{
  struct sl_dir *d = calloc(1, sizeof *d);
  if (!d)
    return NULL;
  d->e = calloc(n ? n : 1, sizeof *d->e);
  if (!d->e) {
    free(d);
    return NULL;
  }
  d->n = n;
  return d;
}

void sl_dir_free(struct sl_dir *d)
{
  if (!d)
    return;
  free(d->rel);
  free(d->pool);
  free(d->e);
  free(d);
}

bool sl_dir_entry(struct sl_dir *d, const struct listing *a, size_t i, const struct statx *x, int xe, int dirfd)
{
  if (xe || i >= d->n)
    return false;
  struct sl_ent *e = &d->e[i];
  e->name = (uint32_t)(a->names[i] - a->pool);
  e->mode = x->stx_mode;
  e->uid = x->stx_uid;
  e->gid = x->stx_gid;
  e->mtime = (int64_t)x->stx_mtime.tv_sec;
  e->nsec = (int32_t)x->stx_mtime.tv_nsec;
  /* The device number as Node's Stat gives it (glibc's makedev in a double, read back as 32 bits by
   * stream-list.ts): the same major and minor for every device a 32-bit dev_t can name. */
  uint32_t rdev = (uint32_t)makedev(x->stx_rdev_major, x->stx_rdev_minor);
  e->rmaj = (rdev >> 8) & 0xfff;
  e->rmin = (rdev & 0xff) | ((rdev >> 12) & 0xfff00);
  if (S_ISREG(e->mode)) {
    e->size = (int64_t)x->stx_size;
  } else if (S_ISLNK(e->mode)) {
    d->links++;
    /* The target's length, as rsync's readlink gives it (only its length is counted). */
    char t[PATH_MAX];
    ssize_t n = readlinkat(dirfd, a->names[i], t, sizeof t);
    if (n < 0)
      return false;
    e->tlen = (uint32_t)n;
    e->size = n;
  }
  return true;
}

static int by_name(const void *x, const void *y)
{
  uint32_t a = ((const struct sl_ent *)x)->name, b = ((const struct sl_ent *)y)->name;
  return a < b ? -1 : a > b;
}

bool sl_dir_end(struct sl_dir *d, const char *rel, struct listing *a)
{
  d->rel = strdup(rel);
  if (!d->rel || a->used > UINT32_MAX)
    return false;
  /* The pool holds the names as getdents64 returned them: its order is readdir's. */
  qsort(d->e, d->n, sizeof *d->e, by_name);
  d->pool = a->pool;
  a->pool = NULL;
  return true;
}

struct sl_lists *sl_lists_new(void)
{
  return calloc(1, sizeof(struct sl_lists));
}

bool sl_lists_add(struct sl_lists *l, struct sl_dir *d)
{
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 64;
    struct sl_dir **v = realloc(l->dirs, cap * sizeof *v);
    if (!v)
      return false;
    l->dirs = v;
    l->cap = cap;
  }
  l->dirs[l->n++] = d;
  l->links += d->links;
  return true;
}

void sl_lists_fail(struct sl_lists *l)
{
  l->failed = true;
}

static void lists_free(struct sl_lists *l)
{
  for (size_t i = 0; i < l->n; i++)
    sl_dir_free(l->dirs[i]);
  free(l->dirs);
  free(l->order);
  fle_free(&l->enc);
  free(l);
}

static void lists_finalize(napi_env env, void *data, void *hint)
{
  (void)env;
  (void)hint;
  lists_free(data);
}

static int by_rel(const void *x, const void *y)
{
  return strcmp((*(struct sl_dir *const *)x)->rel, (*(struct sl_dir *const *)y)->rel);
}

/* A subdirectory named as it sorts in rsync's list: its name with a "/" after it (flistwalk.c's rule). */
static int by_dir_name(const void *x, const void *y)
{
  const unsigned char *a = *(const unsigned char *const *)x, *b = *(const unsigned char *const *)y;
  while (*a && *a == *b)
    a++, b++;
  unsigned ca = *a ? *a : '/';
  unsigned cb = *b ? *b : '/';
  return (int)ca - (int)cb;
}

static size_t find_rel(struct sl_lists *l, const char *rel)
{
  size_t lo = 0, hi = l->n;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    int c = strcmp(l->dirs[mid]->rel, rel);
    if (c == 0)
      return mid;
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return SIZE_MAX;
}

/* The lists in rsync's send order: the operand's directory (index 0), then depth first, each list
 * numbering its subdirectories (in sorted order) as it is sent. False when a directory is missing. */
static bool make_order(struct sl_lists *l)
{
  qsort(l->dirs, l->n, sizeof *l->dirs, by_rel);
  if (l->n == 0 || l->dirs[0]->rel[0] != 0)
    return false;
  l->order = malloc(l->n * 3 * sizeof *l->order);
  size_t *stack = malloc(l->n * 2 * sizeof *stack);
  const char **subs = NULL;
  size_t subcap = 0, top = 0, next_ndx = 1;
  bool ok = l->order && stack;
  if (ok) {
    stack[top++] = 0;
    stack[top++] = 0;
  }
  while (ok && top) {
    size_t ndx = stack[--top], di = stack[--top];
    struct sl_dir *d = l->dirs[di];
    double *o = l->order + l->norder++ * 3;
    o[0] = (double)di;
    o[1] = (double)ndx;
    o[2] = (double)d->n;
    size_t k = 0;
    for (size_t i = 0; i < d->n; i++) {
      if (!S_ISDIR(d->e[i].mode))
        continue;
      if (k == subcap) {
        subcap = subcap ? subcap * 2 : 64;
        const char **s = realloc(subs, subcap * sizeof *s);
        if (!s) {
          ok = false;
          break;
        }
        subs = s;
      }
      subs[k++] = d->pool + d->e[i].name;
    }
    if (!ok)
      break;
    qsort(subs, k, sizeof *subs, by_dir_name);
    size_t base = next_ndx;
    next_ndx += k;
    /* Pushed last first, so the first in sorted order is sent next. */
    for (size_t j = k; ok && j-- > 0;) {
      size_t rl = strlen(d->rel), nl = strlen(subs[j]);
      if (rl + 1 + nl >= sizeof l->name) {
        ok = false;
        break;
      }
      char *p = l->name;
      if (rl) {
        memcpy(p, d->rel, rl);
        p[rl++] = '/';
      }
      memcpy(p + rl, subs[j], nl + 1);
      size_t at = find_rel(l, l->name);
      /* Every listed directory was scanned (each existed on both sides), once: anything else means
       * the scan did not see this run's whole tree. */
      if (at == SIZE_MAX || top + 2 > l->n * 2)
        ok = false;
      else {
        stack[top++] = at;
        stack[top++] = base + j;
      }
    }
  }
  free(stack);
  free(subs);
  return ok && l->norder == l->n;
}

napi_value sl_lists_finish(napi_env env, struct sl_lists *l)
{
  if (l->failed || !make_order(l)) {
    lists_free(l);
    return NULL;
  }
  napi_value o, ext, order, links;
  if (napi_create_object(env, &o) != napi_ok || (order = f64_copy(env, l->order, l->norder * 3)) == NULL ||
      napi_create_double(env, (double)l->links, &links) != napi_ok) {
    lists_free(l);
    return NULL;
  }
  if (napi_create_external(env, l, lists_finalize, NULL, &ext) != napi_ok) {
    lists_free(l);
    return NULL;
  }
  if (napi_type_tag_object(env, ext, &LISTS_TAG) != napi_ok || napi_set_named_property(env, o, "handle", ext) != napi_ok ||
      napi_set_named_property(env, o, "order", order) != napi_ok || napi_set_named_property(env, o, "links", links) != napi_ok)
    return NULL;
  return o;
}

struct names_cb {
  napi_env env;
  napi_value fn;
};

/* The JavaScript nameLen(id, user): the length of the name rsync sends after a new id, -1 for none. */
static int name_len(void *arg, uint32_t id, bool user)
{
  struct names_cb *cb = arg;
  napi_value argv[2], undef, r;
  int64_t len = -1;
  if (napi_create_uint32(cb->env, id, &argv[0]) != napi_ok || napi_get_boolean(cb->env, user, &argv[1]) != napi_ok ||
      napi_get_undefined(cb->env, &undef) != napi_ok || napi_call_function(cb->env, undef, cb->fn, 2, argv, &r) != napi_ok ||
      !arg_int64(cb->env, r, &len))
    return -1;
  return len < 0 || len > INT32_MAX ? -1 : (int)len;
}

/* prefix, "/" and name into buf (either part may be empty); false when it would not fit. */
static bool join(char *buf, size_t cap, const char *a, size_t al, const char *b, size_t bl, size_t *len)
{
  if (al + 1 + bl >= cap)
    return false;
  size_t n = al;
  if (al)
    memcpy(buf, a, al);
  if (al && bl)
    buf[n++] = '/';
  if (bl)
    memcpy(buf + n, b, bl);
  *len = n + bl;
  return true;
}

napi_value stream_list_count(napi_env env, napi_callback_info info)
{
  ARGS(8);
  struct sl_lists *l = argc < 8 ? NULL : arg_external(env, argv[0], &LISTS_TAG);
  int64_t list;
  const uint8_t *prefix, *topName = NULL;
  uint32_t plen, tlen = 0;
  const double *tm, *set, *state;
  napi_valuetype ft;
  if (!l || !arg_int64(env, argv[1], &list) || !arg_buffer(env, argv[2], &prefix, &plen) ||
      (!arg_absent(env, argv[3]) && !arg_buffer(env, argv[3], &topName, &tlen)) || !(tm = arg_f64(env, argv[4], 8)) ||
      !(set = arg_f64(env, argv[5], 2)) || !(state = arg_f64(env, argv[6], 2)) ||
      napi_typeof(env, argv[7], &ft) != napi_ok || ft != napi_function ||
      list >= (int64_t)l->norder || (list >= 0 && (size_t)list != l->next))
    return throw_type(env, "streamListCount(handle, list, prefix, top, topMeta, settings, state, nameLen), lists in order");
  struct names_cb cb = {env, argv[7]};
  l->enc.bits = (unsigned)set[0];
  l->enc.protocol = (int)set[1];
  l->enc.incremental = true;
  l->enc.name_len = name_len;
  l->enc.name_arg = &cb;
  struct fle_out o = {.counting = true, .held = (uint64_t)state[0], .written = (uint64_t)state[1]};
  double count = 0;
  size_t len;
  if (topName) {
    if (tlen >= sizeof l->name)
      goto too_long;
    struct fle_ent e = {.name = (const char *)topName, .len = tlen, .mode = (uint32_t)tm[0], .size = (int64_t)tm[1],
                        .mtime = (int64_t)tm[2], .nsec = (int32_t)tm[3], .uid = (uint32_t)tm[4], .gid = (uint32_t)tm[5],
                        .rmaj = (uint32_t)tm[6], .rmin = (uint32_t)tm[7]};
    fle_entry(&l->enc, &o, &e, true);
    count++;
  }
  if (list >= 0) {
    struct sl_dir *d = l->dirs[(size_t)l->order[list * 3]];
    l->next++;
    /* The directory's own name in the list: prefix/rel. */
    char dir[PATH_MAX * 2];
    size_t dlen;
    if (!join(dir, sizeof dir, (const char *)prefix, plen, d->rel, strlen(d->rel), &dlen))
      goto too_long;
    for (size_t i = 0; i < d->n; i++) {
      const struct sl_ent *s = &d->e[i];
      const char *nm = d->pool + s->name;
      if (!join(l->name, sizeof l->name, dir, dlen, nm, strlen(nm), &len))
        goto too_long;
      struct fle_ent e = {.name = l->name, .len = len, .mode = s->mode, .size = s->size, .mtime = s->mtime,
                          .nsec = s->nsec, .uid = s->uid, .gid = s->gid, .rmaj = s->rmaj, .rmin = s->rmin,
                          .target = NULL, .tlen = s->tlen};
      fle_entry(&l->enc, &o, &e, false);
      count++;
    }
  }
  double *st = (double *)state;
  st[0] = (double)o.held;
  st[1] = (double)o.written;
  napi_value r;
  napi_create_double(env, count, &r);
  return r;
too_long:;
  napi_value m1;
  napi_create_int32(env, -1, &m1);
  return m1;
}
