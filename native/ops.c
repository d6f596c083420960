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

#include "copy.h"
#include "meta.h"

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
 * and refuses "..", which gives the same guarantee on kernels before 5.6 or under seccomp.
 * Returns an fd or -errno. */
static int open_beneath(struct ctx *c, const char *path, int flags)
{
  if (!c->no_openat2) {
    struct open_how how = {
      .flags = (uint64_t)(flags | O_CLOEXEC | O_NOFOLLOW),
      .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
    };
    long fd = syscall(SYS_openat2, c->rootfd, path, &how, sizeof how);
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
  int cur = c->rootfd;
  char *save = NULL, *comp = strtok_r(buf, "/", &save);
  if (!comp)
    comp = ".";
  while (comp) {
    char *next = strtok_r(NULL, "/", &save);
    if (strcmp(comp, "..") == 0) {
      if (cur != c->rootfd)
        close(cur);
      return -EXDEV;
    }
    int fl = next ? O_PATH | O_DIRECTORY : flags;
    int fd = openat(cur, comp, fl | O_NOFOLLOW | O_CLOEXEC);
    int e = errno;
    if (cur != c->rootfd)
      close(cur);
    if (fd < 0)
      return -e;
    cur = fd;
    comp = next;
  }
  return cur;
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
  char pz[PATH_MAX];
  e = ops_zpath(path, plen, pz, sizeof pz);
  if (e)
    return job_fail(j, e, "open", W_DST);
  p = malloc(sizeof *p + plen);
  if (!p)
    return job_fail(j, ENOMEM, "open", W_DST);
  int fd = open_beneath(c, pz, O_PATH | O_DIRECTORY);
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

int ops_source_flags(const struct ctx *c)
{
  return O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | (c->noatime ? O_NOATIME : 0);
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

/* open(2) of a source with O_NOATIME while it still works (it is EPERM on files we do not own). */
static int open_source(struct job *j, const char *path, int flags, mode_t type, int *fd, struct stat *st)
{
  struct ctx *c = j->c;
  int f = open(path, flags);
  if (f < 0 && errno == EPERM && (flags & O_NOATIME)) {
    c->noatime = false;
    flags &= ~O_NOATIME;
    f = open(path, flags);
  }
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

static int do_file(struct job *j)
{
  struct ctx *c = j->c;
  const struct op *op = j->op;
  char src[PATH_MAX], name[NAME_MAX + 1], tmp[NAME_MAX + 1];
  int e = ops_zpath(op->src, op->src_len, src, sizeof src);
  if (e)
    return job_fail(j, e, "open", W_SRC);
  struct parent *p;
  int rc = ops_resolve_parent(j, op->dst, op->dst_len, &p, name);
  if (rc != OP_OK)
    return rc;
  int in = -1, out = -1;
  bool made = false;
  struct stat st;
  int flags = ops_source_flags(c);
  rc = open_source(j, src, flags, S_IFREG, &in, &st);
  if (rc != OP_OK)
    goto done;
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
  rc = copy_data_sync(j, in, out, &st);
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
    unlinkat(p->fd, tmp, 0); /* best effort: the op already failed with the real cause */
  if (in >= 0)
    close(in);
  ops_parent_put(c, p);
  return rc;
}

static int do_symlink(struct job *j)
{
  struct ctx *c = j->c;
  const struct op *op = j->op;
  char src[PATH_MAX], target[PATH_MAX], name[NAME_MAX + 1], tmp[NAME_MAX + 1];
  int e = ops_zpath(op->src, op->src_len, src, sizeof src);
  if (e)
    return job_fail(j, e, "readlink", W_SRC);
  /* O_PATH on the link itself: the readlink and the identity check see the same inode. */
  int fd;
  struct stat st;
  int rc = open_source(j, src, O_PATH | O_NOFOLLOW | O_CLOEXEC, S_IFLNK, &fd, &st);
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
    mode_t mode = (c->flags & P_PERMS) ? op->mode & 07777 : op->mode & 0777 & ~c->umask;
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

static int do_hardlink(struct job *j)
{
  struct ctx *c = j->c;
  const struct op *op = j->op;
  char sname[NAME_MAX + 1], name[NAME_MAX + 1], tmp[NAME_MAX + 1];
  struct parent *sp, *p;
  /* src is destination-relative here: it is resolved beneath the root like any target. */
  int rc = ops_resolve_parent(j, op->src, op->src_len, &sp, sname);
  if (rc != OP_OK) {
    j->err.where = W_LINK;
    return rc;
  }
  rc = ops_resolve_parent(j, op->dst, op->dst_len, &p, name);
  if (rc != OP_OK) {
    ops_parent_put(c, sp);
    return rc;
  }
  struct stat a, b;
  if (fstatat(sp->fd, sname, &a, AT_SYMLINK_NOFOLLOW) == 0 &&
      fstatat(p->fd, name, &b, AT_SYMLINK_NOFOLLOW) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev)
    goto done; /* already linked: renaming a link over itself would leave the temp behind */
  int r = -1;
  for (int i = 0; i < TEMP_TRIES; i++) {
    ops_temp_name(c, name, tmp);
    r = linkat(sp->fd, sname, p->fd, tmp, 0);
    if (r == 0 || errno != EEXIST)
      break;
  }
  if (r < 0) {
    rc = job_fail(j, errno, "link", W_LINK);
    goto done;
  }
  rc = ops_rename_over(j, p->fd, tmp, name);
  if (rc != OP_OK)
    unlinkat(p->fd, tmp, 0);
  else
    counter_add(c, C_HARDLINKS, 1);
done:
  ops_parent_put(c, sp);
  ops_parent_put(c, p);
  return rc;
}

static int do_mkdir(struct job *j)
{
  struct ctx *c = j->c;
  const struct op *op = j->op;
  if (op->dst_len == 0)
    return OP_OK; /* the root exists: we hold it open */
  char name[NAME_MAX + 1];
  struct parent *p;
  int rc = ops_resolve_parent(j, op->dst, op->dst_len, &p, name);
  if (rc != OP_OK)
    return rc;
  /* Owner-writable until DirMeta, so that the directory's contents can be created. */
  mode_t mode = (c->flags & P_PERMS) ? 0700 : (op->mode & 0777) | 0700;
  if (mkdirat(p->fd, name, mode) == 0) {
    counter_add(c, C_DIRS, 1);
    goto done;
  }
  if (errno != EEXIST) {
    rc = job_fail(j, errno, "mkdir", W_DST);
    goto done;
  }
  struct stat st;
  if (fstatat(p->fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
    rc = job_fail(j, errno, "lstat", W_DST);
    goto done;
  }
  if (S_ISDIR(st.st_mode))
    goto done;
  if (unlinkat(p->fd, name, 0) < 0) {
    rc = job_fail(j, errno, "unlink", W_DST);
    goto done;
  }
  if (mkdirat(p->fd, name, mode) < 0) {
    rc = job_fail(j, errno, "mkdir", W_DST);
    goto done;
  }
  counter_add(c, C_DIRS, 1);
done:
  ops_parent_put(c, p);
  return rc;
}

static int do_dirmeta(struct job *j)
{
  struct ctx *c = j->c;
  const struct op *op = j->op;
  char src[PATH_MAX], name[NAME_MAX + 1];
  int e = ops_zpath(op->src, op->src_len, src, sizeof src);
  if (e)
    return job_fail(j, e, "open", W_SRC);
  int dfd;
  if (op->dst_len == 0) {
    dfd = openat(c->rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  } else {
    struct parent *p;
    int rc = ops_resolve_parent(j, op->dst, op->dst_len, &p, name);
    if (rc != OP_OK)
      return rc;
    dfd = openat(p->fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0)
      e = errno;
    ops_parent_put(c, p);
    errno = e;
  }
  if (dfd < 0)
    return job_fail(j, errno, "open", W_DST);
  /* The source is read only for xattrs; O_PATH keeps unreadable directories working otherwise. */
  bool x = (c->flags & (P_XATTRS | P_ACLS)) != 0;
  int sfd = -1;
  struct stat st;
  int rc = open_source(j, src, (x ? O_RDONLY : O_PATH) | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, S_IFDIR,
                       &sfd, &st);
  if (rc == OP_OK)
    rc = meta_owner_fd(j, dfd);
  if (rc == OP_OK && (c->flags & P_PERMS))
    rc = meta_mode_fd(j, dfd, op->mode & 07777);
  if (rc == OP_OK)
    rc = meta_xattrs_fd(j, sfd, dfd, true);
  if (rc == OP_OK)
    rc = meta_times_fd(j, dfd);
  if (sfd >= 0)
    close(sfd);
  close(dfd);
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
  }
  return job_fail(j, EINVAL, "open", W_DST); /* batch_next already rejects unknown kinds */
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
  if (rc == OP_FAIL) {
    failures_push(&c->fails, op, j.err);
    counter_add(c, C_ERRORS, 1);
  }
  return rc;
}

int ops_run_sync(struct ctx *c, const uint8_t *batch, size_t len)
{
  size_t off = 0;
  struct op op;
  for (uint32_t i = 0; batch_next(batch, len, &off, &op) == 1; i++) {
    op.index = i;
    if (aborted(c) || ops_exec_sync(c, &op, true) == OP_ABORT)
      return OP_ABORT;
  }
  return OP_OK;
}
