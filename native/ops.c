/* The per-kind ops (File, Symlink, Special, Hardlink, LinkFrom, Mkdir, DirMeta, Attrs, Delete; Backup
 * is backup.c): what each kind does to the destination, in plain syscalls, for the sync engine and for
 * the ops the uring pipeline runs inline. Safety rules (docs/native-contract.md): nothing is written
 * in place (temp.c), nothing on the destination side follows a symlink (dest.c, beneath.c), sources
 * are opened O_NOFOLLOW and checked against what the walk saw (source.c). */
#include "ops.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "adopt.h"
#include "backup.h"
#include "beneath.h"
#include "copy.h"
#include "dest.h"
#include "fakesuper.h"
#include "longpath.h"
#include "meta.h"
#include "partial.h"
#include "source.h"
#include "temp.h"

/* Without -p, a directory this run made, or opened up (OF_OWNER_BITS), gets the owner's bits op->mode
 * has, which it lacked while the run filled it: Mkdir made it with all of them (the kernel applied the
 * umask or default ACL to the rest, as to rsync's own mkdir), an opened-up one had its own bits in
 * op->mode. Not acting as root, rsync gives a mode back only when it lacks owner write (touch_up_dirs): a
 * 0600 directory stays 0700. -1: nothing to set. */
static int owner_bits_mode(const struct job *j, const struct stat *cur)
{
  const struct ctx *c = j->c;
  mode_t give = j->op->mode & S_IRWXU;
  if ((c->flags & (P_PERMS | P_FAKE_SUPER)) || !(j->op->flags & OF_OWNER_BITS) || give == S_IRWXU)
    return -1;
  if (!c->is_root && (give & S_IWUSR))
    return -1;
  mode_t want = cur->st_mode & 07777 & ~(S_IRWXU & ~give);
  return want == (cur->st_mode & 07777) ? -1 : (int)want;
}

/* -p's mode. Not acting as root, rsync fills every directory of the transfer with all of the owner's
 * bits and gives its mode back only when that mode lacks owner write (touch_up_dirs): a 0600 directory
 * ends 0700, as without -p (owner_bits_mode). */
static mode_t perms_mode(const struct job *j, bool dir)
{
  mode_t m = j->op->mode & 07777;
  return dir && !j->c->is_root && !(j->c->flags & P_FAKE_SUPER) && (m & S_IWUSR) ? m | S_IRWXU : m;
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
  if (c->flags & P_FAKE_SUPER) {
    /* The record says what the entry is; without -p it keeps the permissions it claims. */
    if (!have)
      return job_fail(j, errno, "fstat", W_DST);
    rc = fake_stat_set(j, fd, (c->flags & P_PERMS) ? op->mode & 07777 : fake_stat_perms(fd, cur.st_mode & 07777));
  } else if (!have || cur.st_uid != (uid_t)op->uid || cur.st_gid != (gid_t)op->gid)
    rc = meta_owner_fd(j, fd);
  int owner_mode = rc == OP_OK && dir && have ? owner_bits_mode(j, &cur) : -1;
  if (c->flags & P_FAKE_SUPER)
    ;
  else if (rc == OP_OK && (c->flags & P_PERMS) && (!have || (cur.st_mode & 07777) != perms_mode(j, dir)))
    rc = meta_mode_fd(j, fd, perms_mode(j, dir));
  else if (rc == OP_OK && (c->flags & P_EXECUTABILITY) && have && S_ISREG(op->mode) &&
           meta_exec_mode(op->mode, cur.st_mode) != (cur.st_mode & 07777))
    rc = meta_mode_fd(j, fd, meta_exec_mode(op->mode, cur.st_mode));
  else if (owner_mode >= 0)
    rc = meta_mode_fd(j, fd, (mode_t)owner_mode);
  if (rc == OP_OK && srcfd >= 0)
    rc = meta_xattrs_sync_fd(j, srcfd, fd, dir);
  if (rc == OP_OK && !(dir && (c->flags & P_OMIT_DIR_TIMES)) &&
      (!have || (double)cur.st_mtim.tv_sec != op->mtime_sec ||
                      (uint32_t)cur.st_mtim.tv_nsec != op->mtime_nsec ||
       ((c->flags & P_ATIMES) && !dir && (double)cur.st_atim.tv_sec != op->atime_sec)))
    rc = meta_times_fd(j, fd);
  return rc;
}

int ops_attrs_file_fd(struct job *j, int fd)
{
  return attrs_fd(j, -1, fd, false);
}

/* rsync's way into a read-only file of ours that --inplace must write (its receiver's
 * open_readonly_inplace): owner write is added through a descriptor of the file, the writable
 * descriptor opened, and the old mode put back at once, before any data moves, whatever happened (the
 * written file gets the source's mode at the end). The held descriptor is O_PATH, so that a file its
 * owner may not read either (mode 000) is reached too, as rsync's receiver reaches it. A file already
 * owner-writable is left as it is: its EACCES is about something else. The writable descriptor must be
 * the inode that was made writable (a name swapped in between is refused). -1 with errno set when it
 * cannot be done. */
static int open_readonly_inplace(int dirfd, const char *name, int rw, bool perms)
{
  struct stat cst, fst;
  int cfd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (cfd < 0)
    return -1;
  if (fstat(cfd, &cst) < 0 || !S_ISREG(cst.st_mode) || (cst.st_mode & S_IWUSR)) {
    close(cfd);
    errno = EACCES;
    return -1;
  }
  mode_t prior = cst.st_mode & 07777;
  /* Not ours to change (another's file): rsync's chmod reports its own error only under -p or -E
   * (syscall.c do_chmod); otherwise its open goes on to fail, and the open's EACCES is reported. */
  if (meta_chmod_held(cfd, prior | S_IWUSR) < 0) {
    int chmod_errno = errno;
    close(cfd);
    errno = perms ? chmod_errno : EACCES;
    return -1;
  }
  int fd = openat(dirfd, name, rw | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  int open_errno = errno;
  if (fd >= 0 && (fstat(fd, &fst) < 0 || fst.st_dev != cst.st_dev || fst.st_ino != cst.st_ino)) {
    close(fd);
    fd = -1;
    open_errno = ESTALE;
  }
  if (meta_chmod_held(cfd, prior) < 0) {
    open_errno = errno;
    if (fd >= 0)
      close(fd);
    fd = -1;
  }
  close(cfd);
  errno = open_errno;
  return fd;
}

/* --inplace: the target itself is written (created when missing), then truncated and given its
 * metadata. Anything that is not a regular file is removed first, never opened for writing. */
static int file_inplace(struct job *j, struct parent *p, const char *name, int in, const struct stat *st)
{
  struct ctx *c = j->c;
  mode_t mode = meta_target_mode(j, p->fd, name);
  int out = -1, rc = OP_OK;
  off_t old_size = 0;
  struct stat ts;
  /* --append-verify reads back the bytes it keeps. */
  int rw = (c->flags & P_APPEND_VERIFY) ? O_RDWR : O_WRONLY;
  if (fstatat(p->fd, name, &ts, AT_SYMLINK_NOFOLLOW) == 0) {
    if ((c->flags & P_WRITE_DEVICES) && (S_ISCHR(ts.st_mode) || S_ISBLK(ts.st_mode))) {
      /* --write-devices: the data goes into the device itself, which stays a device of its size. */
      out = openat(p->fd, name, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
      if (out < 0)
        return job_fail(j, errno, "open", W_DST);
      if (fstat(out, &ts) < 0 || !(S_ISCHR(ts.st_mode) || S_ISBLK(ts.st_mode))) {
        close(out);
        return job_fail(j, ESTALE, "fstat", W_DST);
      }
      j->device_out = true;
    } else if (S_ISREG(ts.st_mode)) {
      out = openat(p->fd, name, rw | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
      if (out < 0 && errno == EACCES)
        out = open_readonly_inplace(p->fd, name, rw, (c->flags & (P_PERMS | P_EXECUTABILITY)) != 0);
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
      old_size = ts.st_size;
    } else if (unlinkat(p->fd, name, S_ISDIR(ts.st_mode) ? AT_REMOVEDIR : 0) < 0) {
      return job_fail(j, errno, S_ISDIR(ts.st_mode) ? "rmdir" : "unlink", W_DST);
    }
  } else if (errno != ENOENT) {
    return job_fail(j, errno, "lstat", W_DST);
  }
  if (out < 0) {
    out = openat(p->fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    /* rsync's receiver tries again without O_CREAT (fs.protected_regular refuses O_CREAT on a file
     * that appeared meanwhile, another's in a sticky directory): its error is then the one named. */
    if (out < 0 && errno == EACCES) {
      out = openat(p->fd, name, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
      if (out >= 0 && (fstat(out, &ts) < 0 || !S_ISREG(ts.st_mode) || fcntl(out, F_SETFL, 0) < 0)) {
        close(out);
        out = -1;
        errno = ESTALE;
      }
    }
    if (out < 0)
      return job_fail(j, errno, "open", W_DST);
  }
  /* In place, only a file that grows needs more blocks (rsync's rule). */
  if (st->st_size > old_size && !j->device_out)
    temp_preallocate(c, out, st->st_size);
  /* --append: a shorter target keeps its bytes (the planner skips one that is not shorter);
   * --append-verify writes the whole file when they are not the source's. */
  uint64_t from = (c->flags & P_APPEND) && old_size < st->st_size ? (uint64_t)old_size : 0;
  if (from && (c->flags & P_APPEND_VERIFY)) {
    rc = copy_same_prefix(j, in, out, from);
    if (rc < 0)
      goto done;
    if (rc == 0)
      from = 0;
  }
  rc = copy_data_from(j, in, out, st, true, from);
  if (rc == OP_OK)
    rc = meta_owner_fd(j, out);
  if (rc == OP_OK)
    rc = meta_mode_fd(j, out, mode);
  if (rc == OP_OK)
    rc = meta_xattrs_sync_fd(j, in, out, false);
  if (rc == OP_OK)
    rc = meta_times_fd(j, out);
  if (rc == OP_OK)
    rc = temp_fsync(j, out, W_DST);
done:
  if (close(out) < 0 && errno != EINTR && rc == OP_OK)
    rc = job_fail(j, errno, "close", W_DST);
  if (rc == OP_OK)
    counter_add(c, C_FILES, 1);
  return rc;
}

/* A File op's source: a regular file, or under OF_DEVICE (--copy-devices) a char or block device
 * whose contents are copied as a file of the op's size (a device's stat has no size; rsync reads
 * what its size query said). */
static int src_open_file(struct job *j, int *in, struct stat *st)
{
  const struct op *op = j->op;
  if (!(op->flags & OF_DEVICE))
    return src_open(j, src_file_flags(j->c, op), S_IFREG, in, st);
  int rc = src_open(j, O_RDONLY | O_NOFOLLOW | O_CLOEXEC, SRC_DEVICE, in, st);
  if (rc != OP_OK)
    return rc;
  st->st_size = (off_t)op->size;
  st->st_blocks = (blkcnt_t)(op->size / 512 + 1); /* no holes to look for */
  return OP_OK;
}

static int do_file(struct job *j)
{
  struct ctx *c = j->c;
  const struct op *op = j->op;
  char name[NAME_MAX + 1], tmp[NAME_MAX + 1];
  struct parent *p;
  int rc = dest_parent(j, op->dst, op->dst_len, &p, name);
  if (rc != OP_OK)
    return rc;
  int in = -1, out = -1, tdir = -1;
  bool made = false;
  struct stat st, as;
  rc = src_open_file(j, &in, &st);
  if (rc != OP_OK)
    goto done;
  if (op->flags & OF_COMPARE) {
    int tfd = -1;
    rc = copy_same_content(j, p->fd, name, in, &st, &tfd);
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
  if (adopt_wanted(c, op)) {
    rc = adopt_file(j, p, name, in, &st);
    if (rc != ADOPT_COPY)
      goto done;
  }
  mode_t mode = meta_target_mode(j, p->fd, name);
  tdir = temp_file_dir(j, p->fd);
  if (tdir < 0) {
    rc = OP_FAIL;
    goto done;
  }
  out = temp_open_new(c, p, tdir, name, tmp, mode, &as);
  if (out < 0) {
    rc = job_fail(j, errno, "open", W_DST);
    goto done;
  }
  made = true;
  job_temp(j, tmp);
  temp_preallocate(c, out, st.st_size);
  rc = copy_data_sync(j, in, out, &st, false);
  if (rc == OP_OK)
    rc = meta_file(j, in, out, mode, tmp[0] ? NULL : &as);
  if (rc == OP_OK)
    rc = temp_fsync(j, out, W_DST);
  if (rc != OP_OK)
    goto done;
  if (!tmp[0]) {
    /* Unnamed: it takes its name while its fd is open (temp_open_new chose a filesystem whose close
     * reports nothing). In place or cleaned up either way. */
    rc = temp_place_unnamed(j, out, p, name, tmp);
    made = false;
    if (rc == OP_OK)
      counter_add(c, C_FILES, 1);
    goto done;
  }
  rc = temp_close(j, out, W_DST);
  out = -1;
  if (rc != OP_OK)
    goto done;
  rc = partial_finish(j, tdir, tmp, p->fd, name, mode);
  if (rc == OP_OK) {
    made = false;
    counter_add(c, C_FILES, 1);
  }
done:
  if (out >= 0)
    close(out);
  if (made)
    temp_discard(j, tdir, tmp, p->fd, name, mode);
  if (in >= 0)
    close(in);
  parent_put(c, p);
  return rc;
}

static int symlink_place(struct job *j, const char *target, int srcfd);

static int do_symlink(struct job *j)
{
  struct ctx *c = j->c;
  const struct op *op = j->op;
  char target[PATH_MAX];
  /* OF_TARGET's bytes: the judged value, and after a NUL (--iconv) the value written in its place
   * (src/model/ops.ts targetParts is the twin of this rule). */
  uint32_t judged_len = op->target_len;
  const uint8_t *nul = (op->flags & OF_TARGET) ? memchr(op->target, 0, op->target_len) : NULL;
  if (nul)
    judged_len = (uint32_t)(nul - op->target);
  /* --fake-super sending: the source may be a regular file holding the target; the planner read it
   * once and sends it with the op (the value to write). */
  if ((c->flags & P_FAKE_SOURCE) && (op->flags & OF_TARGET) && op->target_len < sizeof target) {
    uint32_t from = nul ? judged_len + 1 : 0;
    memcpy(target, op->target + from, op->target_len - from);
    target[op->target_len - from] = 0;
    return symlink_place(j, target, -1);
  }
  /* O_PATH on the link itself: the readlink and the identity check see the same inode. */
  int fd;
  struct stat st;
  int rc = src_open(j, O_PATH | O_NOFOLLOW | O_CLOEXEC, S_IFLNK, &fd, &st);
  if (rc != OP_OK)
    return rc;
  ssize_t n = readlinkat(fd, "", target, sizeof target);
  int rerr = errno;
  if (n < 0 || (size_t)n >= sizeof target) {
    close(fd);
    return job_fail(j, n < 0 ? rerr : ENAMETOOLONG, "readlink", W_SRC);
  }
  target[n] = 0;
  /* --munge-links: a local copy is the sending side, which unmunges (rsync's readlink_stat), as the
   * planner did before judging the target. */
  if ((c->flags & P_UNMUNGE_LINKS) && n > MUNGE_PREFIX_LEN && memcmp(target, MUNGE_PREFIX, MUNGE_PREFIX_LEN) == 0) {
    n -= MUNGE_PREFIX_LEN;
    memmove(target, target + MUNGE_PREFIX_LEN, (size_t)n + 1);
  }
  /* The planner judged the target it read (--safe-links, --copy-unsafe-links): only that value may
   * be written; a link replaced since then is a changed entry. */
  if ((op->flags & OF_TARGET) && ((size_t)n != judged_len || memcmp(target, op->target, (size_t)n) != 0)) {
    close(fd);
    return job_fail(j, ESTALE, "readlink", W_SRC);
  }
  if (nul) {
    uint32_t wlen = op->target_len - judged_len - 1;
    memcpy(target, nul + 1, wlen);
    target[wlen] = 0;
  }
  /* The same pinned link gives its xattrs (-X; root's trusted.* and security.*: Linux allows no
   * user.* on a symlink). */
  rc = symlink_place(j, target, fd);
  close(fd);
  return rc;
}

/* A symlink holding `target` at the op's destination, with the xattrs of the source link `srcfd`
 * holds (O_PATH; -1: none to copy). */
static int symlink_place(struct job *j, const char *target, int srcfd)
{
  struct ctx *c = j->c;
  const struct op *op = j->op;
  char name[NAME_MAX + 1], tmp[NAME_MAX + 1];
  if (c->flags & P_FAKE_SUPER)
    return fake_node(j, target, 0777);
  struct parent *p;
  int rc = dest_parent(j, op->dst, op->dst_len, &p, name);
  if (rc != OP_OK)
    return rc;
  int r = temp_symlink(c, p->fd, name, tmp, target);
  if (r < 0) {
    rc = job_fail(j, errno, "symlink", W_DST);
  } else {
    rc = meta_owner_at(j, p->fd, tmp);
    if (rc == OP_OK)
      rc = meta_xattrs_at(j, srcfd, p->fd, tmp);
    if (rc == OP_OK)
      rc = meta_times_at(j, p->fd, tmp);
    rc = temp_commit(j, p->fd, tmp, name, rc);
    if (rc == OP_OK)
      counter_add(c, C_SYMLINKS, 1);
  }
  parent_put(c, p);
  return rc;
}

static mode_t special_mode(const struct ctx *c, const struct op *op, int dirfd)
{
  return (c->flags & P_PERMS) || (op->flags & OF_GIVEN_MODE) ? op->mode & 07777 : op->mode & 0777 & meta_default_perms(c, dirfd);
}

/* -X for an entry made or updated by name (a symlink an Attrs op updates, a device node, a FIFO, a
 * socket): the source pinned O_PATH (never opened: opening a device has effects). */
static int xattrs_by_name(struct job *j, mode_t type, int dirfd, const char *name)
{
  /* --fake-super sending: the source may be a regular file standing for the entry; its xattrs are
   * records, not the entry's. */
  if (!(j->c->flags & P_XATTRS) || (j->c->flags & P_FAKE_SOURCE))
    return OP_OK;
  int sfd;
  struct stat st;
  int rc = src_open(j, O_PATH | O_NOFOLLOW | O_CLOEXEC, type, &sfd, &st);
  if (rc != OP_OK)
    return rc;
  rc = meta_xattrs_at(j, sfd, dirfd, name);
  close(sfd);
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
  if (c->flags & P_FAKE_SUPER)
    return fake_node(j, NULL, (c->flags & P_PERMS) || (op->flags & OF_GIVEN_MODE) ? op->mode & 07777 : op->mode & 0777 & ~c->umask);
  struct parent *p;
  int rc = dest_parent(j, op->dst, op->dst_len, &p, name);
  if (rc != OP_OK)
    return rc;
  int r = temp_mknod(c, p->fd, name, tmp, type, (dev_t)op->rdev);
  if (r < 0) {
    rc = job_fail(j, errno, "mknod", W_DST);
  } else {
    mode_t mode = special_mode(c, op, p->fd);
    rc = meta_owner_at(j, p->fd, tmp);
    if (rc == OP_OK && mode != 0600)
      rc = meta_mode_at(j, p->fd, tmp, mode);
    if (rc == OP_OK)
      rc = xattrs_by_name(j, type, p->fd, tmp);
    if (rc == OP_OK)
      rc = meta_times_at(j, p->fd, tmp);
    rc = temp_commit(j, p->fd, tmp, name, rc);
    if (rc == OP_OK)
      counter_add(c, C_SPECIALS, 1);
  }
  parent_put(c, p);
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
  int rc = dest_parent(j, op->dst, op->dst_len, &p, name);
  if (rc != OP_OK)
    return rc;
  struct stat a, b;
  if (fstatat(fromfd, from, &a, follow ? 0 : AT_SYMLINK_NOFOLLOW) == 0 && fstatat(p->fd, name, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
      a.st_ino == b.st_ino && a.st_dev == b.st_dev)
    goto ok; /* already linked: renaming a link over itself would leave the temp behind */
  int r = temp_link(c, fromfd, from, follow, p->fd, name, tmp);
  if (r < 0) {
    rc = job_fail(j, errno, "link", where);
    goto done;
  }
  rc = temp_commit(j, p->fd, tmp, name, OP_OK);
  if (rc != OP_OK)
    goto done;
ok:
  counter_add(c, C_HARDLINKS, 1);
done:
  parent_put(c, p);
  return rc;
}

static int do_hardlink(struct job *j)
{
  char sname[NAME_MAX + 1];
  struct parent *sp;
  /* src is destination-relative here: it is resolved beneath the root like any target. */
  int rc = dest_parent(j, j->op->src, j->op->src_len, &sp, sname);
  if (rc != OP_OK) {
    j->err.where = W_LINK;
    return rc;
  }
  rc = link_over(j, sp->fd, sname, W_LINK, 0);
  parent_put(j->c, sp);
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
  int fd = open_no_symlinks(at.rest, O_PATH | O_NOFOLLOW);
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

/* Mkdir with OF_OWNER_BITS on an existing directory of ours that lacks some of the owner's bits, not acting
 * as root: it gets all of them while the run fills it (rsync's generator does the same), through an
 * O_PATH descriptor (no symlink followed; it may be unreadable); its DirMeta gives them back. */
static int open_up(struct job *j, int dirfd, const char *name, const struct stat *st)
{
  const struct ctx *c = j->c;
  if (!(j->op->flags & OF_OWNER_BITS) || c->is_root || (st->st_mode & S_IRWXU) == S_IRWXU || st->st_uid != geteuid())
    return OP_OK;
  int fd = openat(dirfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return job_fail(j, errno, "open", W_DST);
  int rc = meta_chmod_held(fd, (st->st_mode & 07777) | S_IRWXU) == 0 ? OP_OK : job_fail(j, errno, "chmod", W_DST);
  close(fd);
  return rc;
}

/* OF_SETGID (-p): rsync's generator sets a directory's mode when it visits it, before it makes anything
 * inside; of the mode only the set-group-ID bit changes what is made there (a new entry takes a set-gid
 * directory's group, a new subdirectory the bit too), so only it is set now: the rest waits for DirMeta,
 * which keeps the run's owner bits until the directory is filled. Through an O_PATH descriptor (no
 * symlink followed; it may be unreadable). A failure is left to DirMeta, which sets the same mode at
 * the end and reports it in rsync's words; the directory's contents are still made. */
static void visit_setgid(struct job *j)
{
  int fd = dest_open(j->c, j->op->dst, j->op->dst_len, O_PATH | O_DIRECTORY);
  if (fd < 0)
    return;
  struct stat st;
  if (fstat(fd, &st) == 0 && ((st.st_mode ^ j->op->mode) & S_ISGID)) {
    char pinned[64];
    snprintf(pinned, sizeof pinned, "/proc/self/fd/%d", fd);
    (void)fchmodat(AT_FDCWD, pinned, (st.st_mode & 07777 & ~(mode_t)S_ISGID) | (j->op->mode & S_ISGID), 0);
  }
  close(fd);
}

/* OF_VISIT_ACL (-A without -p): rsync's generator sets a directory's ACLs when it visits it, before it
 * makes anything inside, and a new entry's bits come from the directory's default ACL then (dest_mode,
 * default_perms_for_dir); so its default ACL is set now (meta_visit_default_acl), the rest by DirMeta,
 * which sets the same at the end and reports a failure. */
static void visit_default_acl(struct job *j)
{
  int dfd = dest_open(j->c, j->op->dst, j->op->dst_len, O_PATH | O_DIRECTORY);
  if (dfd < 0)
    return;
  int sfd = -1;
  struct stat st;
  if (src_open(j, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, S_IFDIR, &sfd, &st) == OP_OK)
    meta_visit_default_acl(sfd, dfd);
  j->err = (struct operr){0}; /* a source gone or changed is DirMeta's to report */
  if (sfd >= 0)
    close(sfd);
  close(dfd);
}

static int do_mkdir(struct job *j)
{
  struct ctx *c = j->c;
  const struct op *op = j->op;
  if (op->dst_len == 0) {
    if (op->flags & OF_SETGID)
      visit_setgid(j);
    if (op->flags & OF_VISIT_ACL)
      visit_default_acl(j);
    counter_add(c, C_DIRS, 1);
    return OP_OK; /* the root exists: we hold it open */
  }
  char name[NAME_MAX + 1];
  struct parent *p;
  int rc = dest_parent(j, op->dst, op->dst_len, &p, name);
  if (rc != OP_OK)
    return rc;
  /* Owner-writable until DirMeta, so that the directory's contents can be created. */
  mode_t mode = (c->flags & P_PERMS) ? 0700 : (op->mode & 0777) | 0700;
  bool made = true;
  if (mkdirat(p->fd, name, mode) == 0)
    goto ok;
  made = false;
  if (errno != EEXIST) {
    rc = job_fail(j, errno, "mkdir", W_DST);
    goto done;
  }
  struct stat st;
  /* -K: a symlink to a directory counts as the directory (resolution keeps it beneath the root). */
  int follow = (c->flags & P_KEEP_DIRLINKS) ? 0 : AT_SYMLINK_NOFOLLOW;
  if (fstatat(p->fd, name, &st, follow) == 0 && S_ISDIR(st.st_mode)) {
    rc = open_up(j, p->fd, name, &st);
    if (rc == OP_OK)
      goto ok;
    goto done;
  }
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
  made = true;
ok:
  if (op->flags & OF_SETGID) {
    /* A new directory has its parent's set-gid bit (mkdir ignores the one in its mode): one fstat of
     * the held parent tells whether it already has the op's. An existing one is flagged only when its
     * bit differs (run/dirs.ts). */
    struct stat pst;
    if (!made || fstat(p->fd, &pst) < 0 || ((pst.st_mode ^ op->mode) & S_ISGID))
      visit_setgid(j);
  }
  if (op->flags & OF_VISIT_ACL)
    visit_default_acl(j);
  counter_add(c, C_DIRS, 1);
done:
  parent_put(c, p);
  return rc;
}

/* The source side of DirMeta/Attrs: read only for xattrs, so O_PATH (which also works on
 * unreadable directories) unless xattrs are copied. */
static int open_meta_source(struct job *j, mode_t type, int *fd)
{
  struct ctx *c = j->c;
  struct stat st;
  bool x = (c->flags & (P_XATTRS | P_ACLS)) != 0;
  int kind = (type == S_IFDIR ? O_DIRECTORY : 0) | O_NOFOLLOW | O_CLOEXEC;
  int rc = src_open(j, (x ? O_RDONLY | O_NONBLOCK : O_PATH) | kind, type, fd, &st);
  /* One the user may not read (another's directory, mode 0700): rsync reads attributes by path, which
   * needs no read permission for the names and the ACLs; so O_PATH, read through its /proc name (meta.c). */
  if (rc == OP_FAIL && x && j->err.no == EACCES) {
    j->err = (struct operr){0};
    rc = src_open(j, O_PATH | kind, type, fd, &st);
  }
  return rc;
}

static int do_dirmeta(struct job *j)
{
  int dfd = dest_open(j->c, j->op->dst, j->op->dst_len, O_RDONLY | O_DIRECTORY);
  if (dfd < 0)
    return job_fail(j, -dfd, "open", W_DST);
  int sfd = -1;
  int rc = open_meta_source(j, S_IFDIR, &sfd);
  /* Only what differs is set, as for any entry: a directory we may write into but do not own (an
   * existing destination, another user's tree) already has the mode and owner rsync would leave, and a
   * chmod there would fail with EPERM where rsync, which compares first, never tries. A directory we
   * made is 0700 until now, so its mode differs and is set. */
  if (rc == OP_OK)
    rc = attrs_fd(j, sfd, dfd, true); /* an existing directory loses the xattrs the source lacks */
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
  /* --fake-super receiving: every type but a directory is a regular file on disk. */
  mode_t disk = (c->flags & P_FAKE_SUPER) && type != S_IFDIR ? S_IFREG : type;
  if (disk == S_IFREG || type == S_IFDIR) {
    int fd;
    if (type == S_IFDIR) {
      fd = dest_open(c, op->dst, op->dst_len, O_RDONLY | O_DIRECTORY);
    } else {
      char name[NAME_MAX + 1];
      struct parent *p;
      int rc = dest_parent(j, op->dst, op->dst_len, &p, name);
      if (rc != OP_OK)
        return rc;
      fd = openat(p->fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
      /* A file of ours that we may not read (mode 000): rsync sets its attributes by name all the same.
       * Held by O_PATH instead (the meta setters reach it through /proc/self/fd); xattrs and ACLs need a
       * readable descriptor, so with -X/-A (and --fake-super's records) the open's error stands. */
      if (fd < 0 && errno == EACCES && !c->is_root && type == S_IFREG && disk == S_IFREG &&
          !(c->flags & (P_XATTRS | P_ACLS | P_FAKE_SUPER)))
        fd = openat(p->fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
      fd = fd < 0 ? -errno : fd;
      parent_put(c, p);
    }
    if (fd < 0)
      return job_fail(j, -fd, "open", W_DST);
    struct stat ts;
    int rc = OP_OK, sfd = -1;
    if (fstat(fd, &ts) < 0)
      rc = job_fail(j, errno, "fstat", W_DST);
    else if ((ts.st_mode & S_IFMT) != disk &&
             !((c->flags & P_WRITE_DEVICES) && disk == S_IFREG && (S_ISCHR(ts.st_mode) || S_ISBLK(ts.st_mode))))
      rc = job_fail(j, ESTALE, "fstat", W_DST); /* --write-devices: a device stands for the file */
    if (rc == OP_OK && (c->flags & (P_XATTRS | P_ACLS)) && type == disk)
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
  int rc = dest_parent(j, op->dst, op->dst_len, &p, name);
  if (rc != OP_OK)
    return rc;
  rc = meta_owner_at(j, p->fd, name);
  if (rc == OP_OK && type != S_IFLNK && (c->flags & P_PERMS))
    rc = meta_mode_at(j, p->fd, name, op->mode & 07777);
  if (rc == OP_OK)
    rc = xattrs_by_name(j, type, p->fd, name);
  if (rc == OP_OK)
    rc = meta_times_at(j, p->fd, name);
  parent_put(c, p);
  return rc;
}

bool parent_open_up(int dirfd)
{
  struct stat pst;
  if (fstat(dirfd, &pst) < 0 || !S_ISDIR(pst.st_mode) || (pst.st_mode & S_IWUSR) || pst.st_uid != geteuid())
    return false;
  return meta_chmod_held(dirfd, (pst.st_mode & 07777) | S_IWUSR) == 0;
}

void owner_write_first(const struct ctx *c, const struct op *op, int dirfd, const char *name)
{
  if (c->is_root || (op->mode & S_IWUSR) || op->uid != geteuid() || S_ISLNK(op->mode))
    return;
  int fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return;
  struct stat st;
  if (fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == (op->mode & S_IFMT) && !(st.st_mode & S_IWUSR) && st.st_uid == geteuid()) {
    char pinned[64];
    snprintf(pinned, sizeof pinned, "/proc/self/fd/%d", fd);
    (void)fchmodat(AT_FDCWD, pinned, (st.st_mode & 07777) | S_IWUSR, 0);
  }
  close(fd);
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
  int rc = dest_parent(j, j->op->dst, j->op->dst_len, &p, name);
  bool only = (j->op->flags & OF_OWNER_WRITE_ONLY) != 0;
  if (rc != OP_OK && only) {
    j->err = (struct operr){0}; /* what rsync does before a deletion it does not make reports nothing */
    return OP_OK;
  }
  if (rc != OP_OK)
    return rc;
  owner_write_first(c, j->op, p->fd, name);
  if (only) {
    parent_put(c, p);
    return OP_OK;
  }
  int r = unlinkat(p->fd, name, dir ? AT_REMOVEDIR : 0);
  if (r < 0 && errno == EACCES && !c->is_root && (j->op->flags & OF_OWNER_WRITE) && parent_open_up(p->fd))
    r = unlinkat(p->fd, name, dir ? AT_REMOVEDIR : 0);
  if (r == 0)
    counter_add(c, C_DELETED, 1);
  else if (errno != ENOENT)
    rc = job_fail(j, errno, sys, W_DST);
  parent_put(c, p);
  return rc;
}

int ops_dispatch(struct job *j)
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
  case OP_DELAYED:
    return partial_delayed(j);
  case OP_PARTIAL_USED:
    return partial_used(j);
  }
  return job_fail(j, EINVAL, "open", W_DST); /* batch_next already rejects unknown kinds */
}
