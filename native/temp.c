/* Temp files (DESIGN §3.1): every new entry is made under `.<name>.XXXXXX` in its target's directory
 * (a file created O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600; or a symlink, a node, a hard link), given its
 * metadata, then renamed over the target; on failure it is discarded. One create-with-retry loop for
 * every kind and both engines, so a crash or kill never leaves a half-made entry under a real name. */
#include "temp.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "beneath.h"
#include "fstype.h"
#include "meta.h"
#include "partial.h"

/* Temp-name collisions are possible (a crashed run's leftovers); a fresh name is cheap. */
#define TEMP_TRIES 64
/* rsync's limit on the name's part: NAME_MAX less the leading dot, the suffix and the NUL. */
#define TEMP_STEM_MAX (NAME_MAX - 1 - 7 - 1)

static const char temp_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/* rsync's temp name (its receiver's get_tmpname): beside the target `.<name>.XXXXXX` with a dot file's
 * own dot not doubled; in the --temp-dir `<name>.XXXXXX`; the name cut to 246 bytes (not inside a
 * multibyte character) and one trailing dot dropped before the suffix's. src/model/temp-name.ts is the
 * TypeScript twin (test/contract/temp-names.test.ts holds them together). */
static size_t temp_stem(const char *name, bool in_tempdir, char out[NAME_MAX + 1])
{
  size_t len = 0;
  if (!in_tempdir) {
    if (*name == '.')
      name++;
    out[len++] = '.';
  }
  size_t n = strlen(name);
  size_t start = len;
  if (n > TEMP_STEM_MAX) {
    n = TEMP_STEM_MAX;
    /* A cut inside a multibyte character drops its leading bytes too. */
    if ((unsigned char)name[n] & 0x80)
      while (n > 0 && ((unsigned char)name[n - 1] & 0x80))
        n--;
  }
  memcpy(out + start, name, n);
  len = start + n;
  if (len > 0 && out[len - 1] == '.')
    len--;
  return len;
}

static void temp_name(struct ctx *c, const char *name, bool in_tempdir, char out[NAME_MAX + 1])
{
  size_t n = temp_stem(name, in_tempdir, out);
  out[n] = '.';
  /* xorshift64*: unpredictability is not needed (O_EXCL makes collisions harmless), speed is. */
  uint64_t x = c->rng;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  c->rng = x;
  x *= 0x2545F4914F6CDD1DULL;
  for (int i = 0; i < 6; i++) {
    out[n + 1 + i] = temp_chars[x % (sizeof temp_chars - 1)];
    x /= sizeof temp_chars - 1;
  }
  out[n + 7] = 0;
}

int temp_make(struct ctx *c, int dirfd, const char *name, char tmp[NAME_MAX + 1], temp_make_fn make, const void *arg)
{
  int r = -1;
  for (int i = 0; i < TEMP_TRIES; i++) {
    temp_name(c, name, c->tpath && dirfd == c->tdirfd, tmp);
    r = make(arg, dirfd, tmp);
    if (r >= 0 || errno != EEXIST)
      break;
  }
  return r;
}

static int make_file(const void *arg, int dirfd, const char *tmp)
{
  (void)arg;
  return openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
}

int temp_open(struct ctx *c, int dirfd, const char *name, char tmp[NAME_MAX + 1])
{
  return temp_make(c, dirfd, name, tmp, make_file, NULL);
}

/* Unnamed new files (docs/native-contract.md "Unnamed new files"): O_TMPFILE, linked to the target's
 * name once whole. Only where the name is used by nothing else in the run: -vvv prints it (c->temps),
 * --temp-dir, --partial, --partial-dir and --delay-updates move the file by it, --fake-super and a
 * pull's staged files make theirs elsewhere; --inplace makes none. */
static bool unnamed_run(const struct ctx *c)
{
  return !c->no_unnamed && !c->temps && !c->tpath && !c->ppath &&
         !(c->flags & (P_PARTIAL | P_DELAY_UPDATES | P_FAKE_SUPER | P_ADOPT_SOURCE | P_INPLACE));
}

/* Local filesystems whose close cannot report a deferred write error: the link comes before the
 * close, so a close that could fail (NFS, FUSE's flush) must not follow it. Looked up once per
 * destination directory held. */
static bool unnamed_fs(struct parent *p)
{
  if (!p->unnamed) {
    struct statfs sf;
    p->unnamed = fstatfs(p->fd, &sf) == 0 && fstype_plain_local((long)sf.f_type) ? 1 : 2;
  }
  return p->unnamed == 1;
}

int temp_open_new(struct ctx *c, struct parent *p, int tdir, const char *name, char tmp[NAME_MAX + 1], mode_t mode,
                  struct stat *made)
{
  if (tdir == p->fd && unnamed_run(c) && unnamed_fs(p)) {
    /* Its final permission bits from the start: nobody can open a file that has no name, so the 0600 a
     * named temp keeps until its metadata is set protects nothing here. No set-id bit (a chown would
     * clear it); the umask or a default ACL may cut bits, which the fstat shows. */
    int fd = openat(p->fd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, mode & 0777);
    if (fd >= 0 && !c->link_asked) {
      /* Naming it takes linkat(AT_EMPTY_PATH), which kernels before 6.10 grant only with
       * CAP_DAC_READ_SEARCH (ENOENT otherwise: Debian 12's 6.1 for any user but root). Asked once a
       * context, before any data is written: a link to "." is refused with EEXIST only once the kernel
       * has accepted the descriptor, and makes nothing. Any other answer: by name for the whole run. */
      c->link_asked = true;
      if (linkat(fd, "", p->fd, ".", AT_EMPTY_PATH) == 0 || errno != EEXIST) {
        close(fd);
        c->no_unnamed = true;
        return temp_open(c, tdir, name, tmp);
      }
    }
    if (fd >= 0 && fstat(fd, made) == 0) {
      tmp[0] = 0;
      return fd;
    }
    if (fd >= 0) {
      close(fd);
      errno = EOPNOTSUPP;
    }
    /* Not on this filesystem after all: by name from now on here. Any other error is the directory's,
     * and the named create below meets it and reports it as today. */
    if (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)
      p->unnamed = 2;
  }
  return temp_open(c, tdir, name, tmp);
}

int temp_place_unnamed(struct job *j, int fd, struct parent *p, const char *name, char tmp[NAME_MAX + 1])
{
  struct ctx *c = j->c;
  int dirfd = p->fd;
  /* The usual case, a name nobody has: one link, and the file is in place whole. */
  if (linkat(fd, "", dirfd, name, AT_EMPTY_PATH) == 0)
    return OP_OK;
  /* A name that exists (a replacement, or an entry that appeared since the planner looked), or any
   * other refusal: today's way, under a temp name then renamed over, so the outcome and its errors
   * are the named sequence's. A directory with one file replaced likely has more: its next files are
   * made by name, which spares them the failed link. */
  if (errno == EEXIST)
    p->unnamed = 2;
  int r = temp_link(c, fd, "", AT_EMPTY_PATH, dirfd, name, tmp);
  if (r < 0) {
    tmp[0] = 0;
    return job_fail(j, errno, "rename", W_DST);
  }
  job_temp(j, tmp);
  return temp_commit(j, dirfd, tmp, name, OP_OK);
}

static int make_symlink(const void *arg, int dirfd, const char *tmp)
{
  return symlinkat(arg, dirfd, tmp);
}

int temp_symlink(struct ctx *c, int dirfd, const char *name, char tmp[NAME_MAX + 1], const char *target)
{
  return temp_make(c, dirfd, name, tmp, make_symlink, target);
}

struct node_arg {
  mode_t type;
  dev_t rdev;
};

static int make_node(const void *arg, int dirfd, const char *tmp)
{
  const struct node_arg *n = arg;
  return mknodat(dirfd, tmp, n->type | 0600, n->rdev);
}

int temp_mknod(struct ctx *c, int dirfd, const char *name, char tmp[NAME_MAX + 1], mode_t type, dev_t rdev)
{
  struct node_arg n = {type, rdev};
  return temp_make(c, dirfd, name, tmp, make_node, &n);
}

struct link_arg {
  int fromfd;
  const char *from;
  int follow;
};

static int make_link(const void *arg, int dirfd, const char *tmp)
{
  const struct link_arg *l = arg;
  return linkat(l->fromfd, l->from, dirfd, tmp, l->follow);
}

int temp_link(struct ctx *c, int fromfd, const char *from, int follow, int dirfd, const char *name,
              char tmp[NAME_MAX + 1])
{
  struct link_arg l = {fromfd, from, follow};
  return temp_make(c, dirfd, name, tmp, make_link, &l);
}

int temp_rename_over(struct job *j, int dirfd, const char *tmp, const char *name)
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

/* Failure cleanup of a temp file: --partial keeps what was copied under the real name, or with a
 * --partial-dir under that name in the partial dir (partial.c). A kept file gets the permission bits
 * `mode` the finished one would have had (rsync's cleanup gives it the file's attributes; the temp was
 * made 0600), by plain syscalls whose failure is not reported: the job keeps its own cause. */
void temp_discard(struct job *j, int tdir, const char *tmp, int dirfd, const char *name, mode_t mode)
{
  if (!tmp[0]) /* unnamed: its close frees it */
    return;
  if ((j->c->flags & P_PARTIAL) && j->bytes > 0) {
    /* Never through a symlink swapped in under the temp name (glibc refuses one, by fchmodat2 or its
     * O_PATH emulation); where it cannot tell, the bits stay 0600. */
    (void)fchmodat(tdir, tmp, mode & 07777, AT_SYMLINK_NOFOLLOW);
    if (j->c->ppath) {
      if (partial_keep(j, tdir, tmp, dirfd, name))
        return;
    } else {
      /* At the target's name the partial file gets mtime 0, whether a signal or this file's own failure
       * stopped it (rsync stops the run at either and its cleanup does this): with a time of now it
       * would be newer than the source, and -u would never complete it. */
      struct timespec t[2] = {{0, UTIME_OMIT}, {0, 0}};
      meta_fill_times(j->c, t, tdir, tmp);
      (void)utimensat(tdir, tmp, t, AT_SYMLINK_NOFOLLOW);
      if (renameat(tdir, tmp, dirfd, name) == 0)
        return;
    }
  }
  unlinkat(tdir, tmp, 0); /* best effort: the op already failed with the real cause */
}

void temp_release(struct ctx *c)
{
  if (c->tdirfd >= 0)
    close(c->tdirfd);
  c->tdirfd = -1;
  free(c->tpath);
  c->tpath = NULL;
}

int temp_file_dir(struct job *j, int dirfd)
{
  struct ctx *c = j->c;
  if (!c->tpath)
    return dirfd;
  /* Opened once and held: a symlink swapped in for the directory (or a parent) later cannot move
   * where the temps go, and none is followed now (the CLI resolved the path to hold none). */
  if (c->tdirfd < 0) {
    c->tdirfd = open_no_symlinks(c->tpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (c->tdirfd < 0)
      return job_fail(j, errno, "open", W_DST), -1;
  }
  return c->tdirfd;
}

/* Data of `in` into `out`, holes kept (SEEK_DATA), through a buffer of our own (the context's may be
 * the ring's registered area, in use by reads in flight). */
static int copy_plain(int in, int out, int *err)
{
  enum { BUF = 1 << 18 };
  char *buf = malloc(BUF);
  if (!buf)
    return *err = ENOMEM, -1;
  struct stat st;
  int rc = fstat(in, &st);
  off_t pos = 0;
  while (rc == 0 && pos < st.st_size) {
    off_t data = lseek(in, pos, SEEK_DATA);
    if (data < 0) /* ENXIO: only a hole is left */
      break;
    off_t hole = lseek(in, data, SEEK_HOLE);
    if (hole < 0) {
      rc = -1;
      break;
    }
    for (pos = data; rc == 0 && pos < hole;) {
      ssize_t n = pread(in, buf, (size_t)(hole - pos < BUF ? hole - pos : BUF), pos);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0) { /* a file of ours that shrank: never renamed into place */
        if (n == 0)
          errno = EIO;
        rc = -1;
        break;
      }
      for (ssize_t w = 0; w < n;) {
        ssize_t k = pwrite(out, buf + w, (size_t)(n - w), pos + w);
        if (k < 0 && errno == EINTR)
          continue;
        if (k < 0) {
          rc = -1;
          break;
        }
        w += k;
      }
      pos += n;
    }
  }
  if (rc == 0 && ftruncate(out, st.st_size) < 0)
    rc = -1;
  if (rc < 0)
    *err = errno;
  free(buf);
  return rc;
}

/* rsync's answer to a --temp-dir on another filesystem (rename's EXDEV): the finished temp file is
 * copied into a fresh temp beside the target, given its metadata again, and renamed from there. */
static int temp_place_across(struct job *j, int tdir, const char *tmp, int dirfd, const char *name, mode_t mode)
{
  char tmp2[NAME_MAX + 1];
  int in = openat(tdir, tmp, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (in < 0)
    return job_fail(j, errno, "open", W_DST);
  int rc;
  int out = temp_open(j->c, dirfd, name, tmp2);
  if (out < 0) {
    rc = job_fail(j, errno, "open", W_DST);
    close(in);
    return rc;
  }
  int err = 0;
  rc = copy_plain(in, out, &err) < 0 ? job_fail(j, err, "write", W_DST) : OP_OK;
  if (rc == OP_OK)
    rc = meta_file(j, in, out, mode, NULL);
  if (rc == OP_OK)
    rc = temp_fsync(j, out, W_DST);
  close(in);
  if (rc == OP_OK)
    rc = temp_close(j, out, W_DST);
  else
    close(out);
  rc = temp_commit(j, dirfd, tmp2, name, rc);
  if (rc == OP_OK)
    unlinkat(tdir, tmp, 0); /* the copy is in place; a leftover here is only scratch */
  return rc;
}

int temp_place(struct job *j, int tdir, const char *tmp, int dirfd, const char *name, mode_t mode)
{
  if (tdir == dirfd)
    return temp_rename_over(j, dirfd, tmp, name);
  if (renameat(tdir, tmp, dirfd, name) == 0)
    return OP_OK;
  if (errno == EXDEV)
    return temp_place_across(j, tdir, tmp, dirfd, name, mode);
  if (errno != EISDIR)
    return job_fail(j, errno, "rename", W_DST);
  if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0)
    return job_fail(j, errno, "rmdir", W_DST);
  if (renameat(tdir, tmp, dirfd, name) == 0)
    return OP_OK;
  if (errno == EXDEV)
    return temp_place_across(j, tdir, tmp, dirfd, name, mode);
  return job_fail(j, errno, "rename", W_DST);
}

int temp_commit(struct job *j, int dirfd, const char *tmp, const char *name, int rc)
{
  if (rc == OP_OK)
    rc = temp_rename_over(j, dirfd, tmp, name);
  if (rc != OP_OK)
    unlinkat(dirfd, tmp, 0); /* best effort: the op already failed with the real cause */
  return rc;
}

int temp_close(struct job *j, int fd, int where)
{
  /* close can report a deferred write error (NFS, quota): the data is not safe then. */
  if (close(fd) < 0 && errno != EINTR)
    return job_fail(j, errno, "close", where);
  return OP_OK;
}

void temp_preallocate(const struct ctx *c, int fd, off_t size)
{
  /* -S writes zero runs as holes, which reserved blocks would fill: such a file is not preallocated.
   * KEEP_SIZE (rsync's choice) keeps the size at 0 until data lands, so a failed copy is never
   * mistaken for a whole one. A filesystem without fallocate only loses the hint: rsync warns and
   * goes on, the data is written all the same. */
  if (!(c->flags & P_PREALLOCATE) || (c->flags & P_SPARSE) || size <= 0)
    return;
  (void)fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, size);
}

int temp_fsync(struct job *j, int fd, int where)
{
  if ((j->c->flags & P_FSYNC) && fsync(fd) < 0)
    return job_fail(j, errno, "fsync", where);
  return OP_OK;
}
