/* --fake-super's xattr record (fakesuper.h): written on the receiving side on the entry's fd,
 * read back by the planner through fakeRead on either side. */
#include "fakesuper.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "args.h"
#include "ctxapi.h"
#include "dest.h"
#include "errors.h"
#include "meta.h"
#include "temp.h"

#define RSYNC_XATTR_PREFIX "user.rsync.%"

bool fake_reserved_xattr(const char *name)
{
  return strncmp(name, RSYNC_XATTR_PREFIX, sizeof RSYNC_XATTR_PREFIX - 1) == 0;
}

struct record {
  mode_t mode;
  unsigned major, minor, uid, gid;
};

/* 1: a record was read, 0: none, -1: an unreadable or corrupt one (errno set). */
static int record_get(int fd, struct record *r)
{
  char buf[256];
  ssize_t n = fgetxattr(fd, FAKE_STAT_XATTR, buf, sizeof buf - 1);
  if (n < 0)
    return errno == ENODATA || errno == ENOTSUP ? 0 : -1;
  buf[n] = 0;
  unsigned mode;
  if (sscanf(buf, "%o %u,%u %u:%u", &mode, &r->major, &r->minor, &r->uid, &r->gid) != 5) {
    errno = EINVAL;
    return -1;
  }
  r->mode = (mode_t)mode;
  return 1;
}

int fake_stat_set(struct job *j, int fd, mode_t perms)
{
  const struct op *op = j->op;
  uint32_t flags = j->c->flags;
  struct stat fst;
  if (fstat(fd, &fst) < 0)
    return job_fail(j, errno, "fstat", W_DST);
  mode_t type = op->mode & S_IFMT;
  mode_t fmode = type | (perms & 07777);
  bool dev = type == S_IFCHR || type == S_IFBLK;
  unsigned major = dev ? major((dev_t)op->rdev) : 0, minor = dev ? minor((dev_t)op->rdev) : 0;
  /* Owner read and write (search on a directory) so that the user can always get at it again. */
  mode_t disk = (fst.st_mode & S_IFMT) | (perms & 0777) | (S_ISDIR(fst.st_mode) ? 0700 : 0600);
  if ((fst.st_mode & (S_IFMT | 07777)) != disk && fchmod(fd, disk & 07777) < 0)
    return job_fail(j, errno, "fchmod", W_DST);
  unsigned uid = (flags & P_OWNER) ? (unsigned)op->uid : (unsigned)fst.st_uid;
  unsigned gid = (flags & P_GROUP) ? (unsigned)op->gid : (unsigned)fst.st_gid;
  struct record old;
  int have = record_get(fd, &old);
  if (have < 0 && errno != EINVAL)
    return job_fail(j, errno, "getxattr", W_DST);
  if (disk == fmode && !dev && fst.st_uid == uid && fst.st_gid == gid) {
    if (have && fremovexattr(fd, FAKE_STAT_XATTR) < 0 && errno != ENODATA)
      return job_fail(j, errno, "removexattr", W_DST);
    return OP_OK;
  }
  if (have == 1 && old.mode == fmode && old.major == major && old.minor == minor && old.uid == uid && old.gid == gid)
    return OP_OK;
  char buf[128];
  int len = snprintf(buf, sizeof buf, "%o %u,%u %u:%u", (unsigned)fmode, major, minor, uid, gid);
  if (fsetxattr(fd, FAKE_STAT_XATTR, buf, (size_t)len, 0) < 0)
    return job_fail(j, errno, "setxattr", W_DST);
  return OP_OK;
}

/* --fake-super receiving: a device, FIFO, socket or symlink lands as a regular file the user owns
 * (holding a symlink's target), its type in the user.rsync.%stat record (rsync's do_mknod and
 * do_symlink under am_root < 0). */
int fake_node(struct job *j, const char *content, mode_t perms)
{
  struct ctx *c = j->c;
  const struct op *op = j->op;
  char name[NAME_MAX + 1], tmp[NAME_MAX + 1];
  struct parent *p;
  int rc = dest_parent(j, op->dst, op->dst_len, &p, name);
  if (rc != OP_OK)
    return rc;
  int out = temp_open(c, p->fd, name, tmp);
  if (out < 0) {
    rc = job_fail(j, errno, "open", W_DST);
    parent_put(c, p);
    return rc;
  }
  size_t len = content ? strlen(content) : 0;
  if (len && write(out, content, len) != (ssize_t)len)
    rc = job_fail(j, errno ? errno : EIO, "write", W_DST);
  if (rc == OP_OK)
    rc = meta_mode_fd(j, out, perms);
  if (rc == OP_OK)
    rc = meta_times_fd(j, out);
  if (close(out) < 0 && rc == OP_OK)
    rc = job_fail(j, errno, "close", W_DST);
  rc = temp_commit(j, p->fd, tmp, name, rc);
  if (rc == OP_OK)
    counter_add(c, S_ISLNK(op->mode) ? C_SYMLINKS : C_SPECIALS, 1);
  parent_put(c, p);
  return rc;
}

mode_t fake_stat_perms(int fd, mode_t fallback)
{
  struct record r;
  return record_get(fd, &r) == 1 ? r.mode & 07777 : fallback;
}

/* The entry opened without following a symlink: O_PATH for the xattr (read through /proc, which works
 * on unreadable files too), O_RDONLY for a regular file's content. -errno on failure. */
static int open_entry(struct ctx *c, const uint8_t *path, uint32_t len, bool on_dest, bool content)
{
  int fl = (content ? O_RDONLY | O_NONBLOCK : O_PATH) | O_NOFOLLOW | O_CLOEXEC;
  if (on_dest) {
    struct op op = {.dst = path, .dst_len = len};
    struct job j = {.c = c, .op = &op};
    char name[NAME_MAX + 1];
    struct parent *p;
    if (dest_parent(&j, path, len, &p, name) != OP_OK)
      return -j.err.no;
    int fd = openat(p->fd, name[0] ? name : ".", fl);
    int e = errno;
    parent_put(c, p);
    return fd < 0 ? -e : fd;
  }
  char buf[PATH_MAX];
  if (len >= sizeof buf)
    return -ENAMETOOLONG;
  memcpy(buf, path, len);
  buf[len] = 0;
  int fd = open(buf, fl);
  return fd < 0 ? -errno : fd;
}

napi_value fake_read(napi_env env, napi_callback_info info)
{
  ARGS(4);
  static const char usage[] = "fakeRead(ctx | null, path: Buffer, onDest: boolean, content: boolean)";
  bool on_dest = false, content = false;
  const uint8_t *path;
  uint32_t len;
  if (argc < 4 || !arg_buffer(env, argv[1], &path, &len) || napi_get_value_bool(env, argv[2], &on_dest) != napi_ok ||
      napi_get_value_bool(env, argv[3], &content) != napi_ok)
    return throw_type(env, usage);
  struct ctx *c = on_dest ? ctxapi_get(env, argv[0]) : NULL;
  if (on_dest && !c)
    return throw_type(env, usage);
  napi_value out;
  int fd = open_entry(c, path, len, on_dest, content);
  if (fd < 0) {
    /* A symlink, or an entry gone since it was listed: no record to read. */
    if (fd == -ELOOP || fd == -ENOENT || fd == -ENXIO) {
      NAPI_TRY(env, napi_get_null(env, &out));
      return out;
    }
    return err_object(env, -fd, "open");
  }
  struct stat st;
  char buf[PATH_MAX + 1];
  ssize_t n;
  const char *sys = "fstat";
  if (fstat(fd, &st) < 0) {
    n = -1;
  } else if (!S_ISREG(st.st_mode) && (content || !S_ISDIR(st.st_mode))) {
    n = -2;
  } else if (content) {
    sys = "read";
    n = read(fd, buf, sizeof buf - 1);
  } else {
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    sys = "getxattr";
    n = getxattr(proc, FAKE_STAT_XATTR, buf, sizeof buf - 1);
    if (n < 0 && (errno == ENODATA || errno == ENOTSUP))
      n = -2;
  }
  int e = errno;
  close(fd);
  if (n == -2) {
    NAPI_TRY(env, napi_get_null(env, &out));
    return out;
  }
  if (n < 0)
    return err_object(env, e, sys);
  void *data;
  NAPI_TRY(env, napi_create_buffer_copy(env, (size_t)n, buf, &data, &out));
  return out;
}

#define ACL_ACCESS "system.posix_acl_access"
#define ACL_DEFAULT "system.posix_acl_default"
#define REC_ACCESS "user.rsync.%aacl"
#define REC_DEFAULT "user.rsync.%dacl"
#define NO_ENTRY 0x80u
#define NAME_IS_USER 0x80000000u

bool fake_acls(uint32_t ctxflags, uint32_t flags)
{
  return (ctxflags & P_FAKE_SUPER) && (flags & P_ACLS);
}

bool fake_source_acls(uint32_t ctxflags, uint32_t flags)
{
  return (ctxflags & P_FAKE_SOURCE) && !(ctxflags & P_FAKE_SUPER) && (flags & P_ACLS);
}

int fake_acl_class(uint32_t ctxflags, const char *name, bool dir, bool src_side)
{
  bool records = src_side ? (ctxflags & P_FAKE_SOURCE) != 0 : (ctxflags & P_FAKE_SUPER) != 0;
  if (records)
    return strcmp(name, REC_ACCESS) == 0 || (dir && strcmp(name, REC_DEFAULT) == 0) ? XC_ACL : 0;
  return strcmp(name, ACL_ACCESS) == 0 || (dir && strcmp(name, ACL_DEFAULT) == 0) ? XC_ACL : 0;
}

const char *fake_acl_dest_name(uint32_t ctxflags, const char *name)
{
  if ((ctxflags & P_FAKE_SOURCE) && !(ctxflags & P_FAKE_SUPER))
    return strcmp(name, REC_ACCESS) == 0 ? ACL_ACCESS : strcmp(name, REC_DEFAULT) == 0 ? ACL_DEFAULT : name;
  if (ctxflags & P_FAKE_SOURCE)
    return name;
  return strcmp(name, ACL_ACCESS) == 0 ? REC_ACCESS : strcmp(name, ACL_DEFAULT) == 0 ? REC_DEFAULT : name;
}

static uint32_t le16at(const unsigned char *p)
{
  return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t le32at(const unsigned char *p)
{
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(char *p, uint32_t v)
{
  for (int i = 0; i < 4; i++)
    p[i] = (char)(v >> (8 * i));
}

long fake_acl_value(uint32_t ctxflags, const char *name, const unsigned char *val, size_t len, char *out, size_t cap)
{
  if (ctxflags & P_FAKE_SOURCE) { /* a record already */
    if (len > cap)
      return -1;
    memcpy(out, val, len);
    return (long)len;
  }
  /* The kernel's posix_acl xattr: le32 version 2, then (le16 tag, le16 perm, le32 id) entries. */
  if (len < 4 || (len - 4) % 8 || le32at(val) != 2)
    return -1;
  uint32_t obj[4] = {NO_ENTRY, NO_ENTRY, NO_ENTRY, NO_ENTRY}; /* user, group, mask, other */
  size_t n = (len - 4) / 8, named = 0;
  if (16 + n * 8 > cap)
    return -1;
  /* Named users come before named groups in the kernel's order, as rsync stores them. */
  for (size_t i = 0; i < n; i++) {
    const unsigned char *e = val + 4 + i * 8;
    uint32_t tag = le16at(e), perm = le16at(e + 2) & 7, id = le32at(e + 4);
    switch (tag) {
    case 0x01: obj[0] = perm; break;
    case 0x04: obj[1] = perm; break;
    case 0x10: obj[2] = perm; break;
    case 0x20: obj[3] = perm; break;
    case 0x02:
    case 0x08:
      put32(out + 16 + named * 8, id);
      put32(out + 20 + named * 8, perm | (tag == 0x02 ? NAME_IS_USER : 0));
      named++;
      break;
    default: return -1;
    }
  }
  if (strcmp(name, ACL_ACCESS) == 0) {
    /* rsync's sender strips what the mode bits carry (rsync_acl_strip_perms; with a mask the mode's
     * group bits are the mask), and its receiver puts back a mask a name list needs. */
    uint32_t mask = obj[2];
    obj[0] = obj[3] = NO_ENTRY;
    obj[1] = mask == NO_ENTRY || obj[1] == mask ? NO_ENTRY : obj[1];
    if (obj[1] == NO_ENTRY && obj[2] == NO_ENTRY && named == 0)
      return 0;
  }
  for (int i = 0; i < 4; i++)
    put32(out + 4 * i, obj[i]);
  return (long)(16 + named * 8);
}

/* One kernel ACL entry at out's n-th place. */
static void kput(char *out, size_t n, uint16_t tag, uint32_t perm, uint32_t id)
{
  char *p = out + 4 + n * 8;
  p[0] = (char)tag;
  p[1] = (char)(tag >> 8);
  p[2] = (char)(perm & 7);
  p[3] = 0;
  put32(p + 4, id);
}

long fake_acl_kernel(const char *name, const unsigned char *val, size_t len, mode_t mode, char *out, size_t cap)
{
  if (len < 16 || (len - 16) % 8)
    return -1;
  size_t named = (len - 16) / 8, n = 0;
  uint32_t user = le32at(val), group = le32at(val + 4), mask = le32at(val + 8), other = le32at(val + 12);
  if (strcmp(name, REC_ACCESS) == 0) {
    /* What the sender left out is the mode's: a mask (needed by named entries) is the group bits. */
    if (mask == NO_ENTRY && named == 0)
      return 0;
    user = (mode >> 6) & 7;
    if (group == NO_ENTRY)
      group = (mode >> 3) & 7;
    mask = (mode >> 3) & 7;
    other = mode & 7;
  } else if (user == NO_ENTRY) {
    return 0;
  }
  if (4 + (named + 4) * 8 > cap || group == NO_ENTRY || other == NO_ENTRY)
    return -1;
  /* A default record names its mask; a kernel ACL with named entries needs one. */
  uint32_t all = group;
  for (size_t i = 0; i < named; i++)
    all |= le32at(val + 20 + i * 8) & 7;
  if (mask == NO_ENTRY && named)
    mask = all & 7;
  put32(out, 2);
  /* The kernel's order: by tag (named users after the owner, named groups after the group), then by
   * id; rsync's records list users first, each kind in the kernel's order. */
  kput(out, n++, 0x01, user, 0xffffffffu);
  for (size_t i = 0; i < named; i++)
    if (le32at(val + 20 + i * 8) & NAME_IS_USER)
      kput(out, n++, 0x02, le32at(val + 20 + i * 8), le32at(val + 16 + i * 8));
  kput(out, n++, 0x04, group, 0xffffffffu);
  for (size_t i = 0; i < named; i++)
    if (!(le32at(val + 20 + i * 8) & NAME_IS_USER))
      kput(out, n++, 0x08, le32at(val + 20 + i * 8), le32at(val + 16 + i * 8));
  if (mask != NO_ENTRY)
    kput(out, n++, 0x10, mask, 0xffffffffu);
  kput(out, n++, 0x20, other, 0xffffffffu);
  return (long)(4 + n * 8);
}
