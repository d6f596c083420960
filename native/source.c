/* Source-side path resolution. A source path is an anchor (an operand, or a symlink the run chose to
 * follow: resolved like any path the user typed) followed by the names the walk found beneath it,
 * which are resolved beneath the anchor without following any symlink (openat2 RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS, or one O_NOFOLLOW component at a time). A directory swapped for a symlink
 * after the walk listed it then fails with ELOOP instead of leading a read out of the source tree;
 * the last component is opened by the caller, O_NOFOLLOW unless the op follows it on purpose. */
#include "source.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "longpath.h"
#include "ops.h"

/* Where a source path splits: anchor [0, alen), parent [pstart, pend), name [nstart, nend). */
struct split {
  uint32_t alen, pstart, pend, nstart, nend;
  bool whole; /* nothing beneath the anchor: the path is the anchor itself */
};

static void split_path(const uint8_t *s, uint32_t len, uint32_t alen, struct split *sp)
{
  uint32_t end = len;
  while (end > 1 && s[end - 1] == '/')
    end--;
  /* An anchor must end at a component boundary; anything else is treated as none given. */
  if (alen > len || (alen > 0 && alen < len && s[alen] != '/' && s[alen - 1] != '/'))
    alen = 0;
  if (alen == 0) {
    /* No anchor given: the path's own directory, so only the last component is checked. */
    const uint8_t *slash = end ? memrchr(s, '/', end) : NULL;
    alen = slash ? (slash == s ? 1 : (uint32_t)(slash - s)) : 0;
  }
  uint32_t r = alen;
  while (r < end && s[r] == '/')
    r++;
  sp->alen = alen;
  sp->whole = r >= end;
  const uint8_t *last = r < end ? memrchr(s + r, '/', end - r) : NULL;
  sp->pstart = r;
  sp->pend = last ? (uint32_t)(last - s) : r;
  sp->nstart = last ? sp->pend + 1 : r;
  sp->nend = end;
}

static bool is_dotdot(const char *c)
{
  return c[0] == '.' && c[1] == '.' && c[2] == 0;
}

int src_open_beneath(int at, const char *rest, int flags)
{
  static _Atomic int no_openat2;
  if (!*rest)
    rest = ".";
  if (!no_openat2) {
    struct open_how how = {
      .flags = (uint64_t)(flags | O_CLOEXEC),
      .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
    };
    long fd = syscall(SYS_openat2, at, rest, &how, sizeof how);
    if (fd >= 0)
      return (int)fd;
    if (errno != ENOSYS && errno != EPERM)
      return -errno;
    no_openat2 = 1;
  }
  char buf[PATH_MAX];
  size_t n = strlen(rest);
  if (n >= sizeof buf)
    return -ENAMETOOLONG;
  memcpy(buf, rest, n + 1);
  int cur = at;
  char *save = NULL;
  for (char *comp = strtok_r(buf, "/", &save); comp;) {
    char *next = strtok_r(NULL, "/", &save);
    int fd = is_dotdot(comp) ? (errno = EXDEV, -1)
                             : openat(cur, comp, (next ? O_PATH | O_DIRECTORY : flags) | O_NOFOLLOW | O_CLOEXEC);
    int e = errno;
    if (cur != at)
      close(cur);
    if (fd < 0)
      return -e;
    cur = fd;
    comp = next;
  }
  return cur == at ? openat(at, ".", flags | O_CLOEXEC) : cur;
}

/* lp_split's chunk opener for the part beneath the anchor: src_open_beneath's rules per chunk. */
static int open_chunk_beneath(void *arg, int dirfd, const char *chunk)
{
  (void)arg;
  return src_open_beneath(dirfd, chunk, O_PATH | O_DIRECTORY);
}

int src_open_beneath_path(int at, const uint8_t *rest, uint32_t len, int flags)
{
  struct lp_at l;
  int e = lp_split(at, rest, len, PATH_MAX, open_chunk_beneath, NULL, &l);
  if (e)
    return -e;
  int fd = src_open_beneath(l.dirfd, l.rest, flags);
  lp_release(&l);
  return fd;
}

/* The anchor (followed: it is the operator's path), then `parent` beneath it; either may be longer
 * than PATH_MAX (longpath.h: opened a chunk at a time, each chunk with the same rules). An fd or
 * -errno. */
static int open_under_anchor(const uint8_t *s, const struct split *sp, int flags)
{
  struct lp_at at;
  int a, e = 0;
  if (sp->alen) {
    e = lp_source(s, sp->alen, PATH_MAX, &at);
    if (e)
      return -e;
    a = openat(at.dirfd, at.rest, O_PATH | O_DIRECTORY | O_CLOEXEC);
    e = errno;
    lp_release(&at);
  } else {
    a = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    e = errno;
  }
  if (a < 0)
    return -e;
  int fd = src_open_beneath_path(a, s + sp->pstart, sp->pend - sp->pstart, flags);
  close(a);
  return fd;
}

/* A symlink or an escape where the walk saw a directory: the tree changed under us. */
static int changed_errno(int e)
{
  return e == ELOOP || e == EXDEV ? ESTALE : e;
}

int src_open_dir(const uint8_t *src, uint32_t len, uint32_t alen)
{
  struct split sp;
  split_path(src, len, alen, &sp);
  if (sp.whole) {
    /* The anchor itself, as open(2) takes it (through its directory chain beyond PATH_MAX). */
    struct lp_at at;
    int e = lp_source(src, len, PATH_MAX, &at);
    if (e)
      return -e;
    int fd = openat(at.dirfd, at.rest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    e = errno;
    lp_release(&at);
    return fd < 0 ? -e : fd;
  }
  struct split dir = sp; /* the directory itself is the "parent" to open */
  dir.pend = sp.nend;
  return open_under_anchor(src, &dir, O_RDONLY | O_DIRECTORY);
}

void src_drop_cache(struct ctx *c)
{
  struct parent *p = c->srccache;
  c->srccache = NULL;
  ops_parent_put(c, p);
}

int src_resolve_parent(struct job *j, struct parent **out, char name[NAME_MAX + 1])
{
  struct ctx *c = j->c;
  const struct op *op = j->op;
  *out = NULL;
  struct split sp;
  split_path(op->src, op->src_len, op->anchor, &sp);
  if (sp.whole)
    return OP_OK;
  int e = ops_zpath(op->src + sp.nstart, sp.nend - sp.nstart, name, NAME_MAX + 1);
  if (e)
    return job_fail(j, e, "open", W_SRC);
  if (is_dotdot(name) || (name[0] == '.' && name[1] == 0))
    return job_fail(j, ESTALE, "fstat", W_SRC);
  struct parent *p = c->srccache;
  if (p && p->anchor == sp.alen && p->len == sp.pend && memcmp(p->path, op->src, sp.pend) == 0) {
    p->refs++;
    *out = p;
    return OP_OK;
  }
  p = malloc(sizeof *p + sp.pend);
  if (!p)
    return job_fail(j, ENOMEM, "open", W_SRC);
  int fd = open_under_anchor(op->src, &sp, O_PATH | O_DIRECTORY);
  if (fd < 0) {
    free(p);
    return job_fail(j, changed_errno(-fd), changed_errno(-fd) == ESTALE ? "fstat" : "open", W_SRC);
  }
  p->fd = fd;
  p->refs = 2; /* the cache's and the caller's */
  p->borrowed = false;
  p->anchor = sp.alen;
  p->len = sp.pend;
  memcpy(p->path, op->src, sp.pend);
  src_drop_cache(c);
  c->srccache = p;
  *out = p;
  return OP_OK;
}
