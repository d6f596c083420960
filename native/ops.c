/* Batch execution with plain syscalls (the sync engine), plus the pieces every engine shares:
 * beneath-root resolution of destination parents, temp names, source identity checks and the
 * final rename. Safety rules (docs/native-contract.md): nothing is written in place, nothing on
 * the destination side follows a symlink, sources are opened O_NOFOLLOW and checked against
 * what the walk saw. */
#include "ops.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "backup.h"
#include "copy.h"
#include "longpath.h"
#include "meta.h"
#include "source.h"

int ops_zpath(const uint8_t *p, uint32_t n, char *out, size_t cap)
{
  if ((size_t)n >= cap)
    return ENAMETOOLONG;
  if (n && memchr(p, 0, n))
    return EINVAL;
  if (n)
    memcpy(out, p, n);
  out[n] = 0;
  return 0;
}

/* openat2 confines the whole walk; the fallback opens one component at a time with O_NOFOLLOW
 * and refuses "..", which gives the same guarantee on kernels before 5.6 or under seccomp. `dirfd`
 * is the root or a directory already resolved beneath it (a long path's chain, longpath.h).
 * Returns an fd or -errno. */
static int open_beneath(struct ctx *c, int dirfd, const char *path, int flags)
{
  if (!c->no_openat2) {
    /* -K: symlinks to directories may be followed, but still never out of the root. */
    bool k = (c->flags & P_KEEP_DIRLINKS) != 0;
    struct open_how how = {
      /* No O_NOFOLLOW: with it a trailing symlink would be opened as itself (ENOTDIR); without
       * it RESOLVE_NO_SYMLINKS refuses it with ELOOP, the error that names the problem. */
      .flags = (uint64_t)(flags | O_CLOEXEC),
      .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | (k ? 0 : RESOLVE_NO_SYMLINKS),
    };
    long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
    if (fd >= 0)
      return (int)fd;
    if (errno != ENOSYS && errno != EPERM)
      return -errno;
    c->no_openat2 = true;
  }
  if (path[0] == '/')
    return -EXDEV;
  char buf[PATH_MAX];
  size_t n = strlen(path);
  if (n >= sizeof buf)
    return -ENAMETOOLONG;
  memcpy(buf, path, n + 1);
  int cur = dirfd;
  char *save = NULL, *comp = strtok_r(buf, "/", &save);
  if (!comp)
    comp = ".";
  while (comp) {
    char *next = strtok_r(NULL, "/", &save);
    if (strcmp(comp, "..") == 0) {
      if (cur != dirfd)
        close(cur);
      return -EXDEV;
    }
    int fl = next ? O_PATH | O_DIRECTORY : flags;
    int fd = openat(cur, comp, fl | O_NOFOLLOW | O_CLOEXEC);
    int e = errno;
    if (cur != dirfd)
      close(cur);
    if (fd < 0)
      return -e;
    cur = fd;
    comp = next;
  }
  return cur;
}

/* One link of a long destination path's chain (longpath.h): a directory, beneath the last one. */
static int beneath_chunk(void *arg, int dirfd, const char *chunk)
{
  return open_beneath(arg, dirfd, chunk, O_PATH | O_DIRECTORY);
}

/* A destination-relative path of any length, opened beneath the root. An fd or -errno. */
static int open_dest_path(struct ctx *c, const uint8_t *rel, uint32_t len, int flags)
{
  struct lp_at at;
  int e = lp_split(c->rootfd, rel, len, PATH_MAX, beneath_chunk, c, &at);
  if (e)
    return -e;
  int fd = open_beneath(c, at.dirfd, at.rest, flags);
  lp_release(&at);
  return fd;
}

int ops_open_dest(struct ctx *c, const uint8_t *rel, uint32_t len, int flags)
{
  if (len == 0) {
    int fd = openat(c->rootfd, ".", flags | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
  }
  if (rel[0] == '/')
    return -EXDEV;
  return open_dest_path(c, rel, len, flags);
}

void ops_parent_put(struct ctx *c, struct parent *p)
{
  (void)c;
  if (!p || --p->refs > 0)
    return;
  if (!p->borrowed) {
    close(p->fd); /* an O_PATH fd: close cannot report anything we could act on */
    free(p);
  }
}

void ops_parent_drop_cache(struct ctx *c)
{
  struct parent *p = c->cache;
  c->cache = NULL;
  ops_parent_put(c, p);
  src_drop_cache(c);
}

static bool dot_name(const uint8_t *n, uint32_t len)
{
  return (len == 1 && n[0] == '.') || (len == 2 && n[0] == '.' && n[1] == '.');
}

int ops_resolve_parent(struct job *j, const uint8_t *path, uint32_t len, struct parent **out,
                       char name[NAME_MAX + 1])
{
  struct ctx *c = j->c;
  *out = NULL;
  if (len > 0 && path[0] == '/')
    return job_fail(j, EXDEV, "open", W_DST); /* same answer openat2 gives for escaping paths */
  const uint8_t *slash = len ? memrchr(path, '/', len) : NULL;
  uint32_t plen = slash ? (uint32_t)(slash - path) : 0;
  const uint8_t *nm = slash ? slash + 1 : path;
  uint32_t nlen = len - (uint32_t)(nm - path);
  if (nlen == 0 || dot_name(nm, nlen))
    return job_fail(j, EINVAL, "open", W_DST);
  int e = ops_zpath(nm, nlen, name, NAME_MAX + 1);
  if (e)
    return job_fail(j, e, "open", W_DST);
  if (plen == 0) {
    c->root->refs++;
    *out = c->root;
    return OP_OK;
  }
  struct parent *p = c->cache;
  if (p && p->len == plen && memcmp(p->path, path, plen) == 0) {
    p->refs++;
    *out = p;
    return OP_OK;
  }
  p = malloc(sizeof *p + plen);
  if (!p)
    return job_fail(j, ENOMEM, "open", W_DST);
  int fd = open_dest_path(c, path, plen, O_PATH | O_DIRECTORY);
  if (fd < 0) {
    free(p);
    return job_fail(j, -fd, "open", W_DST);
  }
  p->fd = fd;
  p->refs = 2; /* the cache's and the caller's */
  p->borrowed = false;
  p->len = plen;
  memcpy(p->path, path, plen);
  ops_parent_drop_cache(c);
  c->cache = p;
  *out = p;
  return OP_OK;
}

static const char temp_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

void ops_temp_name(struct ctx *c, const char *name, char out[NAME_MAX + 1])
{
  size_t n = strlen(name);
  if (n > NAME_MAX - 8)
    n = NAME_MAX - 8;
  out[0] = '.';
  memcpy(out + 1, name, n);
  out[1 + n] = '.';
  /* xorshift64*: unpredictability is not needed (O_EXCL makes collisions harmless), speed is. */
  uint64_t x = c->rng;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  c->rng = x;
  x *= 0x2545F4914F6CDD1DULL;
  for (int i = 0; i < 6; i++) {
    out[2 + n + i] = temp_chars[x % (sizeof temp_chars - 1)];
    x /= sizeof temp_chars - 1;
  }
  out[8 + n] = 0;
}

int ops_source_flags(const struct ctx *c, const struct op *op)
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

int ops_check_source(struct job *j, int fd, int flags, mode_t type, struct stat *st)
{
  if (fstat(fd, st) < 0)
    return job_fail(j, errno, "fstat", W_SRC);
  if ((st->st_mode & S_IFMT) != type || !same_identity(j->op, st))
    return job_fail(j, ESTALE, "fstat", W_SRC);
  if (type == S_IFREG && (flags & O_NONBLOCK) &&
      fcntl(fd, F_SETFL, flags & (O_NOATIME | O_DIRECT)) < 0)
    return job_fail(j, errno, "open", W_SRC);
  return OP_OK;
}

/* A path resolved beforehand to hold no symlink (the destination root, an OF_BASIS file), opened so
 * that none is followed at any component now either: a symlink swapped in since (into an old
 * snapshot, or over the destination) fails with ELOOP instead of leading elsewhere. openat2 where
 * it exists, else one O_NOFOLLOW component at a time (absolute paths only). Sets errno. */
int ops_open_no_symlinks(const char *path, int flags)
{
  /* O_NOFOLLOW only when the caller asks (to pin a symlink itself with O_PATH): without it a trailing
   * symlink fails with ELOOP, the error that names the problem, not ENOTDIR. */
  struct open_how how = {
    .flags = (uint64_t)(flags | O_CLOEXEC),
    .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
  };
  long fd = syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof how);
  if (fd >= 0 || (errno != ENOSYS && errno != EPERM))
    return (int)fd;
  if (path[0] != '/') {
    errno = EINVAL;
    return -1;
  }
  char buf[PATH_MAX];
  size_t n = strlen(path);
  if (n >= sizeof buf) {
    errno = ENAMETOOLONG;
    return -1;
  }
  memcpy(buf, path, n + 1);
  int cur = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  char *save = NULL, *comp = strtok_r(buf, "/", &save);
  while (cur >= 0 && comp) {
    char *next = strtok_r(NULL, "/", &save);
    int fd = openat(cur, comp, (next ? O_PATH | O_DIRECTORY : flags) | O_NOFOLLOW | O_CLOEXEC);
    int e = errno;
    close(cur);
    errno = e;
    cur = fd;
    comp = next;
  }
  return cur;
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
    f = at.owned ? (errno = ENAMETOOLONG, -1) : ops_open_no_symlinks(at.rest, flags);
  else
    f = openat(at.dirfd, at.rest, flags);
  e = errno;
  lp_release(&at);
  errno = e;
  return f;
}

/* The op's source, beneath its anchor (source.c), with O_NOATIME while it still works (it is EPERM on
 * files we do not own), checked against what the walk saw. A basis file is opened whole (no anchor). */
static int open_source(struct job *j, int flags, mode_t type, int *fd, struct stat *st)
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
  ops_parent_put(c, p);
  errno = oerr;
  if (f < 0) {
    /* O_NOFOLLOW met a symlink where the walk saw something else: the entry changed. */
    if (errno == ELOOP)
      return job_fail(j, ESTALE, "fstat", W_SRC);
    return job_fail(j, errno, "open", W_SRC);
  }
  int rc = ops_check_source(j, f, flags, type, st);
  if (rc != OP_OK) {
    close(f);
    return rc;
  }
  *fd = f;
  return OP_OK;
}

int ops_rename_over(struct job *j, int dirfd, const char *tmp, const char *name)
{
  if (renameat(dirfd, tmp, dirfd, name) == 0)
    return OP_OK;
  if (errno != EISDIR)
    return job_fail(j, errno, "rename", W_DST);
  if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0)
    return job_fail(j, errno, "rmdir", W_DST);
  if (renameat(dirfd, tmp, dirfd, name) < 0)
    return job_fail(j, errno, "rename", W_DST);
  return OP_OK;
}

/* Temp-name collisions are possible (a crashed run's leftovers); a fresh name is cheap. */
#define TEMP_TRIES 64

static ssize_t pread_full(int fd, uint8_t *buf, size_t n, uint64_t off)
{
  size_t got = 0;
  while (got < n) {
    ssize_t r = pread(fd, buf + got, n - got, (off_t)(off + got));
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      return -errno;
    if (r == 0)
      break;
    got += (size_t)r;
  }
  return (ssize_t)got;
}

/* -c: 1 when the target already holds exactly the source's bytes (then *tfd is the target, open
 * read-only for setting attributes), 0 when it does not (or cannot be read: copy then). */
static int same_content(struct job *j, int dirfd, const char *name, int in, const struct stat *st, int *tfd)
{
  struct ctx *c = j->c;
  int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    return 0;
  struct stat ts;
  if (fstat(fd, &ts) < 0 || !S_ISREG(ts.st_mode) || ts.st_size != st->st_size) {
    close(fd);
    return 0;
  }
  size_t half = c->bufsize / 2;
  uint8_t *a = c->iobuf, *b = c->iobuf + half;
  uint64_t size = (uint64_t)st->st_size;
  for (uint64_t off = 0; off < size;) {
    if (aborted(c)) {
      close(fd);
      return OP_ABORT;
    }
    size_t want = size - off < half ? (size_t)(size - off) : half;
    ssize_t n = pread_full(in, a, want, off);
    if (n < 0) {
      close(fd);
      return job_fail(j, (int)-n, "read", W_SRC);
    }
    if ((size_t)n != want || pread_full(fd, b, want, off) != n || memcmp(a, b, want) != 0) {
      close(fd);
      return 0;
    }
    off += want;
  }
  *tfd = fd;
  return 1;
}

/* Attributes of an existing regular file or directory, on an fd: what Attrs and -c's Equal do. */
/* Only what differs is set: an entry that is already right keeps its ctime (a second -c run, or
 * an Attrs op for one attribute, touches nothing else). */
static int attrs_fd(struct job *j, int srcfd, int fd, bool dir)
{
  struct ctx *c = j->c;
  const struct op *op = j->op;
  struct stat cur;
  bool have = fstat(fd, &cur) == 0;
  int rc = OP_OK;
  if (!have || cur.st_uid != (uid_t)op->uid || cur.st_gid != (gid_t)op->gid)
    rc = meta_owner_fd(j, fd);
  if (rc == OP_OK && (c->flags & P_PERMS) && (!have || (cur.st_mode & 07777) != (op->mode & 07777)))
    rc = meta_mode_fd(j, fd, op->mode & 07777);
  if (rc == OP_OK && srcfd >= 0)
    rc = meta_xattrs_sync_fd(j, srcfd, fd, dir);
  if (rc == OP_OK && !(dir && (c->flags & P_OMIT_DIR_TIMES)) &&
      (!have || (double)cur.st_mtim.tv_sec != op->mtime_sec ||
                      (uint32_t)cur.st_mtim.tv_nsec != op->mtime_nsec))
    rc = meta_times_fd(j, fd);
  return rc;
}

/* --inplace: the target itself is written (created when missing), then truncated and given its
 * metadata. Anything that is not a regular file is removed first, never opened for writing. */
static int file_inplace(struct job *j, struct parent *p, const char *name, int in, const struct stat *st)
{
  struct ctx *c = j->c;
  mode_t mode = meta_target_mode(j, p->fd, name);
  int out = -1, rc = OP_OK;
  struct stat ts;
  if (fstatat(p->fd, name, &ts, AT_SYMLINK_NOFOLLOW) == 0) {
    if (S_ISREG(ts.st_mode)) {
      out = openat(p->fd, name, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
      if (out < 0)
        return job_fail(j, errno, "open", W_DST);
      if (fstat(out, &ts) < 0 || !S_ISREG(ts.st_mode)) {
        close(out);
        return job_fail(j, ESTALE, "fstat", W_DST);
      }
      if (fcntl(out, F_SETFL, 0) < 0) {
        rc = job_fail(j, errno, "open", W_DST);
        goto done;
      }
    } else if (unlinkat(p->fd, name, S_ISDIR(ts.st_mode) ? AT_REMOVEDIR : 0) < 0) {
      return job_fail(j, errno, S_ISDIR(ts.st_mode) ? "rmdir" : "unlink", W_DST);
    }
  } else if (errno != ENOENT) {
    return job_fail(j, errno, "lstat", W_DST);
  }
  if (out < 0) {
    out = openat(p->fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (out < 0)
      return job_fail(j, errno, "open", W_DST);
  }
  rc = copy_data_sync(j, in, out, st, true);
  if (rc == OP_OK)
    rc = meta_owner_fd(j, out);
  if (rc == OP_OK)
    rc = meta_mode_fd(j, out, mode);
  if (rc == OP_OK)
    rc = meta_xattrs_sync_fd(j, in, out, false);
  if (rc == OP_OK)
    rc = meta_times_fd(j, out);
done:
  if (close(out) < 0 && errno != EINTR && rc == OP_OK)
    rc = job_fail(j, errno, "close", W_DST);
  if (rc == OP_OK)
    counter_add(c, C_FILES, 1);
  return rc;
}

/* Failure cleanup of a temp file: --partial keeps what was copied under the real name. */
void ops_discard_temp(struct job *j, int dirfd, const char *tmp, const char *name)
{
  if ((j->c->flags & P_PARTIAL) && j->bytes > 0 && renameat(dirfd, tmp, dirfd, name) == 0)
    return;
  unlinkat(dirfd, tmp, 0); /* best effort: the op already failed with the real cause */
}

static int do_file(struct job *j)
{
  struct ctx *c = j->c;
  const struct op *op = j->op;
  char name[NAME_MAX + 1], tmp[NAME_MAX + 1];
  struct parent *p;
  int rc = ops_resolve_parent(j, op->dst, op->dst_len, &p, name);
  if (rc != OP_OK)
    return rc;
  int in = -1, out = -1;
  bool made = false;
  struct stat st;
  rc = open_source(j, ops_source_flags(c, op), S_IFREG, &in, &st);
  if (rc != OP_OK)
    goto done;
  if (op->flags & OF_COMPARE) {
    int tfd = -1;
    rc = same_content(j, p->fd, name, in, &st, &tfd);
    if (rc == 1) {
      j->equal = true;
      rc = attrs_fd(j, (c->flags & (P_XATTRS | P_ACLS)) ? in : -1, tfd, false);
      close(tfd);
      goto done;
    }
    if (rc != 0)
      goto done;
  }
  if (c->flags & P_INPLACE) {
    rc = file_inplace(j, p, name, in, &st);
    goto done;
  }
  mode_t mode = meta_target_mode(j, p->fd, name);
  for (int i = 0; i < TEMP_TRIES; i++) {
    ops_temp_name(c, name, tmp);
    out = openat(p->fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (out >= 0 || errno != EEXIST)
      break;
  }
  if (out < 0) {
    rc = job_fail(j, errno, "open", W_DST);
    goto done;
  }
  made = true;
  rc = copy_data_sync(j, in, out, &st, false);
  if (rc == OP_OK)
    rc = meta_file(j, in, out, mode);
  if (rc != OP_OK)
    goto done;
  int fd = out;
  out = -1;
  /* close can report a deferred write error (NFS, quota): the data is not safe then. */
  if (close(fd) < 0 && errno != EINTR) {
    rc = job_fail(j, errno, "close", W_DST);
    goto done;
  }
  rc = ops_rename_over(j, p->fd, tmp, name);
  if (rc == OP_OK) {
    made = false;
    counter_add(c, C_FILES, 1);
  }
done:
  if (out >= 0)
    close(out);
  if (made)
    ops_discard_temp(j, p->fd, tmp, name);
  if (in >= 0)
    close(in);
  ops_parent_put(c, p);
  return rc;
}

static int do_symlink(struct job *j)
{
  struct ctx *c = j->c;
  const struct op *op = j->op;
  char target[PATH_MAX], name[NAME_MAX + 1], tmp[NAME_MAX + 1];
  /* O_PATH on the link itself: the readlink and the identity check see the same inode. */
  int fd;
  struct stat st;
  int rc = open_source(j, O_PATH | O_NOFOLLOW | O_CLOEXEC, S_IFLNK, &fd, &st);
  if (rc != OP_OK)
    return rc;
  ssize_t n = readlinkat(fd, "", target, sizeof target);
  int rerr = errno;
  close(fd);
  if (n < 0)
    return job_fail(j, rerr, "readlink", W_SRC);
  if ((size_t)n >= sizeof target)
    return job_fail(j, ENAMETOOLONG, "readlink", W_SRC);
  target[n] = 0;
  /* The planner judged the target it read (--safe-links, --copy-unsafe-links): only that value may
   * be written; a link replaced since then is a changed entry. */
  if ((op->flags & OF_TARGET) && ((size_t)n != op->target_len || memcmp(target, op->target, (size_t)n) != 0))
    return job_fail(j, ESTALE, "readlink", W_SRC);
  struct parent *p;
  rc = ops_resolve_parent(j, op->dst, op->dst_len, &p, name);
  if (rc != OP_OK)
    return rc;
  int r = -1;
  for (int i = 0; i < TEMP_TRIES; i++) {
    ops_temp_name(c, name, tmp);
    r = symlinkat(target, p->fd, tmp);
    if (r == 0 || errno != EEXIST)
      break;
  }
  if (r < 0) {
    rc = job_fail(j, errno, "symlink", W_DST);
  } else {
    rc = meta_owner_at(j, p->fd, tmp);
    if (rc == OP_OK)
      rc = meta_times_at(j, p->fd, tmp);
    if (rc == OP_OK)
      rc = ops_rename_over(j, p->fd, tmp, name);
    if (rc != OP_OK)
      unlinkat(p->fd, tmp, 0);
    else
      counter_add(c, C_SYMLINKS, 1);
  }
  ops_parent_put(c, p);
  return rc;
}

static mode_t special_mode(const struct ctx *c, const struct op *op, int dirfd)
{
  return (c->flags & P_PERMS) ? op->mode & 07777 : op->mode & 0777 & meta_default_perms(c, dirfd);
}

static int do_special(struct job *j)
{
  struct ctx *c = j->c;
  const struct op *op = j->op;
  char name[NAME_MAX + 1], tmp[NAME_MAX + 1];
  mode_t type = op->mode & S_IFMT;
  if (type != S_IFCHR && type != S_IFBLK && type != S_IFIFO && type != S_IFSOCK)
    return job_fail(j, EINVAL, "mknod", W_DST);
  struct parent *p;
  int rc = ops_resolve_parent(j, op->dst, op->dst_len, &p, name);
  if (rc != OP_OK)
    return rc;
  int r = -1;
  for (int i = 0; i < TEMP_TRIES; i++) {
    ops_temp_name(c, name, tmp);
    r = mknodat(p->fd, tmp, type | 0600, (dev_t)op->rdev);
    if (r == 0 || errno != EEXIST)
      break;
  }
  if (r < 0) {
    rc = job_fail(j, errno, "mknod", W_DST);
  } else {
    mode_t mode = special_mode(c, op, p->fd);
    rc = meta_owner_at(j, p->fd, tmp);
    if (rc == OP_OK && mode != 0600)
      rc = meta_mode_at(j, p->fd, tmp, mode);
    if (rc == OP_OK)
      rc = meta_times_at(j, p->fd, tmp);
    if (rc == OP_OK)
      rc = ops_rename_over(j, p->fd, tmp, name);
    if (rc != OP_OK)
      unlinkat(p->fd, tmp, 0);
    else
      counter_add(c, C_SPECIALS, 1);
  }
  ops_parent_put(c, p);
  return rc;
}

/* Hardlink (src destination-relative, from = parent of src) and LinkFrom (src absolute, from =
 * AT_FDCWD): link at a temp name, rename over the target. `follow` (AT_SYMLINK_FOLLOW) only for a
 * pinned /proc/self/fd entry, which must be resolved to the inode it holds. */
static int link_over(struct job *j, int fromfd, const char *from, int where, int follow)
{
  struct ctx *c = j->c;
  const struct op *op = j->op;
  char name[NAME_MAX + 1], tmp[NAME_MAX + 1];
  struct parent *p;
  int rc = ops_resolve_parent(j, op->dst, op->dst_len, &p, name);
  if (rc != OP_OK)
    return rc;
  struct stat a, b;
  if (fstatat(fromfd, from, &a, follow ? 0 : AT_SYMLINK_NOFOLLOW) == 0 && fstatat(p->fd, name, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
      a.st_ino == b.st_ino && a.st_dev == b.st_dev)
    goto ok; /* already linked: renaming a link over itself would leave the temp behind */
  int r = -1;
  for (int i = 0; i < TEMP_TRIES; i++) {
    ops_temp_name(c, name, tmp);
    r = linkat(fromfd, from, p->fd, tmp, follow);
    if (r == 0 || errno != EEXIST)
      break;
  }
  if (r < 0) {
    rc = job_fail(j, errno, "link", where);
    goto done;
  }
  rc = ops_rename_over(j, p->fd, tmp, name);
  if (rc != OP_OK) {
    unlinkat(p->fd, tmp, 0);
    goto done;
  }
ok:
  counter_add(c, C_HARDLINKS, 1);
done:
  ops_parent_put(c, p);
  return rc;
}

static int do_hardlink(struct job *j)
{
  char sname[NAME_MAX + 1];
  struct parent *sp;
  /* src is destination-relative here: it is resolved beneath the root like any target. */
  int rc = ops_resolve_parent(j, j->op->src, j->op->src_len, &sp, sname);
  if (rc != OP_OK) {
    j->err.where = W_LINK;
    return rc;
  }
  rc = link_over(j, sp->fd, sname, W_LINK, 0);
  ops_parent_put(j->c, sp);
  return rc;
}

static int do_linkfrom(struct job *j)
{
  struct lp_at at;
  int e = lp_source(j->op->src, j->op->src_len, PATH_MAX, &at);
  if (e)
    return job_fail(j, e, "link", W_SRC_LINK);
  if (!(j->op->flags & OF_BASIS)) {
    int rc = link_over(j, at.dirfd, at.rest, W_SRC_LINK, 0);
    lp_release(&at);
    return rc;
  }
  if (at.owned) {
    lp_release(&at); /* a basis path is absolute and must resolve in one piece */
    return job_fail(j, ENAMETOOLONG, "link", W_SRC_LINK);
  }
  /* A basis file (or symlink): pin the inode first (no symlink followed on the way, the same inode
   * the planner chose), then link that inode through its /proc/self/fd entry, so nothing swapped in
   * after the check is linked. O_PATH|O_NOFOLLOW pins a symlink itself. */
  int fd = ops_open_no_symlinks(at.rest, O_PATH | O_NOFOLLOW);
  lp_release(&at);
  if (fd < 0)
    return job_fail(j, errno == ELOOP ? ESTALE : errno, errno == ELOOP ? "fstat" : "link", W_SRC_LINK);
  struct stat st;
  int rc;
  if (fstat(fd, &st) < 0)
    rc = job_fail(j, errno, "fstat", W_SRC_LINK);
  else if ((st.st_mode & S_IFMT) != (j->op->mode & S_IFMT) || (double)st.st_ino != j->op->ino ||
           (double)st.st_dev != j->op->dev)
    rc = job_fail(j, ESTALE, "fstat", W_SRC_LINK);
  else {
    char pinned[64];
    snprintf(pinned, sizeof pinned, "/proc/self/fd/%d", fd);
    rc = link_over(j, AT_FDCWD, pinned, W_SRC_LINK, AT_SYMLINK_FOLLOW);
  }
  close(fd);
  return rc;
}

static int do_mkdir(struct job *j)
{
  struct ctx *c = j->c;
  const struct op *op = j->op;
  if (op->dst_len == 0) {
    counter_add(c, C_DIRS, 1);
    return OP_OK; /* the root exists: we hold it open */
  }
  char name[NAME_MAX + 1];
  struct parent *p;
  int rc = ops_resolve_parent(j, op->dst, op->dst_len, &p, name);
  if (rc != OP_OK)
    return rc;
  /* Owner-writable until DirMeta, so that the directory's contents can be created. */
  mode_t mode = (c->flags & P_PERMS) ? 0700 : (op->mode & 0777) | 0700;
  if (mkdirat(p->fd, name, mode) == 0)
    goto ok;
  if (errno != EEXIST) {
    rc = job_fail(j, errno, "mkdir", W_DST);
    goto done;
  }
  struct stat st;
  /* -K: a symlink to a directory counts as the directory (resolution keeps it beneath the root). */
  int follow = (c->flags & P_KEEP_DIRLINKS) ? 0 : AT_SYMLINK_NOFOLLOW;
  if (fstatat(p->fd, name, &st, follow) == 0 && S_ISDIR(st.st_mode))
    goto ok;
  if (fstatat(p->fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
    rc = job_fail(j, errno, "lstat", W_DST);
    goto done;
  }
  if (S_ISDIR(st.st_mode))
    goto ok;
  if (unlinkat(p->fd, name, 0) < 0) {
    rc = job_fail(j, errno, "unlink", W_DST);
    goto done;
  }
  if (mkdirat(p->fd, name, mode) < 0) {
    rc = job_fail(j, errno, "mkdir", W_DST);
    goto done;
  }
ok:
  counter_add(c, C_DIRS, 1);
done:
  ops_parent_put(c, p);
  return rc;
}

/* The source side of DirMeta/Attrs: read only for xattrs, so O_PATH (which also works on
 * unreadable directories) unless xattrs are copied. */
static int open_meta_source(struct job *j, mode_t type, int *fd)
{
  struct ctx *c = j->c;
  struct stat st;
  bool x = (c->flags & (P_XATTRS | P_ACLS)) != 0;
  int fl = (x ? O_RDONLY | O_NONBLOCK : O_PATH) | (type == S_IFDIR ? O_DIRECTORY : 0) | O_NOFOLLOW | O_CLOEXEC;
  return open_source(j, fl, type, fd, &st);
}

static int do_dirmeta(struct job *j)
{
  struct ctx *c = j->c;
  int dfd = ops_open_dest(c, j->op->dst, j->op->dst_len, O_RDONLY | O_DIRECTORY);
  if (dfd < 0)
    return job_fail(j, -dfd, "open", W_DST);
  int sfd = -1;
  int rc = open_meta_source(j, S_IFDIR, &sfd);
  if (rc == OP_OK)
    rc = meta_owner_fd(j, dfd);
  if (rc == OP_OK && (c->flags & P_PERMS))
    rc = meta_mode_fd(j, dfd, j->op->mode & 07777);
  if (rc == OP_OK)
    rc = meta_xattrs_fd(j, sfd, dfd, true);
  if (rc == OP_OK && !(c->flags & P_OMIT_DIR_TIMES))
    rc = meta_times_fd(j, dfd);
  if (sfd >= 0)
    close(sfd);
  close(dfd);
  return rc;
}

static int do_attrs(struct job *j)
{
  struct ctx *c = j->c;
  const struct op *op = j->op;
  mode_t type = op->mode & S_IFMT;
  if (type == S_IFREG || type == S_IFDIR) {
    int fd;
    if (type == S_IFDIR) {
      fd = ops_open_dest(c, op->dst, op->dst_len, O_RDONLY | O_DIRECTORY);
    } else {
      char name[NAME_MAX + 1];
      struct parent *p;
      int rc = ops_resolve_parent(j, op->dst, op->dst_len, &p, name);
      if (rc != OP_OK)
        return rc;
      fd = openat(p->fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
      fd = fd < 0 ? -errno : fd;
      ops_parent_put(c, p);
    }
    if (fd < 0)
      return job_fail(j, -fd, "open", W_DST);
    struct stat ts;
    int rc = OP_OK, sfd = -1;
    if (fstat(fd, &ts) < 0)
      rc = job_fail(j, errno, "fstat", W_DST);
    else if ((ts.st_mode & S_IFMT) != type)
      rc = job_fail(j, ESTALE, "fstat", W_DST);
    if (rc == OP_OK && (c->flags & (P_XATTRS | P_ACLS)))
      rc = open_meta_source(j, type, &sfd);
    if (rc == OP_OK)
      rc = attrs_fd(j, sfd, fd, type == S_IFDIR);
    if (sfd >= 0)
      close(sfd);
    close(fd);
    return rc;
  }
  /* Symlinks, devices, FIFOs, sockets: by name, never opened (opening a device has effects). */
  char name[NAME_MAX + 1];
  struct parent *p;
  int rc = ops_resolve_parent(j, op->dst, op->dst_len, &p, name);
  if (rc != OP_OK)
    return rc;
  rc = meta_owner_at(j, p->fd, name);
  if (rc == OP_OK && type != S_IFLNK && (c->flags & P_PERMS))
    rc = meta_mode_at(j, p->fd, name, op->mode & 07777);
  if (rc == OP_OK)
    rc = meta_times_at(j, p->fd, name);
  ops_parent_put(c, p);
  return rc;
}

static int do_delete(struct job *j)
{
  struct ctx *c = j->c;
  bool dir = S_ISDIR(j->op->mode);
  const char *sys = dir ? "rmdir" : "unlink";
  if (j->op->dst_len == 0)
    return job_fail(j, EINVAL, sys, W_DST); /* never the root itself */
  char name[NAME_MAX + 1];
  struct parent *p;
  int rc = ops_resolve_parent(j, j->op->dst, j->op->dst_len, &p, name);
  if (rc != OP_OK)
    return rc;
  if (unlinkat(p->fd, name, dir ? AT_REMOVEDIR : 0) == 0)
    counter_add(c, C_DELETED, 1);
  else if (errno != ENOENT)
    rc = job_fail(j, errno, sys, W_DST);
  ops_parent_put(c, p);
  return rc;
}

/* --remove-source-files: only a source that is still the file the walk saw is removed. */
int ops_remove_source(struct job *j)
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
  if (fstatat(dirfd, at, &st, AT_SYMLINK_NOFOLLOW) < 0)
    rc = errno == ENOENT ? OP_OK : job_fail(j, errno, "lstat", W_SRC);
  else if (!S_ISDIR(st.st_mode) && same_identity(j->op, &st) && unlinkat(dirfd, at, 0) < 0 && errno != ENOENT)
    rc = job_fail(j, errno, "unlink", W_SRC);
  lp_release(&whole);
  ops_parent_put(j->c, p);
  return rc;
}

static int dispatch(struct job *j)
{
  switch (j->op->kind) {
  case OP_FILE:
    return do_file(j);
  case OP_SYMLINK:
    return do_symlink(j);
  case OP_SPECIAL:
    return do_special(j);
  case OP_HARDLINK:
    return do_hardlink(j);
  case OP_MKDIR:
    return do_mkdir(j);
  case OP_DIRMETA:
    return do_dirmeta(j);
  case OP_ATTRS:
    return do_attrs(j);
  case OP_DELETE:
    return do_delete(j);
  case OP_LINKFROM:
    return do_linkfrom(j);
  case OP_BACKUP:
    return backup_op(j);
  }
  return job_fail(j, EINVAL, "open", W_DST); /* batch_next already rejects unknown kinds */
}

int ops_finish(struct job *j, int rc)
{
  struct ctx *c = j->c;
  const struct op *op = j->op;
  uint8_t k = op->kind;
  if (rc == OP_OK && j->refused) {
    /* The entry is in place without some attributes, each already reported (meta.c): the op failed
     * (exit 23), and its source is not removed, since the copy is not complete. */
    set_outcome(c, op->index, OUT_FAILED);
    return OP_FAIL;
  }
  if (rc == OP_OK && (op->flags & OF_REMOVE_SOURCE) &&
      (k == OP_FILE || k == OP_SYMLINK || k == OP_SPECIAL || k == OP_ATTRS))
    rc = ops_remove_source(j);
  if (rc == OP_FAIL) {
    failures_push(&c->fails, op, j->err);
    counter_add(c, C_ERRORS, 1);
    set_outcome(c, op->index, OUT_FAILED);
  } else if (rc == OP_OK) {
    set_outcome(c, op->index, j->equal ? OUT_EQUAL : OUT_DONE);
  }
  return rc;
}

int ops_exec_sync(struct ctx *c, const struct op *op, bool allow_retry)
{
  struct job j = {.c = c, .op = op};
  int rc = dispatch(&j);
  if (rc == OP_FAIL && allow_retry && (j.err.no == EMFILE || j.err.no == ENFILE)) {
    /* Give back the fd we can spare and try once more; the op cleaned up after itself. */
    ops_parent_drop_cache(c);
    if (j.bytes)
      counter_add(c, C_BYTES, -j.bytes);
    j = (struct job){.c = c, .op = op};
    rc = dispatch(&j);
  }
  return ops_finish(&j, rc);
}

int ops_run_sync(struct ctx *c, const uint8_t *batch, size_t len)
{
  size_t off = 0;
  struct op op;
  for (uint32_t i = 0; batch_next(batch, len, &off, &op) == 1; i++) {
    op.index = i;
    if (aborted(c))
      return OP_ABORT;
    if (backup_gate(c, &op) && ops_exec_sync(c, &op, true) == OP_ABORT)
      return OP_ABORT;
  }
  return OP_OK;
}
