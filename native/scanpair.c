/* scanPair: one source directory and its destination twin, listed and matched by name in C.
 *
 * A re-sync spends its time deciding that files are unchanged. Doing the quick check here, on the two
 * sorted listings, means an unchanged regular file or symlink never becomes a JS object: it is only
 * counted (the "collapsed" totals). Everything else comes back to TypeScript with its destination
 * twin's stat beside it: directories (to recurse), new or changed entries, devices, and the
 * destination-only names (for --delete). TypeScript turns collapsing off whenever a rule needs to see
 * every entry (filters, -c, -I, --size-only, -ii, --chmod, -X/-A, --remove-source-files, ...).
 *
 * scanPair(ctx, src: Buffer, destRel: Buffer | null, q: Float64Array[3]) where q = [bits, window,
 * resolutionNs]; bits are the SP_* below. Returns { names, meta, dmeta, extra, extraMeta, collapsed,
 * destErrno } or { errno, syscall } when the source cannot be listed. meta/dmeta/extraMeta hold 12
 * doubles per entry in scanDir's layout; a missing twin has err (field 11) = ENOENT. collapsed is
 * [reg, link, totalSize]. */
#include "scanpair.h"
#include "listing.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "ctxapi.h"
#include "errors.h"
#include "longpath.h"
#include "ops.h"
#include "source.h"

#define DENTS_BUF (64 * 1024)

struct dirent64 {
  uint64_t d_ino;
  int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

void listing_free(struct listing *l)
{
  free(l->pool);
  free(l->names);
  free(l->st);
  free(l->err);
}

static int cmp_name(const void *a, const void *b)
{
  /* strcmp compares as unsigned char: the same byte order as Buffer.compare. */
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* getdents64 into l (without . and ..), then sort. Returns 0 or an errno. */
int list_fd(int fd, struct listing *l)
{
  char *buf = malloc(DENTS_BUF);
  if (!buf)
    return ENOMEM;
  int e = 0;
  for (;;) {
    long n = syscall(SYS_getdents64, fd, buf, DENTS_BUF);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      e = errno;
      break;
    }
    if (n == 0)
      break;
    for (long off = 0; off < n;) {
      struct dirent64 *d = (struct dirent64 *)(buf + off);
      off += d->d_reclen;
      const char *nm = d->d_name;
      if (nm[0] == '.' && (nm[1] == 0 || (nm[1] == '.' && nm[2] == 0)))
        continue;
      size_t len = strlen(nm) + 1;
      if (l->used + len > l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8192;
        while (cap < l->used + len)
          cap *= 2;
        char *p = realloc(l->pool, cap);
        if (!p) {
          e = ENOMEM;
          goto out;
        }
        l->pool = p;
        l->cap = cap;
      }
      memcpy(l->pool + l->used, nm, len);
      l->used += len;
      l->n++;
    }
  }
out:
  free(buf);
  if (e)
    return e;
  /* Offsets become pointers only now: the pool may have moved while growing. */
  l->names = malloc((l->n ? l->n : 1) * sizeof *l->names);
  l->st = malloc((l->n ? l->n : 1) * sizeof *l->st);
  l->err = calloc(l->n ? l->n : 1, sizeof *l->err);
  if (!l->names || !l->st || !l->err)
    return ENOMEM;
  char *p = l->pool;
  for (size_t i = 0; i < l->n; i++) {
    l->names[i] = p;
    p += strlen(p) + 1;
  }
  qsort(l->names, l->n, sizeof *l->names, cmp_name);
  for (size_t i = 0; i < l->n; i++) {
    if (statx(fd, l->names[i], AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_STATX_SYNC_AS_STAT, STATX_BASIC_STATS,
              &l->st[i]) < 0)
      l->err[i] = errno;
  }
  return 0;
}

void listing_fill(double *m, const struct statx *sx, int err)
{
  memset(m, 0, META_FIELDS * sizeof *m);
  if (err) {
    m[11] = err;
    return;
  }
  m[0] = sx->stx_mode;
  m[1] = sx->stx_uid;
  m[2] = sx->stx_gid;
  m[3] = (double)sx->stx_size;
  m[4] = (double)sx->stx_mtime.tv_sec;
  m[5] = sx->stx_mtime.tv_nsec;
  m[6] = (double)sx->stx_ino;
  m[7] = (double)makedev(sx->stx_dev_major, sx->stx_dev_minor);
  m[8] = sx->stx_nlink;
  m[9] = (double)makedev(sx->stx_rdev_major, sx->stx_rdev_minor);
  m[10] = (double)sx->stx_blocks;
}

static bool same_time(const struct statx *a, const struct statx *b, double window, double resolution_ns)
{
  double ds = (double)a->stx_mtime.tv_sec - (double)b->stx_mtime.tv_sec;
  if (window > 0)
    return fabs(ds) <= window;
  if (fabs(ds) > 1)
    return false;
  double dn = ds * 1e9 + ((double)a->stx_mtime.tv_nsec - (double)b->stx_mtime.tv_nsec);
  return fabs(dn) < (resolution_ns > 1 ? resolution_ns : 1);
}

static bool same_link(int sfd, const char *sname, int dfd, const char *dname, size_t size)
{
  char a[PATH_MAX], b[PATH_MAX];
  if (size >= sizeof a)
    return false;
  ssize_t la = readlinkat(sfd, sname, a, sizeof a);
  ssize_t lb = readlinkat(dfd, dname, b, sizeof b);
  return la >= 0 && la == lb && memcmp(a, b, (size_t)la) == 0;
}

/* The quick check for one matched pair, as src/plan/quickcheck.ts would decide "none". */
bool unchanged(const struct statx *s, const struct statx *d, unsigned bits, double window, double res,
                      int sfd, const char *name, int dfd)
{
  if ((s->stx_mode & S_IFMT) != (d->stx_mode & S_IFMT))
    return false;
  if ((bits & SP_OWNER) && s->stx_uid != d->stx_uid)
    return false;
  if ((bits & SP_GROUP) && s->stx_gid != d->stx_gid)
    return false;
  /* -H: every member of a hard-link group goes to the planner (symlinks too, as rsync groups them). */
  if ((bits & SP_HARDLINKS) && !S_ISDIR(s->stx_mode) && s->stx_nlink > 1)
    return false;
  if (S_ISREG(s->stx_mode)) {
    if (s->stx_size != d->stx_size || !same_time(s, d, window, res))
      return false;
    return !(bits & SP_PERMS) || (s->stx_mode & 07777) == (d->stx_mode & 07777);
  }
  if (S_ISLNK(s->stx_mode) && (bits & SP_LINKS)) {
    if ((bits & SP_TIMES) && !same_time(s, d, window, res))
      return false;
    return same_link(sfd, name, dfd, name, s->stx_size);
  }
  return false;
}

static napi_value f64_array(napi_env env, size_t n, double **data)
{
  napi_value ab, ta;
  void *p;
  if (napi_create_arraybuffer(env, (n ? n : 1) * sizeof(double), &p, &ab) != napi_ok ||
      napi_create_typedarray(env, napi_float64_array, n, ab, 0, &ta) != napi_ok)
    return NULL;
  *data = p;
  return ta;
}

static napi_value names_buffer(napi_env env, char **names, const size_t *idx, size_t n)
{
  size_t total = 0;
  for (size_t i = 0; i < n; i++)
    total += strlen(names[idx[i]]) + 1;
  void *data;
  napi_value buf;
  if (napi_create_buffer(env, total, &data, &buf) != napi_ok)
    return NULL;
  char *p = data;
  for (size_t i = 0; i < n; i++) {
    size_t len = strlen(names[idx[i]]) + 1;
    memcpy(p, names[idx[i]], len);
    p += len;
  }
  return buf;
}

const double *query_arg(napi_env env, napi_value v, size_t n)
{
  bool is_ta = false;
  napi_typedarray_type tt;
  size_t len = 0;
  void *data = NULL;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta ||
      napi_get_typedarray_info(env, v, &tt, &len, &data, NULL, NULL) != napi_ok || tt != napi_float64_array ||
      len < n)
    return NULL;
  return data;
}

napi_value scan_pair(napi_env env, napi_callback_info info)
{
  size_t argc = 5;
  napi_value argv[5];
  NAPI_TRY(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  struct ctx *c = argc < 4 ? NULL : ctxapi_get(env, argv[0]);
  if (!c)
    return throw_type(env, "scanPair(ctx, src: Buffer, destRel: Buffer | null, q: Float64Array, anchor?: number)");
  const uint8_t *src, *rel = NULL;
  uint32_t srclen, rellen = 0;
  if (!ctxapi_buffer(env, argv[1], &src, &srclen) || memchr(src, 0, srclen))
    return throw_type(env, "src must be a Buffer without NUL bytes");
  napi_valuetype t;
  NAPI_TRY(env, napi_typeof(env, argv[2], &t));
  bool want_dest = t != napi_null && t != napi_undefined;
  if (want_dest && !ctxapi_buffer(env, argv[2], &rel, &rellen))
    return throw_type(env, "destRel must be a Buffer or null");
  const double *q = query_arg(env, argv[3], 3);
  if (!q)
    return throw_type(env, "q must be a Float64Array of 3");
  unsigned bits = (unsigned)q[0];
  double window = q[1], res = q[2];

  uint32_t anchor = 0;
  if (argc >= 5 && !ctxapi_anchor(env, argv[4], &anchor))
    return throw_type(env, "anchor must be a non-negative integer");
  /* Beneath the operator's anchor, without symlinks: a directory swapped after the walk saw it is
   * never listed through the symlink (source.c). */
  int sfd = src_open_dir(src, srclen, anchor);
  if (sfd < 0)
    return err_object(env, -sfd, "scandir");
  struct listing s = {0}, d = {0};
  int e = list_fd(sfd, &s);
  if (e) {
    close(sfd);
    listing_free(&s);
    return err_object(env, e, "scandir");
  }
  int dfd = -1, derr = 0;
  if (want_dest) {
    /* Destination directories resolve beneath the root like every destination path. */
    dfd = ops_open_dest(c, rel, rellen, O_RDONLY | O_DIRECTORY);
    if (dfd < 0)
      derr = -dfd;
    else if ((derr = list_fd(dfd, &d)) != 0) {
      listing_free(&d);
      memset(&d, 0, sizeof d);
    }
  }

  napi_value result = NULL;
  size_t *keep = malloc((s.n ? s.n : 1) * sizeof *keep);
  long *twin = malloc((s.n ? s.n : 1) * sizeof *twin);
  size_t *extra = malloc((d.n ? d.n : 1) * sizeof *extra);
  if (!keep || !twin || !extra)
    goto done;
  size_t nkeep = 0, nextra = 0, j = 0;
  double coll_reg = 0, coll_link = 0, coll_size = 0;
  for (size_t i = 0; i < s.n; i++) {
    /* Merge-join on the sorted names; destination-only names are the extras. */
    int cmp = 1;
    while (j < d.n && (cmp = strcmp(d.names[j], s.names[i])) < 0)
      extra[nextra++] = j++;
    long tw = -1;
    if (j < d.n && cmp == 0) {
      tw = (long)j;
      j++;
    }
    if ((bits & SP_COLLAPSE) && tw >= 0 && !s.err[i] && !d.err[tw] &&
        unchanged(&s.st[i], &d.st[tw], bits, window, res, sfd, s.names[i], dfd)) {
      if (S_ISREG(s.st[i].stx_mode))
        coll_reg++;
      else
        coll_link++;
      coll_size += (double)s.st[i].stx_size;
      continue;
    }
    keep[nkeep] = i;
    twin[nkeep++] = tw;
  }
  while (j < d.n)
    extra[nextra++] = j++;

  double *meta, *dmeta, *xmeta, *coll;
  napi_value vnames = names_buffer(env, s.names, keep, nkeep);
  napi_value vmeta = f64_array(env, nkeep * META_FIELDS, &meta);
  napi_value vdmeta = f64_array(env, nkeep * META_FIELDS, &dmeta);
  napi_value vextra = names_buffer(env, d.names, extra, nextra);
  napi_value vxmeta = f64_array(env, nextra * META_FIELDS, &xmeta);
  napi_value vcoll = f64_array(env, 3, &coll);
  napi_value vderr;
  if (!vnames || !vmeta || !vdmeta || !vextra || !vxmeta || !vcoll || napi_create_int32(env, derr, &vderr) != napi_ok)
    goto done;
  for (size_t k = 0; k < nkeep; k++) {
    listing_fill(meta + k * META_FIELDS, &s.st[keep[k]], s.err[keep[k]]);
    if (twin[k] >= 0)
      listing_fill(dmeta + k * META_FIELDS, &d.st[twin[k]], d.err[twin[k]]);
    else
      listing_fill(dmeta + k * META_FIELDS, NULL, ENOENT);
  }
  for (size_t k = 0; k < nextra; k++)
    listing_fill(xmeta + k * META_FIELDS, &d.st[extra[k]], d.err[extra[k]]);
  coll[0] = coll_reg;
  coll[1] = coll_link;
  coll[2] = coll_size;
  if (napi_create_object(env, &result) != napi_ok ||
      napi_set_named_property(env, result, "names", vnames) != napi_ok ||
      napi_set_named_property(env, result, "meta", vmeta) != napi_ok ||
      napi_set_named_property(env, result, "dmeta", vdmeta) != napi_ok ||
      napi_set_named_property(env, result, "extra", vextra) != napi_ok ||
      napi_set_named_property(env, result, "extraMeta", vxmeta) != napi_ok ||
      napi_set_named_property(env, result, "collapsed", vcoll) != napi_ok ||
      napi_set_named_property(env, result, "destErrno", vderr) != napi_ok)
    result = NULL;

done:
  free(keep);
  free(twin);
  free(extra);
  close(sfd);
  if (dfd >= 0)
    close(dfd);
  listing_free(&s);
  listing_free(&d);
  if (!result)
    return throw_error(env, "scanPair: out of memory");
  return result;
}
