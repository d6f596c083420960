/* flistWalk: a push's whole file list of one directory operand, walked in C in the order rsync's sender
 * sends it (within a directory its files by name, then each subdirectory, named with a "/" after it,
 * followed at once by its own contents), so TypeScript gets the finished list as three flat arrays
 * instead of a listing, a Stat object and an entry object per name (src/run/push-native.ts). Every
 * directory below the operand is opened from its parent's descriptor, O_NOFOLLOW: a directory swapped
 * for a symlink during the walk is never entered (DESIGN §3 rule 3, as scanDir's walk). Only the plain
 * case is walked here (no filters, -x, -L, -H, -X, -A): TypeScript decides when (push-native.ts).
 *
 * flistWalk(path, anchor, prefix) ->
 *   { names, at, meta, errors } : names NUL-terminated back to back (a symlink's target, NUL-terminated,
 *     right after its name), at[i] the offset of entry i's name, meta FLW_FIELDS doubles per entry
 *     (flistwalk.h), errors [{ kind, errno, name }] in the walk's order (an entry that could not be
 *     stat'ed or read and was left out, or a directory that could not be opened: its contents left out);
 *   { fallback: errno } when the walk cannot finish here (descriptors, memory, a name past PATH_MAX):
 *     the caller walks in TypeScript instead;
 *   a failure object when the operand itself cannot be opened as a directory.
 * `prefix`: the operand's name in the list ("" for "dir/", whose entries are named from "."). */
#include "flistwalk.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "args.h"
#include "errors.h"
#include "listing.h"
#include "source.h"

struct fw {
  char *names;
  size_t used, cap;
  uint32_t *at;
  double *meta;
  size_t n, ncap;
  /* errors: kind (1 byte), errno (4 bytes, little end first), the name and a NUL, back to back */
  char *errs;
  size_t eused, ecap;
  size_t nerrs;
  int fatal;
  /* the relative name of the directory being walked ("" at the root of "dir/") */
  char rel[PATH_MAX];
  /* scratch for one entry's name and a symlink's target: here, not on the stack, so a walk as deep as
   * PATH_MAX allows costs a small frame per level (each is used only before the walk goes deeper) */
  char name[PATH_MAX];
  char target[PATH_MAX];
};

static int grow(char **p, size_t *cap, size_t need)
{
  if (need <= *cap)
    return 0;
  size_t c = *cap ? *cap : 65536;
  while (c < need)
    c *= 2;
  char *q = realloc(*p, c);
  if (!q)
    return ENOMEM;
  *p = q;
  *cap = c;
  return 0;
}

/* rel + "/" + name (or name alone at the root of "dir/") into out; false when it would not fit. */
static bool join_rel(const char *rel, size_t rlen, const char *name, char *out, size_t *olen)
{
  size_t nlen = strlen(name);
  size_t len = rlen ? rlen + 1 + nlen : nlen;
  if (len >= PATH_MAX)
    return false;
  if (rlen) {
    memcpy(out, rel, rlen);
    out[rlen] = '/';
    memcpy(out + rlen + 1, name, nlen + 1);
  } else {
    memcpy(out, name, nlen + 1);
  }
  *olen = len;
  return true;
}

static void note_error(struct fw *w, int kind, int no, const char *name, size_t len)
{
  if (w->fatal)
    return;
  if (grow(&w->errs, &w->ecap, w->eused + 5 + len + 1)) {
    w->fatal = ENOMEM;
    return;
  }
  char *o = w->errs + w->eused;
  o[0] = (char)kind;
  uint32_t u = (uint32_t)no;
  for (int i = 0; i < 4; i++)
    o[1 + i] = (char)((u >> (8 * i)) & 0xff);
  memcpy(o + 5, name, len);
  o[5 + len] = 0;
  w->eused += 5 + len + 1;
  w->nerrs++;
}

static void fill(double *m, const struct statx *sx, size_t linklen, bool islink)
{
  m[FLW_MODE] = sx->stx_mode;
  m[FLW_SIZE] = islink ? (double)linklen : (double)sx->stx_size;
  m[FLW_MTIME] = (double)sx->stx_mtime.tv_sec;
  m[FLW_NSEC] = sx->stx_mtime.tv_nsec;
  m[FLW_UID] = sx->stx_uid;
  m[FLW_GID] = sx->stx_gid;
  m[FLW_DEV] = (double)makedev(sx->stx_dev_major, sx->stx_dev_minor);
  m[FLW_INO] = (double)sx->stx_ino;
  m[FLW_RMAJOR] = sx->stx_rdev_major;
  m[FLW_RMINOR] = sx->stx_rdev_minor;
}

/* Appends one entry: its name (and a symlink's target) and its metadata. */
static void add(struct fw *w, const char *name, size_t len, const struct statx *sx, const char *target, size_t tlen)
{
  if (w->fatal)
    return;
  size_t need = len + 1 + (target ? tlen + 1 : 0);
  if (grow(&w->names, &w->cap, w->used + need)) {
    w->fatal = ENOMEM;
    return;
  }
  if (w->n == w->ncap) {
    size_t c = w->ncap ? w->ncap * 2 : 4096;
    uint32_t *a = realloc(w->at, c * sizeof *a);
    if (a)
      w->at = a;
    double *m = a ? realloc(w->meta, c * FLW_FIELDS * sizeof *m) : NULL;
    if (!a || !m) {
      w->fatal = ENOMEM;
      return;
    }
    w->meta = m;
    w->ncap = c;
  }
  if (w->used + need > UINT32_MAX) {
    w->fatal = EOVERFLOW;
    return;
  }
  w->at[w->n] = (uint32_t)w->used;
  memcpy(w->names + w->used, name, len);
  w->names[w->used + len] = 0;
  w->used += len + 1;
  if (target) {
    memcpy(w->names + w->used, target, tlen);
    w->names[w->used + tlen] = 0;
    w->used += tlen + 1;
  }
  fill(w->meta + w->n * FLW_FIELDS, sx, tlen, target != NULL);
  w->n++;
}

/* A directory named as it sorts: its name with a "/" after it (names hold no "/"). */
static int cmp_dir(const void *a, const void *b)
{
  const unsigned char *x = (const unsigned char *)((const struct flw_dir *)a)->name;
  const unsigned char *y = (const unsigned char *)((const struct flw_dir *)b)->name;
  while (*x && *x == *y)
    x++, y++;
  unsigned cx = *x ? *x : '/';
  unsigned cy = *y ? *y : '/';
  return (int)cx - (int)cy;
}

/* Lists the open directory fd (w->rel of length rlen) and everything below it; closes fd. */
static void walk_dir(struct fw *w, int fd, size_t rlen)
{
  struct listing l = {0};
  int e = list_names(fd, &l);
  if (e) {
    if (e == ENOMEM)
      w->fatal = e;
    else
      note_error(w, FLW_ERR_OPENDIR, e, w->rel, rlen);
    close(fd);
    listing_free(&l);
    return;
  }
  /* Files go out as they are stat'ed (the listing is in byte order); directories wait, sorted after. */
  struct flw_dir *dirs = NULL;
  size_t nd = 0, dcap = 0;
  char *name = w->name;
  char *target = w->target;
  for (size_t i = 0; i < l.n && !w->fatal; i++) {
    size_t len;
    if (!join_rel(w->rel, rlen, l.names[i], name, &len)) {
      w->fatal = ENAMETOOLONG;
      break;
    }
    struct statx sx;
    int se = stat_entry(fd, l.names[i], &sx);
    if (se) {
      note_error(w, FLW_ERR_STAT, se, name, len);
      continue;
    }
    if (S_ISDIR(sx.stx_mode)) {
      if (nd == dcap) {
        size_t c = dcap ? dcap * 2 : 16;
        struct flw_dir *d = realloc(dirs, c * sizeof *d);
        if (!d) {
          w->fatal = ENOMEM;
          break;
        }
        dirs = d;
        dcap = c;
      }
      dirs[nd].name = l.names[i];
      dirs[nd].sx = sx;
      nd++;
      continue;
    }
    if (S_ISLNK(sx.stx_mode)) {
      ssize_t t = readlinkat(fd, l.names[i], target, PATH_MAX);
      if (t < 0 || (size_t)t >= PATH_MAX) {
        note_error(w, FLW_ERR_READLINK, t < 0 ? errno : ENAMETOOLONG, name, len);
        continue;
      }
      add(w, name, len, &sx, target, (size_t)t);
    } else {
      add(w, name, len, &sx, NULL, 0);
    }
  }
  qsort(dirs, nd, sizeof *dirs, cmp_dir);
  for (size_t i = 0; i < nd && !w->fatal; i++) {
    size_t len;
    if (!join_rel(w->rel, rlen, dirs[i].name, name, &len)) {
      w->fatal = ENAMETOOLONG;
      break;
    }
    add(w, name, len, &dirs[i].sx, NULL, 0);
    int sub = openat(fd, dirs[i].name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sub < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOMEM)
        w->fatal = errno;
      else
        note_error(w, FLW_ERR_OPENDIR, errno, name, len);
      continue;
    }
    memcpy(w->rel, name, len + 1);
    walk_dir(w, sub, len);
    w->rel[rlen] = 0;
  }
  free(dirs);
  listing_free(&l);
  close(fd);
}

static napi_value typed(napi_env env, napi_typedarray_type type, const void *src, size_t count, size_t size)
{
  napi_value ab, ta;
  void *p;
  if (napi_create_arraybuffer(env, count * size, &p, &ab) != napi_ok ||
      napi_create_typedarray(env, type, count, ab, 0, &ta) != napi_ok)
    return NULL;
  if (count)
    memcpy(p, src, count * size);
  return ta;
}

static napi_value errors_array(napi_env env, const struct fw *w)
{
  napi_value arr;
  if (napi_create_array_with_length(env, w->nerrs, &arr) != napi_ok)
    return NULL;
  const char *p = w->errs;
  for (size_t i = 0; i < w->nerrs; i++) {
    uint32_t no = 0;
    for (int b = 0; b < 4; b++)
      no |= (uint32_t)(unsigned char)p[1 + b] << (8 * b);
    size_t len = strlen(p + 5);
    napi_value o, kind, en, nm;
    void *d;
    if (napi_create_object(env, &o) != napi_ok || napi_create_uint32(env, (unsigned char)p[0], &kind) != napi_ok ||
        napi_create_uint32(env, no, &en) != napi_ok || napi_create_buffer_copy(env, len, p + 5, &d, &nm) != napi_ok ||
        napi_set_named_property(env, o, "kind", kind) != napi_ok || napi_set_named_property(env, o, "errno", en) != napi_ok ||
        napi_set_named_property(env, o, "name", nm) != napi_ok || napi_set_element(env, arr, (uint32_t)i, o) != napi_ok)
      return NULL;
    p += 5 + len + 1;
  }
  return arr;
}

static napi_value result(napi_env env, struct fw *w)
{
  napi_value out, v;
  if (w->fatal) {
    if (napi_create_object(env, &out) != napi_ok || napi_create_int32(env, w->fatal, &v) != napi_ok ||
        napi_set_named_property(env, out, "fallback", v) != napi_ok)
      return NULL;
    return out;
  }
  void *d;
  napi_value names, at, meta, errs;
  if (napi_create_buffer_copy(env, w->used, w->used ? w->names : "", &d, &names) != napi_ok)
    return NULL;
  at = typed(env, napi_uint32_array, w->at, w->n, sizeof *w->at);
  meta = typed(env, napi_float64_array, w->meta, w->n * FLW_FIELDS, sizeof *w->meta);
  errs = errors_array(env, w);
  if (!at || !meta || !errs || napi_create_object(env, &out) != napi_ok ||
      napi_set_named_property(env, out, "names", names) != napi_ok || napi_set_named_property(env, out, "at", at) != napi_ok ||
      napi_set_named_property(env, out, "meta", meta) != napi_ok || napi_set_named_property(env, out, "errors", errs) != napi_ok)
    return NULL;
  return out;
}

napi_value flist_walk(napi_env env, napi_callback_info info)
{
  ARGS(3);
  const uint8_t *path, *prefix;
  uint32_t len, plen;
  if (argc < 3 || !arg_path(env, argv[0], &path, &len))
    return argc < 3 ? throw_type(env, "flistWalk(path, anchor, prefix)") : NULL;
  uint32_t anchor = 0;
  if (!arg_anchor(env, argv[1], &anchor) || !arg_buffer(env, argv[2], &prefix, &plen))
    return throw_type(env, "flistWalk(path, anchor, prefix: Buffer)");
  if (plen >= PATH_MAX || memchr(prefix, 0, plen))
    return throw_type(env, "flistWalk: prefix must be a NUL-free name shorter than PATH_MAX");
  int fd = src_open_dir(path, len, anchor);
  if (fd < 0)
    return err_object(env, -fd, "opendir");
  struct statx sx;
  int se = statx(fd, "", AT_EMPTY_PATH | AT_STATX_SYNC_AS_STAT, STATX_BASIC_STATS, &sx) != 0 ? errno : 0;
  if (se || !S_ISDIR(sx.stx_mode)) {
    int e = se ? se : ENOTDIR;
    close(fd);
    return err_object(env, e, "opendir");
  }
  struct fw *w = calloc(1, sizeof *w);
  if (!w) {
    close(fd);
    return throw_error(env, "flistWalk: out of memory");
  }
  memcpy(w->rel, prefix, plen);
  w->rel[plen] = 0;
  add(w, plen ? w->rel : ".", plen ? plen : 1, &sx, NULL, 0);
  walk_dir(w, fd, plen);
  napi_value out = result(env, w);
  free(w->names);
  free(w->at);
  free(w->meta);
  free(w->errs);
  free(w);
  if (!out)
    return throw_error(env, "flistWalk: could not build the result");
  return out;
}
