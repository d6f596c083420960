/* --backup (rsync's backup.c, re-derived): the old version of a destination entry is kept under its
 * backup name before the entry is replaced or deleted, and when that cannot be done the entry is
 * left alone (DESIGN.md §3.7). The backup directory is resolved once per context to a held fd;
 * everything below it is created and opened one component at a time without following symlinks,
 * and inside the destination the directory itself is resolved the same way. A rename or hard link
 * that crosses filesystems (EXDEV) becomes a copy; an empty directory standing at the backup name
 * is removed first (a non-empty one is never removed: the backup fails). */
#include "backup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "beneath.h"
#include "dest.h"
#include "exec.h"
#include "ops.h"
#include "temp.h"

void backup_release(struct ctx *c)
{
  if (c->brootfd >= 0)
    close(c->brootfd);
  c->brootfd = -1;
  free(c->bpath);
  c->bpath = NULL;
}

/* Best effort, like rsync's: a backup directory without its twin's attributes is still usable. */
static void mirror_attrs(struct ctx *c, int dirfd, const char *name, const uint8_t *rel, uint32_t len)
{
  int twin = dest_open(c, rel, len, O_PATH | O_DIRECTORY);
  if (twin < 0)
    return;
  struct stat st;
  int fd = -1;
  if (fstat(twin, &st) == 0 && (fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) >= 0) {
    (void)fchown(fd, c->is_root ? st.st_uid : (uid_t)-1, st.st_gid);
    (void)fchmod(fd, (st.st_mode & 07777) | S_IRWXU);
    close(fd);
  }
  close(twin);
}

/* Opens `path` one component at a time from `start`, making missing directories. `confined`: a
 * component is never a symlink or "..", and with `replace` a non-directory in the way is removed and
 * replaced by a directory (rsync does the same in the backup area; without `replace` it fails the
 * backup); not confined (the operator's own path outside the destination), existing components are
 * opened as the kernel resolves them. With `mirror`, a directory made here gets the owner and mode of
 * the destination directory at the same relative path (as rsync gives backup directories; a private
 * directory's backups stay private), kept owner-writable so the backups can be made in it. An fd, or
 * -errno with *sys set. */
static int open_dirs(struct ctx *mirror, int start, const char *path, bool confined, bool replace, const char **sys)
{
  char buf[PATH_MAX];
  size_t n = strlen(path);
  if (n >= sizeof buf) {
    *sys = "open";
    return -ENAMETOOLONG;
  }
  memcpy(buf, path, n + 1);
  int cur = path[0] == '/' ? open("/", O_PATH | O_DIRECTORY | O_CLOEXEC) : dup(start);
  if (cur < 0) {
    *sys = "open";
    return -errno;
  }
  int fl = O_PATH | O_DIRECTORY | O_CLOEXEC | (confined ? O_NOFOLLOW : 0);
  char *save = NULL;
  for (char *comp = strtok_r(buf, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
    if (strcmp(comp, ".") == 0)
      continue;
    if (confined && strcmp(comp, "..") == 0) {
      close(cur);
      *sys = "open";
      return -EXDEV;
    }
    int fd = openat(cur, comp, fl);
    for (int tries = 0; fd < 0 && tries < 3; tries++) {
      int e = errno;
      struct stat st;
      if (e == ENOTDIR && confined && fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode)) {
        /* A file or a planted symlink where a backup directory belongs: never followed. */
        if (!replace) {
          errno = S_ISLNK(st.st_mode) ? ELOOP : ENOTDIR;
          *sys = "open";
          goto fail;
        }
        if (unlinkat(cur, comp, 0) < 0 && errno != ENOENT) {
          *sys = "unlink";
          goto fail;
        }
      } else if (e != ENOENT) {
        errno = e;
        *sys = "open";
        goto fail;
      }
      if (mkdirat(cur, comp, 0777) == 0) {
        if (mirror)
          mirror_attrs(mirror, cur, comp, (const uint8_t *)path, (uint32_t)(comp - buf + strlen(comp)));
      } else if (errno != EEXIST) {
        *sys = "mkdir";
        goto fail;
      }
      fd = openat(cur, comp, fl);
    }
    if (fd < 0) {
      *sys = "open";
      goto fail;
    }
    close(cur);
    cur = fd;
  }
  return cur;
fail:;
  int e = errno;
  close(cur);
  return -e;
}

/* The held backup directory, opened (and made) on the first backup. Without --backup-dir the
 * backups live beside the files: the destination root. */
static int backup_root(struct job *j)
{
  struct ctx *c = j->c;
  if (!c->bpath)
    return c->rootfd;
  if (c->brootfd >= 0)
    return c->brootfd;
  const char *sys = "open";
  int fd;
  if (c->blen > c->rootlen + 1 && memcmp(c->bpath, c->rootpath, c->rootlen) == 0 && c->bpath[c->rootlen] == '/')
    fd = open_dirs(NULL, c->rootfd, (const char *)c->bpath + c->rootlen + 1, true, false, &sys);
  else
    fd = open_dirs(NULL, AT_FDCWD, (const char *)c->bpath, false, false, &sys);
  if (fd < 0)
    return job_fail(j, -fd, sys, W_DST_SRC), -1;
  c->brootfd = fd;
  return fd;
}

/* Full write of n bytes (a short write is continued; only an error stops it). */
static int write_all(int fd, const uint8_t *p, size_t n)
{
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0)
      return -errno;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static int clear_name(struct job *j, int to, const char *bname);
static bool in_the_way(int e);

/* Owner, mode and times of the entry being backed up, on the copy (by name: it is our temp). */
static void copy_attrs(struct ctx *c, int dirfd, const char *tmp, const struct stat *st, bool link)
{
  int nf = AT_SYMLINK_NOFOLLOW;
  /* As non-root only the group can change (to one of ours): the backup is still a backup without. */
  (void)fchownat(dirfd, tmp, c->is_root ? st->st_uid : (uid_t)-1, st->st_gid, nf);
  if (!link)
    (void)fchmodat(dirfd, tmp, st->st_mode & 07777, 0);
  struct timespec ts[2] = {st->st_atim, st->st_mtim};
  (void)utimensat(dirfd, tmp, ts, nf);
}

/* A copy of the entry `name` in `from` as `bname` in `to` (across filesystems), through a temp
 * name, so a partial copy never stands under the backup name. */
static int copy_entry(struct job *j, int from, const char *name, const struct stat *st, int to, const char *bname)
{
  struct ctx *c = j->c;
  char tmp[NAME_MAX + 1];
  int in = -1, out = -1, rc = OP_OK;
  bool made = false;
  mode_t type = st->st_mode & S_IFMT;
  if (type == S_IFREG) {
    in = openat(from, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    struct stat now;
    if (in < 0)
      return job_fail(j, errno, "open", W_DST);
    if (fstat(in, &now) < 0 || !S_ISREG(now.st_mode) || now.st_ino != st->st_ino || now.st_dev != st->st_dev) {
      close(in);
      return job_fail(j, ESTALE, "fstat", W_DST);
    }
  }
  int r;
  if (type == S_IFREG) {
    r = out = temp_open(c, to, bname, tmp);
  } else if (type == S_IFLNK) {
    char target[PATH_MAX];
    ssize_t n = readlinkat(from, name, target, sizeof target);
    if (n < 0 || (size_t)n >= sizeof target)
      return job_fail(j, n < 0 ? errno : ENAMETOOLONG, "readlink", W_DST);
    target[n] = 0;
    r = temp_symlink(c, to, bname, tmp, target);
  } else {
    r = temp_mknod(c, to, bname, tmp, type, st->st_rdev);
  }
  if (r < 0) {
    rc = job_fail(j, errno, type == S_IFREG ? "open" : type == S_IFLNK ? "symlink" : "mknod", W_DST_SRC);
    goto done;
  }
  made = true;
  if (type == S_IFREG) {
    for (;;) {
      if (aborted(c)) {
        rc = OP_ABORT;
        goto done;
      }
      ssize_t n = read(in, c->iobuf, c->bufsize);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0) {
        rc = job_fail(j, errno, "read", W_DST);
        goto done;
      }
      if (n == 0)
        break;
      int e = write_all(out, c->iobuf, (size_t)n);
      if (e) {
        rc = job_fail(j, -e, "write", W_DST_SRC);
        goto done;
      }
    }
    rc = temp_close(j, out, W_DST_SRC);
    out = -1;
    if (rc != OP_OK)
      goto done;
  }
  copy_attrs(c, to, tmp, st, type == S_IFLNK);
  r = renameat(to, tmp, to, bname);
  if (r < 0 && in_the_way(errno)) {
    rc = clear_name(j, to, bname);
    if (rc != OP_OK)
      goto done;
    r = renameat(to, tmp, to, bname);
  }
  if (r < 0)
    rc = job_fail(j, errno, "rename", W_DST_SRC);
  else
    made = false;
done:
  if (out >= 0)
    close(out);
  if (in >= 0)
    close(in);
  if (made)
    unlinkat(to, tmp, 0);
  return rc;
}

/* Something at the backup name that a link or rename cannot replace: an empty directory is
 * removed (rsync does so), so is a non-directory before a hard link; anything else fails. */
static int clear_name(struct job *j, int to, const char *bname)
{
  struct stat st;
  if (fstatat(to, bname, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? OP_OK : job_fail(j, errno, "lstat", W_DST_SRC);
  if (unlinkat(to, bname, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) < 0 && errno != ENOENT)
    return job_fail(j, errno, S_ISDIR(st.st_mode) ? "rmdir" : "unlink", W_DST_SRC);
  return OP_OK;
}

static bool in_the_way(int e)
{
  return e == EEXIST || e == EISDIR || e == ENOTEMPTY;
}

/* Keep: the entry stays where it is and the backup is a hard link to it (a copy when linking is not
 * possible), so the destination is never without the file. Otherwise the entry is moved (copied,
 * then unlinked, across filesystems). */
static int make_backup(struct job *j, int from, const char *name, const struct stat *st, int to, const char *bname)
{
  /* A backup name that is the entry itself (an empty --suffix with the destination as --backup-dir,
   * however it was spelled): clearing the name in the way would delete the file it should keep. */
  struct stat fd_st, td_st;
  if (strcmp(name, bname) == 0 && fstat(from, &fd_st) == 0 && fstat(to, &td_st) == 0 &&
      fd_st.st_ino == td_st.st_ino && fd_st.st_dev == td_st.st_dev)
    return job_fail(j, EINVAL, "rename", W_DST_SRC);
  bool keep = (j->op->flags & OF_BACKUP_KEEP) != 0;
  /* --inplace writes into the kept file itself: its backup is a copy, never a link to the same inode. */
  if (keep && (j->c->flags & P_INPLACE) && S_ISREG(st->st_mode))
    return copy_entry(j, from, name, st, to, bname);
  int r = keep ? linkat(from, name, to, bname, 0) : renameat(from, name, to, bname);
  /* A deletion's backup inside a read-only directory of ours whose contents go (ops.h parent_open_up). */
  if (r < 0 && errno == EACCES && !keep && !j->c->is_root && (j->op->flags & OF_OWNER_WRITE) && parent_open_up(from))
    r = renameat(from, name, to, bname);
  if (r < 0 && in_the_way(errno)) {
    int rc = clear_name(j, to, bname);
    if (rc != OP_OK)
      return rc;
    r = keep ? linkat(from, name, to, bname, 0) : renameat(from, name, to, bname);
  }
  if (r == 0) {
    if (!keep && st->st_nlink > 1) {
      /* rename() between two links of one inode succeeds and does nothing: finish the move. */
      struct stat now;
      if (fstatat(from, name, &now, AT_SYMLINK_NOFOLLOW) == 0 && now.st_ino == st->st_ino && now.st_dev == st->st_dev)
        unlinkat(from, name, 0);
    }
    return OP_OK;
  }
  int e = errno;
  /* Keep falls back to a copy on any link failure (other filesystem, no hard links there, link
   * limits, protected_hardlinks); a move only when it would cross filesystems. */
  if (!keep && e != EXDEV)
    return job_fail(j, e, "rename", W_DST_SRC);
  int rc = copy_entry(j, from, name, st, to, bname);
  if (rc != OP_OK)
    return rc;
  if (!keep && unlinkat(from, name, 0) < 0 && errno != ENOENT)
    return job_fail(j, errno, "unlink", W_DST);
  return OP_OK;
}

static int backup_inner(struct job *j)
{
  struct ctx *c = j->c;
  const struct op *op = j->op;
  if (op->dst_len == 0)
    return job_fail(j, EINVAL, "rename", W_DST);
  char name[NAME_MAX + 1], bname[NAME_MAX + 1];
  struct parent *p;
  int rc = dest_parent(j, op->dst, op->dst_len, &p, name);
  if (rc != OP_OK)
    return rc;
  int bdir = -1;
  struct stat st;
  /* Before the entry is looked at, so that a copy across filesystems has the mode rsync's has. */
  if ((op->flags & (OF_DELETION_BACKUP | OF_BACKUP_KEEP)) == OF_DELETION_BACKUP)
    owner_write_first(c, op, p->fd, name);
  if (fstatat(p->fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
    if (errno != ENOENT)
      rc = job_fail(j, errno, "lstat", W_DST);
    goto done; /* nothing to back up */
  }
  if (S_ISDIR(st.st_mode)) {
    rc = job_fail(j, EISDIR, "rename", W_DST_SRC); /* the planner never backs up directories */
    goto done;
  }
  /* op->src is absolute, for messages; what counts is its part below the backup directory. */
  const uint8_t *base = c->bpath ? c->bpath : c->rootpath;
  size_t blen = c->bpath ? c->blen : c->rootlen;
  if (op->src_len <= blen + 1 || memcmp(op->src, base, blen) != 0 || op->src[blen] != '/') {
    rc = job_fail(j, EXDEV, "rename", W_DST_SRC);
    goto done;
  }
  const uint8_t *rel = op->src + blen + 1;
  uint32_t rlen = op->src_len - (uint32_t)blen - 1;
  const uint8_t *slash = memrchr(rel, '/', rlen);
  uint32_t dlen = slash ? (uint32_t)(slash - rel) : 0;
  const uint8_t *nm = slash ? slash + 1 : rel;
  uint32_t nlen = rlen - (uint32_t)(nm - rel);
  char dir[PATH_MAX];
  int e = zpath(nm, nlen, bname, sizeof bname);
  /* Beside the file (no --backup-dir) the directory is the one already resolved, at any depth;
   * only a path below the backup dir is spelled out, and it must fit in PATH_MAX. */
  if (!e && c->bpath)
    e = zpath(rel, dlen, dir, sizeof dir);
  if (e || nlen == 0 || strcmp(bname, ".") == 0 || strcmp(bname, "..") == 0) {
    rc = job_fail(j, e ? e : EINVAL, "rename", W_DST_SRC);
    goto done;
  }
  const char *sys = "open";
  if (!c->bpath) {
    /* Beside the file: its backup name is in the directory already resolved (-K links included). */
    const uint8_t *ds = memrchr(op->dst, '/', op->dst_len);
    uint32_t ddlen = ds ? (uint32_t)(ds - op->dst) : 0;
    if (ddlen != dlen || memcmp(op->dst, rel, dlen) != 0) {
      rc = job_fail(j, EINVAL, "rename", W_DST_SRC);
      goto done;
    }
    bdir = dup(p->fd);
    bdir = bdir < 0 ? -errno : bdir;
  } else {
    int root = backup_root(j);
    if (root < 0) {
      rc = OP_FAIL;
      goto done;
    }
    bdir = open_dirs(c, root, dlen ? dir : ".", true, true, &sys);
  }
  if (bdir < 0) {
    rc = job_fail(j, -bdir, sys, W_DST_SRC);
    goto done;
  }
  rc = make_backup(j, p->fd, name, &st, bdir, bname);
done:
  if (bdir >= 0)
    close(bdir);
  parent_put(c, p);
  return rc;
}

int backup_op(struct job *j)
{
  int rc = backup_inner(j);
  /* An aborted backup counts as failed too: nothing may replace the entry after it. */
  j->c->backup_errno = rc == OP_OK ? 0 : rc == OP_FAIL ? j->err.no : EINTR;
  return rc;
}

bool backup_gate(struct ctx *c, const struct op *op)
{
  if (!(op->flags & OF_AFTER_BACKUP) || c->backup_errno == 0)
    return true;
  struct job j = {.c = c, .op = op};
  job_fail(&j, c->backup_errno, "backup", W_DST);
  exec_finish(&j, OP_FAIL);
  return false;
}
