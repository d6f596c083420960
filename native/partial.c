/* --partial-dir and --delay-updates (rsync's partial_dir): a relative partial dir is one per
 * destination directory, made (0700) when a file goes into it and removed once empty; an absolute one
 * is the operator's (the CLI resolved it to hold no symlink), opened once and held. Nothing here
 * follows a symlink (DESIGN §3.2): the relative dir's parent is opened beneath the file's directory,
 * its leaf O_NOFOLLOW, and the names inside are single components. */
#include "partial.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h> /* renameat */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "batch.h"
#include "beneath.h"
#include "dest.h"
#include "errors.h"
#include "temp.h"

static bool pabs(const struct ctx *c)
{
  return c->ppath[0] == '/';
}

/* The partial dir's parent (beneath `dirfd` for a relative one) as a new fd, and its leaf's name;
 * -1 with errno set. */
static int pdir_parent(struct ctx *c, int dirfd, const char **leaf)
{
  char par[PATH_MAX];
  const char *slash = strrchr(c->ppath, '/');
  *leaf = slash ? slash + 1 : c->ppath;
  size_t n = slash ? (size_t)(slash - c->ppath) : 0;
  if (pabs(c) && n == 0)
    n = 1; /* "/leaf": the parent is the root directory */
  memcpy(par, c->ppath, n);
  par[n] = 0;
  if (pabs(c))
    return open_no_symlinks(par, O_PATH | O_DIRECTORY | O_CLOEXEC);
  int fd = beneath_open(dirfd, par, O_PATH | O_DIRECTORY, 0);
  if (fd < 0) {
    errno = -fd;
    return -1;
  }
  return fd;
}

/* The partial dir of `dirfd` as an fd (pdir_put it after use); `create`: made 0700 when missing, a
 * non-directory in its place removed first (rsync's handle_partial_dir). -1 with errno set. */
static int pdir_open(struct ctx *c, int dirfd, bool create)
{
  if (pabs(c) && c->pdirfd >= 0)
    return c->pdirfd;
  const char *leaf;
  int par = pdir_parent(c, dirfd, &leaf);
  if (par < 0)
    return -1;
  int fd = openat(par, leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && create && (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)) {
    if (errno == ENOENT || unlinkat(par, leaf, 0) == 0 || errno == ENOENT) {
      if (mkdirat(par, leaf, 0700) == 0 || errno == EEXIST)
        fd = openat(par, leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
  }
  int e = errno;
  close(par);
  if (fd >= 0 && pabs(c))
    c->pdirfd = fd;
  errno = e;
  return fd;
}

static void pdir_put(struct ctx *c, int fd)
{
  if (fd >= 0 && fd != c->pdirfd)
    close(fd);
}

/* A relative partial dir of `dirfd` removed if empty (rsync's PDIR_DELETE); best effort. */
static void pdir_remove_if_empty(struct ctx *c, int dirfd)
{
  if (pabs(c))
    return;
  const char *leaf;
  int par = pdir_parent(c, dirfd, &leaf);
  if (par < 0)
    return;
  (void)unlinkat(par, leaf, AT_REMOVEDIR); /* not there, not empty, not a directory: kept */
  close(par);
}

/* `name`'s partial file in the partial dir of `dirfd` used up: unlinked, and a relative partial dir
 * left empty removed; best effort (rsync does not report these). Only after a partial file went, as
 * rsync's PDIR_DELETE: an empty dir of that name is someone else's (or one the transfer itself made,
 * when the receiver's -M partial dir is not hidden from the sender). */
static void partial_consume(struct ctx *c, int dirfd, const char *name)
{
  int pfd = pdir_open(c, dirfd, false);
  if (pfd < 0)
    return;
  bool used = unlinkat(pfd, name, 0) == 0; /* not there (or a directory): nothing was kept for this name */
  pdir_put(c, pfd);
  if (used)
    pdir_remove_if_empty(c, dirfd);
}

int partial_finish(struct job *j, int tdir, const char *tmp, int dirfd, const char *name, mode_t mode)
{
  struct ctx *c = j->c;
  if (!c->ppath)
    return temp_place(j, tdir, tmp, dirfd, name, mode);
  if (!(c->flags & P_DELAY_UPDATES)) {
    int rc = temp_place(j, tdir, tmp, dirfd, name, mode);
    if (rc == OP_OK)
      partial_consume(c, dirfd, name);
    return rc;
  }
  int pfd = pdir_open(c, dirfd, true);
  if (pfd < 0)
    return job_fail(j, errno, "mkdir", W_DST);
  int rc = temp_place(j, tdir, tmp, pfd, name, mode);
  pdir_put(c, pfd);
  return rc;
}

bool partial_keep(struct job *j, int tdir, const char *tmp, int dirfd, const char *name)
{
  struct ctx *c = j->c;
  int pfd = pdir_open(c, dirfd, true);
  if (pfd < 0)
    return false;
  bool ok = renameat(tdir, tmp, pfd, name) == 0;
  pdir_put(c, pfd);
  return ok;
}

int partial_delayed(struct job *j)
{
  struct ctx *c = j->c;
  const struct op *op = j->op;
  char name[NAME_MAX + 1];
  struct parent *p;
  int rc = dest_parent(j, op->dst, op->dst_len, &p, name);
  if (rc != OP_OK)
    return rc;
  if (!c->ppath) {
    rc = job_fail(j, EINVAL, "rename", W_DST);
  } else {
    int pfd = pdir_open(c, p->fd, false);
    if (pfd < 0) {
      rc = job_fail(j, errno, "rename", W_DST);
    } else {
      if (renameat(pfd, name, p->fd, name) < 0)
        rc = job_fail(j, errno, "rename", W_DST);
      pdir_put(c, pfd);
      if (rc == OP_OK)
        pdir_remove_if_empty(c, p->fd);
    }
  }
  parent_put(c, p);
  return rc;
}

int partial_used(struct job *j)
{
  char name[NAME_MAX + 1];
  struct parent *p;
  int rc = dest_parent(j, j->op->dst, j->op->dst_len, &p, name);
  if (rc != OP_OK)
    return rc;
  if (j->c->ppath)
    partial_consume(j->c, p->fd, name);
  parent_put(j->c, p);
  return OP_OK;
}

void partial_release(struct ctx *c)
{
  if (c->pdirfd >= 0)
    close(c->pdirfd);
  c->pdirfd = -1;
  free(c->ppath);
  c->ppath = NULL;
}
