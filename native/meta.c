/* Metadata on the destination: fchown, fchmod, xattrs (including POSIX ACLs, which are the
 * system.posix_acl_* xattrs), futimens. Everything is applied to an fd we created or opened
 * beneath the root, or by name relative to such a directory with AT_SYMLINK_NOFOLLOW. */
#include "meta.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

static bool owner_ids(struct job *j, uid_t *u, gid_t *g)
{
  const struct ctx *c = j->c;
  *u = (uid_t)-1;
  *g = (gid_t)-1;
  /* Only root can give a file away; rsync silently keeps our uid otherwise. */
  if ((c->flags & P_OWNER) && c->is_root)
    *u = j->op->uid;
  if (c->flags & P_GROUP)
    *g = j->op->gid;
  return *u != (uid_t)-1 || *g != (gid_t)-1;
}

/* As non-root, a group we are not a member of is EPERM; rsync ignores that too. */
static bool ignorable_chown(const struct job *j, int e, uid_t u)
{
  return e == EPERM && !j->c->is_root && u == (uid_t)-1;
}

int meta_owner_fd(struct job *j, int fd)
{
  uid_t u;
  gid_t g;
  if (!owner_ids(j, &u, &g))
    return OP_OK;
  if (fchown(fd, u, g) < 0 && !ignorable_chown(j, errno, u))
    return job_fail(j, errno, "fchown", W_DST);
  return OP_OK;
}

int meta_owner_at(struct job *j, int dirfd, const char *name)
{
  uid_t u;
  gid_t g;
  if (!owner_ids(j, &u, &g))
    return OP_OK;
  if (fchownat(dirfd, name, u, g, AT_SYMLINK_NOFOLLOW) < 0 && !ignorable_chown(j, errno, u))
    return job_fail(j, errno, "lchown", W_DST);
  return OP_OK;
}

int meta_mode_fd(struct job *j, int fd, mode_t mode)
{
  if (fchmod(fd, mode) < 0)
    return job_fail(j, errno, "fchmod", W_DST);
  return OP_OK;
}

int meta_mode_at(struct job *j, int dirfd, const char *name, mode_t mode)
{
  struct ctx *c = j->c;
  /* fchmodat2 (Linux 6.6) is the only way to refuse a symlink swapped in under our temp name
   * without /proc; older kernels get plain fchmodat on a name we created a moment ago. */
  if (!c->no_fchmodat2) {
    if (syscall(SYS_fchmodat2, dirfd, name, mode, AT_SYMLINK_NOFOLLOW) == 0)
      return OP_OK;
    if (errno != ENOSYS && errno != EPERM)
      return job_fail(j, errno, "chmod", W_DST);
    c->no_fchmodat2 = true;
  }
  if (fchmodat(dirfd, name, mode, 0) < 0)
    return job_fail(j, errno, "chmod", W_DST);
  return OP_OK;
}

static struct timespec *op_times(const struct job *j, struct timespec ts[2])
{
  ts[0] = (struct timespec){.tv_sec = 0, .tv_nsec = UTIME_OMIT};
  ts[1] = (struct timespec){.tv_sec = (time_t)j->op->mtime_sec, .tv_nsec = (long)j->op->mtime_nsec};
  return ts;
}

int meta_times_fd(struct job *j, int fd)
{
  struct timespec ts[2];
  if (!(j->c->flags & P_TIMES))
    return OP_OK;
  if (futimens(fd, op_times(j, ts)) < 0)
    return job_fail(j, errno, "futimes", W_DST);
  return OP_OK;
}

int meta_times_at(struct job *j, int dirfd, const char *name)
{
  struct timespec ts[2];
  if (!(j->c->flags & P_TIMES))
    return OP_OK;
  if (utimensat(dirfd, name, op_times(j, ts), AT_SYMLINK_NOFOLLOW) < 0)
    return job_fail(j, errno, "lutimes", W_DST);
  return OP_OK;
}

static bool has_prefix(const char *s, const char *p)
{
  return strncmp(s, p, strlen(p)) == 0;
}

/* rsync's rules: user.* always; security.* and trusted.* need root (as non-root rsync skips them,
 * and setting e.g. security.capability would fail every file); system.* only for the ACLs. */
static bool want_xattr(const struct ctx *c, const char *name, bool dir)
{
  if (c->flags & P_XATTRS) {
    if (has_prefix(name, "user."))
      return true;
    if (c->is_root && (has_prefix(name, "security.") || has_prefix(name, "trusted.")))
      return true;
  }
  if (c->flags & P_ACLS) {
    if (strcmp(name, "system.posix_acl_access") == 0)
      return true;
    if (dir && strcmp(name, "system.posix_acl_default") == 0)
      return true;
  }
  return false;
}

static bool grow(char **buf, size_t *cap, size_t want)
{
  if (want <= *cap)
    return true;
  char *p = realloc(*buf, want);
  if (!p)
    return false;
  *buf = p;
  *cap = want;
  return true;
}

/* No xattr support on the source filesystem simply means there is nothing to copy. */
static bool no_xattrs(int e)
{
  return e == ENOTSUP || e == ENOSYS;
}

int meta_xattrs_fd(struct job *j, int srcfd, int dstfd, bool dir)
{
  struct ctx *c = j->c;
  if (!(c->flags & (P_XATTRS | P_ACLS)))
    return OP_OK;
  ssize_t n;
  for (;;) {
    n = flistxattr(srcfd, c->xnames, c->xnames_cap);
    if (n >= 0)
      break;
    if (no_xattrs(errno))
      return OP_OK;
    if (errno != ERANGE)
      return job_fail(j, errno, "listxattr", W_SRC);
    ssize_t need = flistxattr(srcfd, NULL, 0);
    if (need < 0)
      return job_fail(j, errno, "listxattr", W_SRC);
    if (!grow(&c->xnames, &c->xnames_cap, (size_t)need + 256))
      return job_fail(j, ENOMEM, "listxattr", W_SRC);
  }
  for (ssize_t i = 0; i < n;) {
    const char *name = c->xnames + i;
    i += (ssize_t)strlen(name) + 1;
    if (!want_xattr(c, name, dir))
      continue;
    ssize_t v;
    for (;;) {
      v = fgetxattr(srcfd, name, c->xval, c->xval_cap);
      if (v >= 0 || errno != ERANGE)
        break;
      ssize_t need = fgetxattr(srcfd, name, NULL, 0);
      if (need < 0)
        break;
      if (!grow(&c->xval, &c->xval_cap, (size_t)need + 256))
        return job_fail(j, ENOMEM, "getxattr", W_SRC);
    }
    if (v < 0) {
      if (errno == ENODATA) /* removed since the listing */
        continue;
      return job_fail(j, errno, "getxattr", W_SRC);
    }
    if (fsetxattr(dstfd, name, c->xval, (size_t)v, 0) < 0)
      return job_fail(j, errno, "setxattr", W_DST);
  }
  return OP_OK;
}

int meta_file(struct job *j, int srcfd, int dstfd, mode_t mode)
{
  int rc = meta_owner_fd(j, dstfd);
  /* The temp file was created 0600: skip the syscall when that already is the answer. */
  if (rc == OP_OK && mode != 0600)
    rc = meta_mode_fd(j, dstfd, mode);
  if (rc == OP_OK)
    rc = meta_xattrs_fd(j, srcfd, dstfd, false);
  if (rc == OP_OK)
    rc = meta_times_fd(j, dstfd);
  return rc;
}

mode_t meta_target_mode(struct job *j, int dirfd, const char *name)
{
  const struct ctx *c = j->c;
  if (c->flags & P_PERMS)
    return j->op->mode & 07777;
  struct stat st;
  if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
    return st.st_mode & 07777;
  return j->op->mode & 0777 & ~c->umask;
}
