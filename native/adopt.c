/* A pull's received file put in place without copying its bytes again (P_ADOPT_SOURCE). The source
 * is a file this process rebuilt from the wire in its private 0700 staging tree (src/cli/pull.ts): its
 * inode is hard-linked beneath the destination's held directory under the exclusive temp name every
 * new file gets (temp.c), takes its metadata on the already-open source fd (the same inode), and is
 * renamed over the target by the same finish as a copy (partial.c: --delay-updates included). So the
 * destination sees exactly what a copy would give it, and DESIGN §3's rules hold: a new name made
 * with O_EXCL's semantics (linkat fails on EEXIST), no symlink followed, nothing written in place.
 * A link across filesystems (a staging tree elsewhere, -T) is impossible, and a directory with a
 * default ACL would give a new file entries a linked inode never gets: the caller copies then. */
#include "adopt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "meta.h"
#include "partial.h"
#include "temp.h"

bool adopt_wanted(const struct ctx *c, const struct op *op)
{
  /* The twin of src/model/ops.ts adoptsSource (why each of these copies is said there). */
  const uint32_t copy_only = P_SPARSE | P_PREALLOCATE | P_XATTRS | P_ACLS | P_INPLACE | P_FAKE_SUPER;
  return (c->flags & P_ADOPT_SOURCE) && !(c->flags & copy_only) &&
         !(op->flags & (OF_COMPARE | OF_BASIS | OF_DEVICE | OF_REMOVE_SOURCE));
}

/* Errors of linkat that mean "no link here", not "the op failed": the data is copied instead. */
static bool cannot_link(int e)
{
  return e == EXDEV || e == EPERM || e == EMLINK || e == EOPNOTSUPP || e == ENOSYS;
}

/* What a file created in the directory open at `fd` (O_PATH is enough) takes from it that an inode
 * linked in does not: its default ACL's entries (2); 1 marks the answer known. An error reading it
 * says nothing of an ACL: no filesystem without ACL support has one to inherit. (A set-group-ID
 * directory's group is not among them: rsync gives a directory its mode before it fills it, and the
 * local run gives the file its group or leaves the staging one, as rsync's files there come out.) */
static uint8_t inherited(int fd)
{
  char at[40];
  snprintf(at, sizeof at, "/proc/self/fd/%d", fd);
  return getxattr(at, "system.posix_acl_default", NULL, 0) > 0 ? 3 : 1;
}

/* Whether a file linked in under `v` (inherited()) would differ from one created there. */
static bool must_create(uint8_t v)
{
  return (v & 2) != 0;
}

int adopt_file(struct job *j, struct parent *p, const char *name, int in, const struct stat *st)
{
  struct ctx *c = j->c;
  int dirfd = p->fd;
  mode_t mode = meta_target_mode(j, dirfd, name);
  int tdir = temp_file_dir(j, dirfd);
  if (tdir < 0)
    return OP_FAIL;
  /* Where a new file would inherit something from its directory, the data is copied into a file created
   * there instead. Looked at once per parent the run holds (consecutive files of one directory share
   * it); -T's directory, rare, each time. */
  if (tdir != dirfd) {
    if (must_create(inherited(tdir)))
      return ADOPT_COPY;
  } else {
    if (!p->inherit)
      p->inherit = inherited(dirfd);
    if (must_create(p->inherit))
      return ADOPT_COPY;
  }
  /* The inode the caller opened and checked, never whatever its path names now. */
  char pinned[40], tmp[NAME_MAX + 1];
  snprintf(pinned, sizeof pinned, "/proc/self/fd/%d", in);
  if (temp_link(c, AT_FDCWD, pinned, AT_SYMLINK_FOLLOW, tdir, name, tmp) < 0)
    return cannot_link(errno) ? ADOPT_COPY : job_fail(j, errno, "link", W_DST);
  job_temp(j, tmp);
  /* The staged file's fd takes the owner, mode and times in the contract's order, as a temp file's
   * does (its mode is set even when 0600: the staging file's own came through our umask). */
  int rc = meta_owner_fd(j, in);
  if (rc == OP_OK)
    rc = meta_mode_fd(j, in, mode);
  if (rc == OP_OK)
    rc = meta_times_fd(j, in);
  if (rc == OP_OK)
    rc = temp_fsync(j, in, W_DST);
  if (rc == OP_OK)
    rc = partial_finish(j, tdir, tmp, dirfd, name, mode);
  if (rc != OP_OK) {
    unlinkat(tdir, tmp, 0); /* best effort: the op already failed with the real cause */
    return rc;
  }
  job_count(j, st->st_size);
  counter_add(c, C_FILES, 1);
  return OP_OK;
}
