/* Sources: resolution, opening, identity checks and --remove-source-files. A source path is an
 * anchor (an operand, or a symlink the run chose to follow: resolved like any path the user typed)
 * followed by the names the walk found beneath it, which are resolved beneath the anchor without
 * following any symlink (beneath.c: openat2 RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS, or one O_NOFOLLOW
 * component at a time). A directory swapped for a symlink after the walk listed it then fails with
 * ELOOP instead of leading a read out of the source tree; the last component is opened O_NOFOLLOW
 * unless the op follows it on purpose, and the open file is checked against what the walk saw. */
#include "source.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "beneath.h"
#include "dest.h"
#include "fstype.h"
#include "longpath.h"

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

/* s[0, n) as open(2) takes the operator's path (symlinks followed), through its directory chain when
 * it is longer than PATH_MAX (longpath.h). An fd or -errno. */
static int open_followed(const uint8_t *s, uint32_t n, int flags)
{
  struct lp_at at;
  int e = lp_source(s, n, PATH_MAX, &at);
  if (e)
    return -e;
  int fd = openat(at.dirfd, at.rest, flags | O_CLOEXEC);
  e = errno;
  lp_release(&at);
  return fd < 0 ? -e : fd;
}

/* The anchor (followed: it is the operator's path), then `parent` beneath it; either may be longer
 * than PATH_MAX (longpath.h: opened a chunk at a time, each chunk with the same rules). An fd or
 * -errno. */
static int open_under_anchor(const uint8_t *s, const struct split *sp, int flags)
{
  int a;
  if (sp->alen)
    a = open_followed(s, sp->alen, O_PATH | O_DIRECTORY);
  else if ((a = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
    a = -errno;
  if (a < 0)
    return a;
  int fd = beneath_open_path(a, s + sp->pstart, sp->pend - sp->pstart, flags, 0);
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
  if (sp.whole)
    return open_followed(src, len, O_RDONLY | O_DIRECTORY); /* the anchor itself */
  struct split dir = sp; /* the directory itself is the "parent" to open */
  dir.pend = sp.nend;
  return open_under_anchor(src, &dir, O_RDONLY | O_DIRECTORY);
}

void src_drop_cache(struct ctx *c)
{
  struct parent *p = c->srccache;
  c->srccache = NULL;
  parent_put(c, p);
}

void src_drop_anchor(struct ctx *c)
{
  struct parent *a = c->srcanchor;
  c->srcanchor = NULL;
  parent_put(c, a);
}

/* The anchor [0, alen) of `s` as an O_PATH directory, held by the context: ops in another directory of
 * the same operand (a re-sync's changed files are rarely neighbours) open only their parent beneath it,
 * not the operand again. An anchor is the operator's path, followed as given; holding it pins the
 * directory the run started in, as rsync's sender does once it has changed into it. Without an anchor
 * (alen 0: the current directory) nothing is held. An fd owned by the cache, or -errno. */
static int anchor_fd(struct ctx *c, const uint8_t *s, uint32_t alen)
{
  struct parent *a = c->srcanchor;
  if (a && a->len == alen && memcmp(a->path, s, alen) == 0)
    return a->fd;
  int fd = open_followed(s, alen, O_PATH | O_DIRECTORY);
  if (fd < 0)
    return fd;
  a = malloc(sizeof *a + alen);
  if (!a) {
    close(fd);
    return -ENOMEM;
  }
  *a = (struct parent){.fd = fd, .refs = 1, .anchor = alen, .len = alen};
  memcpy(a->path, s, alen);
  parent_put(c, c->srcanchor);
  c->srcanchor = a;
  return fd;
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
  int e = zpath(op->src + sp.nstart, sp.nend - sp.nstart, name, NAME_MAX + 1);
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
  int fd;
  if (sp.alen) {
    int a = anchor_fd(c, op->src, sp.alen);
    fd = a < 0 ? a : beneath_open_path(a, op->src + sp.pstart, sp.pend - sp.pstart, O_PATH | O_DIRECTORY, 0);
  } else {
    fd = open_under_anchor(op->src, &sp, O_PATH | O_DIRECTORY);
  }
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

int src_file_flags(const struct ctx *c, const struct op *op)
{
  /* -L: the walk already resolved the link; its fstat type must still be a regular file. */
  int follow = (op->flags & OF_FOLLOW_SOURCE) ? 0 : O_NOFOLLOW;
  return O_RDONLY | follow | O_CLOEXEC | O_NONBLOCK | (c->noatime ? O_NOATIME : 0);
}

static bool same_identity(const struct op *op, const struct stat *st)
{
  if (op->ino != 0 && (double)st->st_ino != op->ino)
    return false;
  if (op->dev != 0 && (double)st->st_dev != op->dev)
    return false;
  return true;
}

/* --remove-source-files unlinks only a source whose identity it can confirm: an op without the walk's
 * ino (0) has none to confirm, so its source is kept, as rsync's successful_send() keeps a file
 * its re-lstat does not match (same_identity() lets such an op be opened, not removed). */
static bool identity_confirmed(const struct op *op, const struct stat *st)
{
  return op->ino != 0 && (double)st->st_ino == op->ino && (double)st->st_dev == op->dev;
}

/* Whether a regular file opened O_NONBLOCK (so that a FIFO swapped in for it cannot block the open) reads
 * the same as without it here: through read(2), copy_file_range(2), splice and FICLONE, which is all the
 * sync engine reads a source with, on the local filesystems below O_NONBLOCK changes nothing for a regular
 * file (the kernel makes a read "would block" only for io_uring, whose engine clears it, and RWF_NOWAIT).
 * Elsewhere (FUSE, network filesystems: the server may honour it) it is cleared. One fstatfs per device
 * met, a one-entry cache as reflink.c's. */
static bool reads_alike_nonblocking(struct ctx *c, int fd, int flags, const struct stat *st)
{
  if (c->engine != ENGINE_SYNC || (flags & O_DIRECT))
    return false;
  if (!c->plainread_known || c->plainread_dev != st->st_dev) {
    struct statfs fs;
    c->plainread = fstatfs(fd, &fs) == 0 && fstype_plain_local((long)fs.f_type);
    c->plainread_known = true;
    c->plainread_dev = st->st_dev;
  }
  return c->plainread;
}

int src_check(struct job *j, int fd, int flags, mode_t type, struct stat *st)
{
  if (fstat(fd, st) < 0)
    return job_fail(j, errno, "fstat", W_SRC);
  bool type_ok = type == SRC_DEVICE ? S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode) : (st->st_mode & S_IFMT) == type;
  if (!type_ok || !same_identity(j->op, st))
    return job_fail(j, ESTALE, "fstat", W_SRC);
  if (type == S_IFREG && (flags & O_NONBLOCK) && !reads_alike_nonblocking(j->c, fd, flags, st) &&
      fcntl(fd, F_SETFL, flags & (O_NOATIME | O_DIRECT)) < 0)
    return job_fail(j, errno, "open", W_SRC);
  return OP_OK;
}

/* The op's source by name in its parent p (src_resolve_parent), or, when p is NULL (src is its
 * anchor: the operator's path or a link the run follows on purpose), the whole path as open(2) takes
 * it, through its directory chain when it is longer than PATH_MAX (longpath.h). A basis file
 * (OF_BASIS) is opened with no symlink followed at any component. Sets errno. */
static int open_source_at(struct job *j, struct parent *p, const char *name, int flags)
{
  if (p)
    return openat(p->fd, name, flags);
  struct lp_at at;
  int e = lp_source(j->op->src, j->op->src_len, PATH_MAX, &at);
  if (e) {
    errno = e;
    return -1;
  }
  int f;
  if (j->op->flags & OF_BASIS)
    f = at.owned ? (errno = ENAMETOOLONG, -1) : open_no_symlinks(at.rest, flags);
  else
    f = openat(at.dirfd, at.rest, flags);
  e = errno;
  lp_release(&at);
  errno = e;
  return f;
}

/* The op's source, beneath its anchor (source.c), with O_NOATIME while it still works (it is EPERM on
 * files we do not own), checked against what the walk saw. A basis file is opened whole (no anchor). */
int src_open(struct job *j, int flags, mode_t type, int *fd, struct stat *st)
{
  struct ctx *c = j->c;
  char name[NAME_MAX + 1];
  struct parent *p = NULL;
  if (!(j->op->flags & OF_BASIS)) {
    int rc = src_resolve_parent(j, &p, name);
    if (rc != OP_OK)
      return rc;
  }
  int f = open_source_at(j, p, name, flags);
  if (f < 0 && errno == EPERM && (flags & O_NOATIME)) {
    c->noatime = false;
    flags &= ~O_NOATIME;
    f = open_source_at(j, p, name, flags);
  }
  int oerr = errno;
  parent_put(c, p);
  errno = oerr;
  if (f < 0) {
    /* O_NOFOLLOW met a symlink where the walk saw something else: the entry changed. */
    if (errno == ELOOP)
      return job_fail(j, ESTALE, "fstat", W_SRC);
    return job_fail(j, errno, "open", W_SRC);
  }
  int rc = src_check(j, f, flags, type, st);
  if (rc != OP_OK) {
    close(f);
    return rc;
  }
  *fd = f;
  return OP_OK;
}

/* --remove-source-files: only a source that is still the file the walk saw is removed. A source the
 * run reached through a symlink it follows on purpose (OF_FOLLOW_SOURCE: -L) is confirmed through that
 * link, as rsync's sender re-stats it under -L, and the name is removed: the link, not what it leads to.
 * A source already gone fails with ENOENT: the caller decides whether that is worth a word (rsync's
 * "sender file already removed"; an op's own removal keeps it silent, exec.c). */
int src_remove(struct job *j)
{
  char name[NAME_MAX + 1];
  struct parent *p;
  /* Beneath the anchor like every source access: a swapped directory never redirects the unlink. */
  int rc = src_resolve_parent(j, &p, name);
  if (rc != OP_OK)
    return j->err.no == ESTALE ? OP_OK : rc; /* changed: kept, like a changed file */
  /* Without a parent, src is the anchor itself: the operator's path, used as given (through its
   * directory chain when longer than PATH_MAX). */
  struct lp_at whole = {.dirfd = AT_FDCWD, .owned = false};
  int e = p ? 0 : lp_source(j->op->src, j->op->src_len, PATH_MAX, &whole);
  if (e)
    return job_fail(j, e, "unlink", W_SRC);
  int dirfd = p ? p->fd : whole.dirfd;
  const char *at = p ? name : whole.rest;
  struct stat st;
  bool follow = j->op->flags & OF_FOLLOW_SOURCE;
  if (fstatat(dirfd, at, &st, follow ? 0 : AT_SYMLINK_NOFOLLOW) < 0)
    rc = job_fail(j, errno, follow ? "stat" : "lstat", W_SRC);
  else if (!S_ISDIR(st.st_mode) && identity_confirmed(j->op, &st) && unlinkat(dirfd, at, 0) < 0)
    rc = job_fail(j, errno, "unlink", W_SRC);
  lp_release(&whole);
  parent_put(j->c, p);
  return rc;
}
