/* listCurrent(root, names, ends, meta, links, linkEnds, q) -> 1 or 0: whether a pull's destination
 * already is what its received list describes (the judgement of src/cli/pull-current.ts currentDest,
 * which calls this where the addon is used and keeps its own TypeScript loop otherwise;
 * test/contract/pull-current.test.ts holds the two to the same verdicts). Every entry is looked up
 * beneath `root` through the held descriptors of its directories, each opened from its parent with
 * O_NOFOLLOW (a symlink planted in the destination is never followed), and judged by the quick
 * check's C twin (quickcheck.c) with the list's metadata as the source's; with -H each group's names
 * must be one inode; with --delete (q[3]) each listed directory must hold no name the list lacks
 * (counted: every listed child was found there, and names in a list are unique). Anything else (a
 * device, a FIFO, an entry whose directory the list did not send, an error) answers 0: the pull goes
 * the whole way, which decides everything again.
 *
 * The list comes in rsync's sorted order, in which a directory's contents follow it directly, so the
 * walk holds one chain of open directories, as the list descends and climbs. Measured: the same
 * verdict in TypeScript took ~0.3-0.4 s of a no-op pull of the Linux tree (docs/benchmarks.md,
 * "A no-op pull judged in C"). */
#include "listcurrent.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "args.h"
#include "errors.h"
#include "listing.h"
#include "quickcheck.h"

/* Per entry in `meta`: mode, uid, gid, size, mtime seconds, mtime nanoseconds, -H group (-1: none). */
enum { LC_FIELDS = 7 };

/* One directory of the chain: its name's length in the list's name (0 for the root), its fd, and how
 * many entries the list put in it. */
struct level {
  uint32_t len;
  int fd;
  uint32_t children;
  const uint8_t *name;
};

/* Names in the directory open at fd, but "." and ".."; -1 on an error. */
static long count_names(int fd)
{
  int dup_fd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dup_fd < 0)
    return -1;
  DIR *d = fdopendir(dup_fd);
  if (!d) {
    close(dup_fd);
    return -1;
  }
  long n = 0;
  struct dirent *de;
  errno = 0;
  while ((de = readdir(d)) != NULL) {
    const char *s = de->d_name;
    if (!(s[0] == '.' && (s[1] == 0 || (s[1] == '.' && s[2] == 0))))
      n++;
  }
  bool failed = errno != 0;
  closedir(d);
  return failed ? -1 : n;
}

struct walk {
  struct level *stack;
  size_t depth, cap;
  bool deleting;
};

/* Closes the deepest directory of the chain; false when --delete finds a name the list lacks there. */
static bool pop(struct walk *w)
{
  struct level *l = &w->stack[--w->depth];
  bool ok = true;
  if (w->deleting) {
    long there = count_names(l->fd);
    ok = there >= 0 && (uint32_t)there == l->children;
  }
  close(l->fd);
  return ok;
}

static bool push(struct walk *w, int fd, const uint8_t *name, uint32_t len)
{
  if (w->depth == w->cap) {
    size_t cap = w->cap ? w->cap * 2 : 32;
    struct level *s = realloc(w->stack, cap * sizeof *s);
    if (!s)
      return false;
    w->stack = s;
    w->cap = cap;
  }
  w->stack[w->depth++] = (struct level){.len = len, .fd = fd, .children = 0, .name = name};
  return true;
}

/* The chain's deepest directory is the list's directory `dir` (its name `dlen` bytes; 0: the root). */
static bool at_dir(const struct walk *w, const uint8_t *dir, uint32_t dlen)
{
  const struct level *top = &w->stack[w->depth - 1];
  return top->len == dlen && (dlen == 0 || memcmp(top->name, dir, dlen) == 0);
}

static void source_stat(const double *m, uint32_t link_len, struct statx *s)
{
  memset(s, 0, sizeof *s);
  s->stx_mode = (uint16_t)m[0];
  s->stx_uid = (uint32_t)m[1];
  s->stx_gid = (uint32_t)m[2];
  s->stx_size = S_ISLNK((mode_t)m[0]) ? link_len : (uint64_t)m[3];
  s->stx_mtime.tv_sec = (int64_t)m[4];
  s->stx_mtime.tv_nsec = (uint32_t)m[5];
  s->stx_nlink = 1;
}

/* The verdict over the whole list (see the file's comment). */
static bool judge(struct walk *w, int rootfd, const uint8_t *names, const uint32_t *ends, size_t n, const double *meta,
                  const uint8_t *links, const uint32_t *lends, const struct quick *q)
{
  double *first = NULL; /* -H: per group, dev and ino of the first member found */
  if (n > 0 && !(first = malloc(n * 2 * sizeof *first)))
    return false;
  for (size_t i = 0; i < n * 2; i++)
    first[i] = -1;
  bool ok = push(w, rootfd, NULL, 0);
  uint32_t start = 0;
  for (size_t i = 0; ok && i < n; start = ends[i++]) {
    const uint8_t *name = names + start;
    uint32_t len = ends[i] - start;
    const double *m = meta + i * LC_FIELDS;
    mode_t mode = (mode_t)m[0];
    if (!(S_ISDIR(mode) || S_ISREG(mode) || S_ISLNK(mode)) || len == 0 || len >= PATH_MAX) {
      ok = false;
      break;
    }
    bool is_root = len == 1 && name[0] == '.';
    /* The entry's directory and last name. */
    uint32_t slash = len;
    while (slash > 0 && name[slash - 1] != '/')
      slash--;
    uint32_t dlen = slash ? slash - 1 : 0;
    char base[NAME_MAX + 1];
    uint32_t blen = len - slash;
    if (is_root) {
      if (i != 0) {
        ok = false;
        break;
      }
    } else {
      if (blen == 0 || blen > NAME_MAX) {
        ok = false;
        break;
      }
      memcpy(base, name + slash, blen);
      base[blen] = 0;
      /* Climb to the entry's directory: it must be one the list sent, which is open in the chain. */
      while (w->depth > 1 && !at_dir(w, name, dlen))
        if (!pop(w))
          ok = false;
      if (!ok || !at_dir(w, name, dlen)) {
        ok = false;
        break;
      }
      w->stack[w->depth - 1].children++;
    }
    int dfd = w->stack[w->depth - 1].fd;
    struct statx d, s;
    if (syscall(SYS_statx, dfd, is_root ? "" : base, AT_SYMLINK_NOFOLLOW | (is_root ? AT_EMPTY_PATH : 0),
                STATX_BASIC_STATS, &d) != 0 ||
        (d.stx_mode & S_IFMT) != (mode & S_IFMT)) {
      ok = false;
      break;
    }
    uint32_t lstart = i ? lends[i - 1] : 0;
    source_stat(m, lends[i] - lstart, &s);
    if (S_ISDIR(mode)) {
      ok = quick_same_dir(q, &s, &d);
      if (ok && !is_root) {
        int sub = openat(dfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        ok = sub >= 0 && push(w, sub, name, len);
        if (!ok && sub >= 0)
          close(sub);
      }
    } else {
      struct target t = {.bytes = (const char *)links + lstart, .len = lends[i] - lstart};
      ok = quick_unchanged_to(q, &s, &d, -1, base, S_ISLNK(mode) ? &t : NULL, dfd);
    }
    double g = m[6];
    if (ok && g >= 0) {
      if (g >= (double)n) {
        ok = false;
      } else if (first[(size_t)g * 2] < 0) {
        first[(size_t)g * 2] = (double)((d.stx_dev_major << 20) | d.stx_dev_minor);
        first[(size_t)g * 2 + 1] = (double)d.stx_ino;
      } else {
        ok = first[(size_t)g * 2] == (double)((d.stx_dev_major << 20) | d.stx_dev_minor) && first[(size_t)g * 2 + 1] == (double)d.stx_ino;
      }
    }
  }
  /* The rest of the chain, but the root, whose fd is the caller's; its names are counted last, when the
   * list sent it (".": the `src/` form; otherwise nothing in it is the list's to delete). */
  while (w->depth > 1)
    if (!pop(w))
      ok = false;
  bool root_listed = n > 0 && ends[0] == 1 && names[0] == '.';
  if (ok && w->deleting && root_listed) {
    long there = count_names(rootfd);
    ok = there >= 0 && (uint32_t)there == w->stack[0].children;
  }
  w->depth = 0;
  free(first);
  return ok;
}

napi_value list_current(napi_env env, napi_callback_info info)
{
  ARGS(7);
  const uint8_t *root, *names, *links;
  uint32_t rlen, nlen, llen;
  void *ends_p, *meta_p, *lends_p;
  size_t n_ends, n_meta, n_lends;
  napi_typedarray_type te, tm, tl;
  const char *usage = "listCurrent(root, names, ends, meta, links, linkEnds, q): bad arguments";
  if (!arg_path(env, argv[0], &root, &rlen))
    return NULL;
  if (!arg_buffer(env, argv[1], &names, &nlen) || !arg_buffer(env, argv[4], &links, &llen) ||
      napi_get_typedarray_info(env, argv[2], &te, &n_ends, &ends_p, NULL, NULL) != napi_ok || te != napi_uint32_array ||
      napi_get_typedarray_info(env, argv[3], &tm, &n_meta, &meta_p, NULL, NULL) != napi_ok || tm != napi_float64_array ||
      napi_get_typedarray_info(env, argv[5], &tl, &n_lends, &lends_p, NULL, NULL) != napi_ok || tl != napi_uint32_array ||
      n_meta != n_ends * LC_FIELDS || n_lends != n_ends || rlen >= PATH_MAX)
    return throw_type(env, usage);
  const double *qv = arg_f64(env, argv[6], 4);
  if (!qv)
    return throw_type(env, usage);
  const uint32_t *ends = ends_p, *lends = lends_p;
  /* The offsets must stay inside their buffers, in order: a bad one is a caller's bug, not a verdict. */
  for (size_t i = 0; i < n_ends; i++)
    if (ends[i] > nlen || (i && ends[i] < ends[i - 1]) || lends[i] > llen || (i && lends[i] < lends[i - 1]))
      return throw_type(env, usage);
  struct quick q = {.bits = (unsigned)qv[0], .window = qv[1], .res = qv[2]};
  char path[PATH_MAX];
  memcpy(path, root, rlen);
  path[rlen] = 0;
  bool ok = false;
  /* The root as the operator named it (followed as given, as every pull's destination is). */
  int rootfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (rootfd >= 0) {
    struct walk w = {.stack = NULL, .depth = 0, .cap = 0, .deleting = qv[3] != 0};
    ok = judge(&w, rootfd, names, ends, n_ends, meta_p, links, lends, &q);
    free(w.stack);
    close(rootfd);
  }
  napi_value out;
  if (napi_get_boolean(env, ok, &out) != napi_ok)
    return NULL;
  return out;
}
