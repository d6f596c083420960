/* Metadata on the destination: fchown, fchmod, xattrs (including POSIX ACLs, which are the
 * system.posix_acl_* xattrs), futimens. Everything is applied to an fd we created or opened
 * beneath the root, or by name relative to such a directory with AT_SYMLINK_NOFOLLOW. */
#include "meta.h"

#include "aclids.h"
#include "aclmode.h"
#include "fakesuper.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

/* rsync's FLAG_SKIP_GROUP: not acting as root, a group we are not a member of is left alone (the
 * twin of memberGids in src/plan/quickcheck.ts). */
static bool member_gid(const struct ctx *c, gid_t g)
{
  if (c->ngroups < 0)
    return true;
  for (int i = 0; i < c->ngroups; i++)
    if (c->groups[i] == g)
      return true;
  return false;
}

static bool owner_ids(struct job *j, uid_t *u, gid_t *g)
{
  const struct ctx *c = j->c;
  *u = (uid_t)-1;
  *g = (gid_t)-1;
  /* --fake-super: owners live in the entry's user.rsync.%stat record (fake_stat_set), never chown. */
  if (c->flags & P_FAKE_SUPER)
    return false;
  /* Only root can give a file away; rsync silently keeps our uid otherwise. */
  if ((c->flags & P_OWNER) && c->is_root)
    *u = j->op->uid;
  if ((c->flags & P_GROUP) && (c->is_root || member_gid(c, j->op->gid)))
    *g = j->op->gid;
  return *u != (uid_t)-1 || *g != (gid_t)-1;
}

/* As non-root, a group we are not a member of is EPERM; rsync ignores that too. */
static bool ignorable_chown(const struct job *j, int e, uid_t u)
{
  return e == EPERM && !j->c->is_root && u == (uid_t)-1;
}

/* A chown of the file `made` describes to u/g would change nothing (-1: left alone). */
static bool owned_as(const struct stat *made, uid_t u, gid_t g)
{
  return made && (u == (uid_t)-1 || u == made->st_uid) && (g == (gid_t)-1 || g == made->st_gid);
}

/* The *_fd setters also take an O_PATH descriptor (do_attrs holds a file of ours that we may not read
 * so): fchown, fchmod and futimens refuse one with EBADF, and the same inode is then reached through
 * AT_EMPTY_PATH or its /proc/self/fd link, never through a name. */
static void held_link(char at[32], int fd)
{
  snprintf(at, 32, "/proc/self/fd/%d", fd);
}

int meta_chmod_held(int fd, mode_t mode)
{
  char at[32];
  held_link(at, fd);
  return chmod(at, mode);
}

static int owner_fd(struct job *j, int fd, const struct stat *made)
{
  uid_t u;
  gid_t g;
  if (!owner_ids(j, &u, &g) || owned_as(made, u, g))
    return OP_OK;
  int r = fchown(fd, u, g);
  if (r < 0 && errno == EBADF)
    r = fchownat(fd, "", u, g, AT_EMPTY_PATH);
  if (r < 0 && !ignorable_chown(j, errno, u))
    return job_fail(j, errno, "fchown", W_DST);
  return OP_OK;
}

int meta_owner_fd(struct job *j, int fd)
{
  return owner_fd(j, fd, NULL);
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
  if (j->c->flags & P_FAKE_SUPER)
    return fake_stat_set(j, fd, mode);
  int r = fchmod(fd, mode);
  if (r < 0 && errno == EBADF)
    r = meta_chmod_held(fd, mode);
  if (r < 0)
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

/* The times this op's entry gets: the mtime with -t, the access time with -U (whole seconds, as rsync
 * sets it; never on directories), neither on a symlink under -J. False when there is nothing to set. */
static bool op_times(const struct job *j, struct timespec ts[2])
{
  uint32_t f = j->c->flags;
  if ((f & P_OMIT_LINK_TIMES) && S_ISLNK(j->op->mode))
    return false;
  bool m = (f & P_TIMES) != 0, a = (f & P_ATIMES) && !S_ISDIR(j->op->mode);
  ts[0] = a ? (struct timespec){.tv_sec = (time_t)j->op->atime_sec, .tv_nsec = 0} : (struct timespec){.tv_nsec = UTIME_OMIT};
  ts[1] = m ? (struct timespec){.tv_sec = (time_t)j->op->mtime_sec, .tv_nsec = (long)j->op->mtime_nsec}
            : (struct timespec){.tv_nsec = UTIME_OMIT};
  return m || a;
}

bool meta_both_times_fs(long type)
{
  return type == 0x65735546; /* FUSE_SUPER_MAGIC */
}

/* A FUSE filesystem built on libfuse 2 (exfat-fuse, fusefat) silently drops a time change that
 * names only one of the two times: its setattr calls the daemon's utimens only when both are given
 * (UTIME_OMIT needs a flag few daemons set). There an omitted time is filled in with the one the
 * entry has now, as rsync always does; one fstat more per entry, only on FUSE, whose every call is a
 * round trip to its daemon anyway. `name` NULL: dirfd is the entry's own fd. */
void meta_fill_times(const struct ctx *c, struct timespec ts[2], int dirfd, const char *name)
{
  if (!c->both_times || (ts[0].tv_nsec != UTIME_OMIT && ts[1].tv_nsec != UTIME_OMIT))
    return;
  struct stat st;
  if ((name ? fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) : fstat(dirfd, &st)) < 0)
    return; /* the change is made as asked; a filesystem that drops it loses only that time */
  if (ts[0].tv_nsec == UTIME_OMIT)
    ts[0] = st.st_atim;
  if (ts[1].tv_nsec == UTIME_OMIT)
    ts[1] = st.st_mtim;
}

int meta_times_fd(struct job *j, int fd)
{
  struct timespec ts[2];
  if (!op_times(j, ts))
    return OP_OK;
  meta_fill_times(j->c, ts, fd, NULL);
  int r = futimens(fd, ts);
  if (r < 0 && errno == EBADF) {
    char at[32];
    held_link(at, fd);
    r = utimensat(AT_FDCWD, at, ts, 0);
  }
  if (r < 0)
    return job_fail(j, errno, "futimes", W_DST);
  return OP_OK;
}

int meta_times_at(struct job *j, int dirfd, const char *name)
{
  struct timespec ts[2];
  if (!op_times(j, ts))
    return OP_OK;
  meta_fill_times(j->c, ts, dirfd, name);
  if (utimensat(dirfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
    return job_fail(j, errno, "lutimes", W_DST);
  return OP_OK;
}

static bool has_prefix(const char *s, const char *p)
{
  return strncmp(s, p, strlen(p)) == 0;
}

int meta_xattr_class(uint32_t flags, bool is_root, const char *name, bool dir)
{
  /* rsync's rules: user.* always; security.* and trusted.* need root (rsync skips them otherwise,
   * and setting e.g. security.capability would fail every file); system.* only for the ACLs. */
  if (flags & P_XATTRS) {
    if (has_prefix(name, "user."))
      return XC_XATTR;
    if (is_root && (has_prefix(name, "security.") || has_prefix(name, "trusted.")))
      return XC_XATTR;
  }
  if (flags & P_ACLS) {
    if (strcmp(name, "system.posix_acl_access") == 0)
      return XC_ACL;
    if (dir && strcmp(name, "system.posix_acl_default") == 0)
      return XC_ACL;
  }
  return 0;
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

/* No xattr support on a filesystem simply means an empty set. */
static bool no_xattrs(int e)
{
  return e == ENOTSUP || e == ENOSYS;
}

static ssize_t x_list(struct xnode n, char *buf, size_t cap)
{
  if (n.fd >= 0)
    return flistxattr(n.fd, buf, cap);
  return n.magic ? listxattr(n.path, buf, cap) : llistxattr(n.path, buf, cap);
}

static ssize_t x_get(struct xnode n, const char *name, void *buf, size_t cap)
{
  if (n.fd >= 0)
    return fgetxattr(n.fd, name, buf, cap);
  return n.magic ? getxattr(n.path, name, buf, cap) : lgetxattr(n.path, name, buf, cap);
}

static int x_set(struct xnode n, const char *name, const void *val, size_t len)
{
  if (n.fd >= 0)
    return fsetxattr(n.fd, name, val, len, 0);
  return n.magic ? setxattr(n.path, name, val, len, 0) : lsetxattr(n.path, name, val, len, 0);
}

static int x_remove(struct xnode n, const char *name)
{
  if (n.fd >= 0)
    return fremovexattr(n.fd, name);
  return n.magic ? removexattr(n.path, name) : lremovexattr(n.path, name);
}

/* The name list into *buf (grown as needed); length, 0 without xattr support, or -errno. */
static ssize_t list_all(struct xnode n, char **buf, size_t *cap)
{
  /* A zero size would ask for the length instead of the names. */
  if (!grow(buf, cap, 4096))
    return -ENOMEM;
  for (;;) {
    ssize_t len = x_list(n, *buf, *cap);
    if (len >= 0)
      return len;
    if (no_xattrs(errno))
      return 0;
    if (errno != ERANGE)
      return -errno;
    ssize_t need = x_list(n, NULL, 0);
    if (need < 0)
      return -errno;
    if (!grow(buf, cap, (size_t)need + 256))
      return -ENOMEM;
  }
}

/* One value into *buf; length or -errno (-ENODATA when the name is absent). */
static ssize_t get_one(struct xnode n, const char *name, char **buf, size_t *cap)
{
  if (!grow(buf, cap, 4096))
    return -ENOMEM;
  for (;;) {
    ssize_t v = x_get(n, name, *buf, *cap);
    if (v >= 0)
      return v;
    if (errno != ERANGE)
      return no_xattrs(errno) ? -ENODATA : -errno;
    ssize_t need = x_get(n, name, NULL, 0);
    if (need < 0)
      return -errno;
    if (!grow(buf, cap, (size_t)need + 256))
      return -ENOMEM;
  }
}

ssize_t meta_xattr_names(struct xnode n, char **buf, size_t *cap)
{
  return list_all(n, buf, cap);
}

ssize_t meta_xattr_value(struct xnode n, const char *name, char **buf, size_t *cap)
{
  return get_one(n, name, buf, cap);
}

static bool in_list(const char *list, ssize_t len, const char *name)
{
  for (ssize_t i = 0; i < len; i += (ssize_t)strlen(list + i) + 1)
    if (strcmp(list + i, name) == 0)
      return true;
  return false;
}

/* Whether a source ACL changes form on its way: --fake-super -A keeps ACLs as records on the
 * receiving side, or (only the sender faking) reads the source's records as its ACLs (fakesuper.h). */
static bool acl_converts(const struct ctx *c, uint32_t flags)
{
  return fake_acls(c->flags, flags) || fake_source_acls(c->flags, flags);
}

/* The x-rules one pass over an entry's names judges them in (xfilter.h "An op's views"): the sending
 * side's view (the op's own, or the context's rules), and the receiving side's (the context's: rsync's
 * receiver reads no per-directory file; or the op's generator view while rsync's generator compares). */
struct xsides {
  const uint8_t *send, *recv;
  uint32_t send_len, recv_len;
  bool send_own, recv_own;
};

/* An op's views for a pass: `generator` for a comparison (the generator's view, when the op has one). */
static struct xsides sides_of(const struct op *op, bool generator)
{
  struct xview v;
  xview_of(op ? op->xrules : NULL, op ? op->xrules_len : 0, &v);
  struct xsides x = {.send = v.send, .send_len = v.send_len, .send_own = v.own};
  if (generator && v.has_gen)
    x = (struct xsides){.send = x.send, .send_len = x.send_len, .send_own = x.send_own, .recv = v.gen, .recv_len = v.gen_len, .recv_own = true};
  return x;
}

/* Whether a side has seen x-rules (rsync's saw_xattr_filter, which sets aside its namespace rule): the
 * command line's, or, for this entry, the ones its own view holds. */
static bool sender_rules(const struct ctx *c, const struct xsides *x)
{
  return c->xf.count || (x->send_own && x->send_len);
}

static bool receiver_rules(const struct ctx *c, const struct xsides *x)
{
  return c->xf.count || (x->recv_own && x->recv_len);
}

/* Whether a source name (`src`: in both views, as rsync's sender lists it and its receiver takes it) or a
 * destination name (the receiving side's view alone) is excluded. */
static bool xs_excluded(const struct ctx *c, const struct xsides *x, const char *name, bool src)
{
  bool recv = x->recv_own ? xrules_excluded(x->recv, x->recv_len, name, false) : xfilter_excluded(&c->xf, name, false);
  if (recv || !src)
    return recv;
  return x->send_own ? xrules_excluded(x->send, x->send_len, name, true) : xfilter_excluded(&c->xf, name, true);
}

/* A name's class on the source or the destination side: under --fake-super -A the ACLs are records
 * on a faking side (fakesuper.h), so a source ACL may be kept under another name on the destination. */
static int side_class(const struct ctx *c, const struct xsides *x, uint32_t flags, const char *name, bool dir, bool src)
{
  if (acl_converts(c, flags)) {
    int a = fake_acl_class(c->flags, name, dir, src);
    if (a)
      return a;
    flags &= ~P_ACLS;
  }
  /* rsync's own records (user.rsync.%stat, %aacl, %dacl): its sender sends none with one -X, and its
   * receiver ignores them only when it fakes (else a stale one is removed like any other). With -XX
   * (which rsync refuses with --fake-super) they are attributes like any other on both sides. */
  int cls;
  if (fake_reserved_xattr(name) && !(c->flags & P_XATTRS_ALL))
    cls = !src && !(c->flags & P_FAKE_SUPER) ? meta_xattr_class(flags, c->is_root, name, dir) : 0;
  else
    cls = meta_xattr_class(flags, c->is_root, name, dir);
  bool rules = src ? sender_rules(c, x) || receiver_rules(c, x) : receiver_rules(c, x);
  if (!rules || !(flags & P_XATTRS) || cls == XC_ACL)
    return cls;
  /* x-rules: a source name goes when neither the sender's view nor the receiver's excludes it (rsync's
   * sender leaves it out of the list, its receiver drops it on receipt); a destination name is left
   * alone (never compared or removed) when the receiver's view excludes it. Past them, the rules replace
   * the namespace rule, as rsync's rsync_xal_get and rsync_xal_set do: a root receiver copies every
   * namespace the source has (system.* too: an ACL without -A goes as an xattr), and any destination
   * name the source lacks is removed, root or not. rsync's own records keep their rule. (A receiver that
   * is not root still leaves a source's other namespaces out: rsync's keeps them as user.rsync.NAME.)
   * Where only per-directory files hold x-rules, each side sets its namespace rule aside only once it
   * has seen one (rsync's saw_xattr_filter): the sender for the entries whose view holds one, the
   * receiver when its generator read one in the destination. */
  if (xs_excluded(c, x, name, src))
    return 0;
  if (fake_reserved_xattr(name) && !(c->flags & P_XATTRS_ALL))
    return cls;
  if (!src || (c->is_root && sender_rules(c, x)))
    return XC_XATTR;
  return cls;
}

/* Whether an ACL name (system.posix_acl_*) is also in rsync's xattr lists: once x-rules are given they
 * replace the namespace rule that leaves system.* out (rsync_xal_get), so under -AX the ACL is compared
 * twice, as an ACL ('a') and by its bytes as an xattr ('x'), unless a rule excludes the name. The
 * source's name passes both views, the destination's the receiver's (as side_class). */
static bool acl_listed(const struct ctx *c, const struct xsides *x, uint32_t flags, const char *name, bool src)
{
  if (!(src ? sender_rules(c, x) : receiver_rules(c, x)) || !(flags & P_XATTRS) || (c->flags & (P_FAKE_SUPER | P_FAKE_SOURCE)))
    return false;
  return !xs_excluded(c, x, name, src);
}

/* A source attribute as the destination keeps it: its name there, and its value (converted into
 * conv: a record, or a record made an ACL fitted to `dm`, the destination's mode); false when it makes
 * neither. */
static bool dest_form(const struct ctx *c, int cls, const char **name, const char **val, ssize_t *len, char *conv, size_t cap, mode_t dm)
{
  if (cls != XC_ACL || !acl_converts(c, c->flags))
    return true;
  long n = fake_source_acls(c->flags, c->flags) ? fake_acl_kernel(*name, (const unsigned char *)*val, (size_t)*len, dm, conv, cap)
                                                : fake_acl_value(c->flags, *name, (const unsigned char *)*val, (size_t)*len, conv, cap);
  if (n <= 0)
    return false; /* none (or one we cannot read: left as the mode bits say) */
  *name = fake_acl_dest_name(c->flags, *name);
  *val = conv;
  *len = n;
  return true;
}

#define ACL_CONV_MAX 65552

/* The destination refused one attribute (ramfs, vfat or FUSE without xattrs, a value too large for
 * ext4, a read-only ACL...). rsync reports each and goes on: the data, the other attributes and the
 * rename still happen, and exec_finish then marks the op failed (exit 23). */
static void refused(struct job *j, int no, const char *sys, const char *name)
{
  struct operr e = {.no = no, .sys = sys, .where = W_DST};
  size_t n = strlen(name);
  if (n >= sizeof e.attr)
    n = sizeof e.attr - 1;
  memcpy(e.attr, name, n);
  e.attr[n] = 0;
  failures_push(&j->c->fails, j->op, e);
  counter_add(j->c, C_ERRORS, 1);
  j->refused++;
}

#define ACL_ACCESS_NAME "system.posix_acl_access"

/* A holder's mode; 0 when it cannot be read. */
static mode_t node_mode(struct xnode n)
{
  struct stat st;
  int r = n.fd >= 0 ? fstat(n.fd, &st) : n.magic ? stat(n.path, &st) : lstat(n.path, &st);
  return r == 0 ? st.st_mode : 0;
}

/* The source's access ACL value (in c->xval, which it may change) as it is written to dst: fitted to the
 * mode dst has by now (set before the xattrs: --chmod, -p off, -E), as rsync's receiver writes it. The
 * mode rsync's sender stripped it against is the one it lists: with -p the one dst now has (--chmod
 * applied), else the source's. */
static void fit_access_acl(const struct ctx *c, char *val, ssize_t len, struct xnode src, struct xnode dst)
{
  mode_t sm = node_mode(src), dm = node_mode(dst);
  if (sm && dm)
    acl_access_fit((unsigned char *)val, (size_t)len, (c->flags & P_PERMS) ? dm : sm, dm);
}

/* Whether src's access ACL (value sv, or NULL for none) is dst's (dv, or NULL) as rsync compares them. */
static bool access_acl_same(const char *sv, ssize_t slen, const char *dv, ssize_t dlen)
{
  return acl_access_same((const unsigned char *)sv, sv ? (size_t)slen : 0, (const unsigned char *)dv, dv ? (size_t)dlen : 0);
}

/* A source descriptor as an xnode: one opened O_PATH (an entry the user may not read, ops.c
 * open_meta_source) has no f*xattr calls and is read through its /proc/self/fd name, kept in `name`. */
static struct xnode src_node(int fd, char name[32])
{
  int fl = fcntl(fd, F_GETFL);
  if (fl >= 0 && (fl & O_PATH)) {
    snprintf(name, 32, "/proc/self/fd/%d", fd);
    return (struct xnode){.fd = -1, .path = name, .magic = true};
  }
  return (struct xnode){.fd = fd};
}

int meta_xattrs_fd(struct job *j, int srcfd, int dstfd, bool dir)
{
  struct ctx *c = j->c;
  if (!(c->flags & (P_XATTRS | P_ACLS)))
    return OP_OK;
  char pinned[32];
  struct xnode src = src_node(srcfd, pinned);
  ssize_t n = list_all(src, &c->xnames, &c->xnames_cap);
  if (n < 0)
    return job_fail(j, (int)-n, "listxattr", W_SRC);
  struct xsides x = sides_of(j->op, false);
  char *conv = acl_converts(c, c->flags) ? malloc(ACL_CONV_MAX) : NULL;
  for (ssize_t i = 0; i < n; i += (ssize_t)strlen(c->xnames + i) + 1) {
    const char *name = c->xnames + i;
    int cls = side_class(c, &x, c->flags, name, dir, true);
    if (!cls)
      continue;
    ssize_t v = get_one(src, name, &c->xval, &c->xval_cap);
    if (v == -ENODATA) /* removed since the listing */
      continue;
    if (v < 0) {
      free(conv);
      return job_fail(j, (int)-v, "getxattr", W_SRC);
    }
    const char *val = c->xval;
    if (cls == XC_ACL && !acl_converts(c, c->flags))
      acl_ids_apply((unsigned char *)c->xval, (size_t)v);
    if (cls == XC_ACL && acl_converts(c, c->flags) &&
        (!conv || !dest_form(c, cls, &name, &val, &v, conv, ACL_CONV_MAX, node_mode((struct xnode){.fd = dstfd}))))
      continue;
    if (cls == XC_ACL && !acl_converts(c, c->flags) && strcmp(name, ACL_ACCESS_NAME) == 0)
      fit_access_acl(c, c->xval, v, src, (struct xnode){.fd = dstfd});
    if (fsetxattr(dstfd, name, val, (size_t)v, 0) < 0)
      refused(j, errno, "setxattr", name);
  }
  free(conv);
  /* A new entry made in a directory with a default ACL inherited ACLs of its own: where the source has
   * none, rsync's set_acl leaves it none (the mode says it all; a named entry held back by the mask
   * would otherwise come back with a later chmod). The mode's group bits are the mask already. */
  if ((c->flags & P_ACLS) && !acl_converts(c, c->flags)) {
    static const char *const names[] = {ACL_ACCESS_NAME, "system.posix_acl_default"};
    for (int k = 0; k < (dir ? 2 : 1); k++) {
      const char *an = names[k];
      if (!side_class(c, &x, c->flags, an, dir, false))
        continue;
      if (in_list(c->xnames, n, an) && side_class(c, &x, c->flags, an, dir, true))
        continue;
      if (fremovexattr(dstfd, an) < 0 && errno != ENODATA && errno != ENOTSUP)
        refused(j, errno, "removexattr", an);
    }
  }
  return OP_OK;
}

/* Compares (and with dstfd >= 0 for writing, repairs) dst's copied xattrs against src's.
 * Returns the XC_* classes that differed (XC_ACL_ACCESS too when the access ACL did), or -1 with
 * j->err set. The access ACL is compared as rsync does (aclmode.h), not byte for byte. */
static int reconcile_pass(struct job *j, const struct xsides *x, uint32_t flags, struct xnode src, struct xnode dst, bool dir, bool fix)
{
  struct ctx *c = j->c;
  char *dnames = NULL, *dval = NULL;
  size_t dcap = 0, dvcap = 0;
  int diff = 0, rc = 0;
  /* fake: the destination keeps ACLs as records; fsrc: the source's records are its ACLs. */
  bool fake = fake_acls(c->flags, flags), fsrc = fake_source_acls(c->flags, flags);
  /* Under --fake-super -A: which destination records (or ACLs) the source's ACLs make. */
  bool made_access = false, made_default = false;
  char *conv = fake || fsrc ? malloc(ACL_CONV_MAX) : NULL;
  if ((fake || fsrc) && !conv) {
    rc = job_fail(j, ENOMEM, "getxattr", W_SRC);
    goto out;
  }
  ssize_t n = list_all(src, &c->xnames, &c->xnames_cap);
  if (n < 0) {
    rc = job_fail(j, (int)-n, "listxattr", W_SRC);
    goto out;
  }
  ssize_t dn = list_all(dst, &dnames, &dcap);
  if (dn < 0) {
    rc = job_fail(j, (int)-dn, "listxattr", W_DST);
    goto out;
  }
  for (ssize_t i = 0; i < n; i += (ssize_t)strlen(c->xnames + i) + 1) {
    const char *name = c->xnames + i;
    int cls = side_class(c, x, flags, name, dir, true);
    if (!cls)
      continue;
    ssize_t v = get_one(src, name, &c->xval, &c->xval_cap);
    if (v == -ENODATA)
      continue;
    if (v < 0) {
      rc = job_fail(j, (int)-v, "getxattr", W_SRC);
      goto out;
    }
    const char *val = c->xval;
    if (!fake && !fsrc && cls == XC_ACL)
      acl_ids_apply((unsigned char *)c->xval, (size_t)v);
    if ((fake || fsrc) && cls == XC_ACL) {
      if (!dest_form(c, cls, &name, &val, &v, conv, ACL_CONV_MAX, node_mode(dst)))
        continue;
      if (strcmp(name, fake ? "user.rsync.%aacl" : ACL_ACCESS_NAME) == 0)
        made_access = true;
      else
        made_default = true;
    }
    ssize_t dv = get_one(dst, name, &dval, &dvcap);
    if (dv < 0 && dv != -ENODATA) {
      rc = job_fail(j, (int)-dv, "getxattr", W_DST);
      goto out;
    }
    bool access = !fake && cls == XC_ACL && strcmp(name, ACL_ACCESS_NAME) == 0;
    bool bytes_same = dv == v && memcmp(dval, val, (size_t)v) == 0;
    if (!fake && cls == XC_ACL && !bytes_same && acl_listed(c, x, flags, name, true))
      diff |= XC_ACL_RAW;
    if (access ? access_acl_same(val, v, dv >= 0 ? dval : NULL, dv) : bytes_same)
      continue;
    diff |= cls | (access ? XC_ACL_ACCESS : 0);
    if (fix && access && !fsrc)
      fit_access_acl(c, c->xval, v, src, dst);
    if (fix && x_set(dst, name, val, (size_t)v) < 0)
      refused(j, errno, "setxattr", name);
  }
  for (ssize_t i = 0; i < dn; i += (ssize_t)strlen(dnames + i) + 1) {
    const char *name = dnames + i;
    int cls = side_class(c, x, flags, name, dir, false);
    if (!cls)
      continue;
    /* An ACL name in the receiver's xattr list that the sender's lacks (or left out by a sender-side
     * rule): an xattr to remove, to rsync. */
    if (!fake && cls == XC_ACL && acl_listed(c, x, flags, name, false) &&
        !(in_list(c->xnames, n, name) && acl_listed(c, x, flags, name, true)))
      diff |= XC_ACL_RAW;
    /* Kept when the source has it and copies it: a name the source holds but does not copy (rsync's
     * own records under one -X) is stale here like any other. */
    if ((fake || fsrc) && cls == XC_ACL ? (strcmp(name, fake ? "user.rsync.%aacl" : ACL_ACCESS_NAME) == 0 ? made_access : made_default)
                              : in_list(c->xnames, n, name) && side_class(c, x, flags, name, dir, true))
      continue;
    /* An access ACL the source lacks: the same to rsync when it says no more than the mode. */
    bool access = !fake && cls == XC_ACL && strcmp(name, ACL_ACCESS_NAME) == 0;
    if (access) {
      ssize_t dv = get_one(dst, name, &dval, &dvcap);
      if (dv == -ENODATA || (dv >= 0 && access_acl_same(NULL, 0, dval, dv)))
        continue;
    }
    diff |= cls | (access ? XC_ACL_ACCESS : 0);
    if (fix && x_remove(dst, name) < 0 && errno != ENODATA)
      refused(j, errno, "removexattr", name);
  }
out:
  free(conv);
  free(dnames);
  free(dval);
  return rc == OP_FAIL ? -1 : diff;
}

/* A comparison (`fix` false) is rsync's generator's: in the op's generator view when it has one. A repair
 * is its receiver's, in the context's rules; but an Attrs or DirMeta op (an entry whose data does not
 * move) that has a generator view is first compared in that view, as rsync's generator decides whether
 * its receiver touches the xattrs at all (ITEM_REPORT_XATTR): found the same there, they are repaired in
 * that view (nothing of theirs changes; an ACL that differs is set as the generator sets it). */
static int xattrs_reconcile(struct job *j, uint32_t flags, struct xnode src, struct xnode dst, bool dir, bool fix)
{
  struct xsides gen = sides_of(j->op, true);
  if (!fix)
    return reconcile_pass(j, &gen, flags, src, dst, dir, false);
  struct xsides recv = sides_of(j->op, false);
  if (gen.recv_own && (j->op->kind == OP_ATTRS || j->op->kind == OP_DIRMETA)) {
    int d = reconcile_pass(j, &gen, flags, src, dst, dir, false);
    if (d < 0)
      return d;
    if (!(d & (XC_XATTR | XC_ACL_RAW)))
      return reconcile_pass(j, &gen, flags, src, dst, dir, true);
  }
  return reconcile_pass(j, &recv, flags, src, dst, dir, true);
}

int meta_xattrs_sync_fd(struct job *j, int srcfd, int dstfd, bool dir)
{
  if (!(j->c->flags & (P_XATTRS | P_ACLS)))
    return OP_OK;
  char pinned[32];
  struct xnode s = src_node(srcfd, pinned), d = {.fd = dstfd};
  return xattrs_reconcile(j, j->c->flags, s, d, dir, true) < 0 ? OP_FAIL : OP_OK;
}

int meta_xattrs_diff(struct job *j, uint32_t flags, struct xnode src, struct xnode dst, bool dir)
{
  return xattrs_reconcile(j, flags, src, dst, dir, false);
}

int meta_xattrs_at(struct job *j, int srcfd, int dirfd, const char *name)
{
  if (!(j->c->flags & P_XATTRS) || srcfd < 0)
    return OP_OK;
  char spath[64], dpath[NAME_MAX + 64];
  snprintf(spath, sizeof spath, "/proc/self/fd/%d", srcfd);
  snprintf(dpath, sizeof dpath, "/proc/self/fd/%d/%s", dirfd, name);
  struct xnode s = {.fd = -1, .path = spath, .magic = true}, d = {.fd = -1, .path = dpath};
  return xattrs_reconcile(j, P_XATTRS, s, d, false, true) < 0 ? OP_FAIL : OP_OK;
}

int meta_file(struct job *j, int srcfd, int dstfd, mode_t mode, const struct stat *made)
{
  int rc = owner_fd(j, dstfd, made);
  /* Skip the syscall when the file already has the answer: a named temp was created 0600, an unnamed
   * one with the bits `made` shows (a chown leaves them alone: it was made with no set-id bit). Under
   * --fake-super the record is always written. */
  mode_t have = made ? made->st_mode & 07777 : 0600;
  if (rc == OP_OK && (mode != have || (j->c->flags & P_FAKE_SUPER)))
    rc = meta_mode_fd(j, dstfd, mode);
  if (rc == OP_OK)
    rc = meta_xattrs_fd(j, srcfd, dstfd, false);
  if (rc == OP_OK)
    rc = meta_times_fd(j, dstfd);
  return rc;
}

/* POSIX ACL xattr layout (linux/posix_acl_xattr.h): a le32 version, then le16 tag, le16 perm, le32 id
 * per entry. */
#define ACL_XATTR_HEADER 4
#define ACL_XATTR_ENTRY 8
#define ACL_TAG_USER_OBJ 0x01
#define ACL_TAG_GROUP_OBJ 0x04
#define ACL_TAG_MASK 0x10
#define ACL_TAG_OTHER 0x20

mode_t meta_default_perms(const struct ctx *c, int dirfd)
{
  mode_t dflt = 0777 & ~c->umask;
  char path[40];
  unsigned char buf[4096];
  snprintf(path, sizeof path, "/proc/self/fd/%d", dirfd); /* dirfd may be O_PATH: go through the fd link */
  ssize_t n = getxattr(path, "system.posix_acl_default", buf, sizeof buf);
  if (n < ACL_XATTR_HEADER + ACL_XATTR_ENTRY)
    return dflt; /* none (ENODATA), no ACL support, or too large to matter: the umask, as rsync falls back */
  int user = -1, group = 0, mask = -1, other = 0;
  for (ssize_t i = ACL_XATTR_HEADER; i + ACL_XATTR_ENTRY <= n; i += ACL_XATTR_ENTRY) {
    uint16_t tag, perm;
    memcpy(&tag, buf + i, 2);
    memcpy(&perm, buf + i + 2, 2);
    tag = le16toh(tag);
    perm = le16toh(perm) & 7;
    if (tag == ACL_TAG_USER_OBJ)
      user = perm;
    else if (tag == ACL_TAG_GROUP_OBJ)
      group = perm;
    else if (tag == ACL_TAG_MASK)
      mask = perm;
    else if (tag == ACL_TAG_OTHER)
      other = perm;
  }
  if (user < 0)
    return dflt;
  return (mode_t)((user << 6) | ((mask >= 0 ? mask : group) << 3) | other);
}

void meta_visit_default_acl(int srcfd, int dstfd)
{
  char sp[40], dp[40];
  unsigned char *buf = malloc(ACL_CONV_MAX);
  if (!buf)
    return;
  /* Through the fd links: either may be O_PATH, and no symlink is followed at the last component. */
  snprintf(sp, sizeof sp, "/proc/self/fd/%d", srcfd);
  snprintf(dp, sizeof dp, "/proc/self/fd/%d", dstfd);
  ssize_t n = getxattr(sp, "system.posix_acl_default", buf, ACL_CONV_MAX);
  if (n >= 0)
    acl_ids_apply(buf, (size_t)n);
  if (n >= 0)
    (void)setxattr(dp, "system.posix_acl_default", buf, (size_t)n, 0);
  else if (errno == ENODATA)
    (void)removexattr(dp, "system.posix_acl_default");
  free(buf);
}

mode_t meta_exec_mode(mode_t src, mode_t cur)
{
  mode_t m = cur & 07777;
  if (!(src & 0111))
    m &= ~(mode_t)0111;
  else if (!(cur & 0111))
    m |= (m & 0444) >> 2; /* execute for whoever may read */
  return m;
}

mode_t meta_target_mode(struct job *j, int dirfd, const char *name)
{
  const struct ctx *c = j->c;
  if ((c->flags & P_PERMS) || (j->op->flags & OF_GIVEN_MODE))
    return j->op->mode & 07777;
  struct stat st;
  /* rsync's receiver takes the mode of a file it could open for reading as its basis; one it cannot read
   * (mode 000, say, for a user who is not root) it treats as new. Root reads everything. */
  if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
      (geteuid() == 0 || faccessat(dirfd, name, R_OK, AT_EACCESS) == 0))
    return (c->flags & P_EXECUTABILITY) && S_ISREG(j->op->mode) ? meta_exec_mode(j->op->mode, st.st_mode)
                                                                 : st.st_mode & 07777;
  return j->op->mode & 0777 & meta_default_perms(c, dirfd);
}
