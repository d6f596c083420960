/* --reflink=auto|always|never for the native engines: FICLONE first, then the caller's copy
 * (copy_file_range, then read/write). Auto remembers a source filesystem whose clones fail for a
 * filesystem-wide reason (no FICLONE, another filesystem), so that a tree on tmpfs or ext4 does not pay
 * a failed ioctl per file; always never skips the attempt, since each file must fail on its own. */
#include "reflink.h"

#include <errno.h>
#include <linux/fs.h>
#include <sys/ioctl.h>

bool reflink_unsupported(int e)
{
  switch (e) {
  case EOPNOTSUPP: /* == ENOTSUP on Linux: the filesystem has no clones (tmpfs, ext4, XFS without reflink) */
  case ENOTTY:     /* no FICLONE ioctl on this file (procfs, some FUSE) */
  case ENOSYS:
  case EXDEV:      /* source and destination on different filesystems (or mounts, on old kernels) */
  case EINVAL:     /* unaligned range, different block sizes, a file type the filesystem will not remap */
  case EBADF:      /* the destination was opened in a way the filesystem cannot remap into */
  case ETXTBSY:    /* swap file or a running executable */
  case EPERM:      /* immutable or append-only destination */
  case EACCES:
    return true;
  default:
    return false;
  }
}

/* Unsupported errnos that hold for every file of the source filesystem, not just this one. */
static bool filesystem_wide(int e)
{
  return e == EOPNOTSUPP || e == ENOTTY || e == ENOSYS || e == EXDEV;
}

int reflink_try(struct job *j, int in, int out, const struct stat *st, bool skip_zero)
{
  struct ctx *c = j->c;
  if (c->flags & P_REFLINK_NEVER)
    return 0;
  bool always = (c->flags & P_REFLINK_ALWAYS) != 0;
  /* -S asks for zero runs to become holes, which needs the bytes read (the CLI refuses -S with always). */
  if (!always && (skip_zero || (c->noclone_known && c->noclone_dev == st->st_dev)))
    return 0;
  if (ioctl(out, FICLONE, in) == 0) {
    job_count(j, st->st_size);
    return 1;
  }
  int e = errno;
  if (always || !reflink_unsupported(e))
    return job_fail(j, e, "clone", W_DST);
  if (filesystem_wide(e)) {
    c->noclone_known = true;
    c->noclone_dev = st->st_dev;
  }
  return 0;
}

bool reflink_cfr_allowed(const struct ctx *c)
{
  return (c->flags & P_REFLINK_NEVER) == 0;
}
