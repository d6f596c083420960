/* The quick check in C (the twin of src/plan/quickcheck.ts): is a matched source/destination pair
 * unchanged under the run's query bits (SP_* of listing.h)? One copy for the scanPair cursor and the
 * tree scan. */
#ifndef ARSYNC_QUICKCHECK_H
#define ARSYNC_QUICKCHECK_H

#include <fcntl.h>
#include <stdbool.h>
#include <sys/stat.h>

/* The query of pairOpen/scanTree: SP_* bits, --modify-window (seconds, 0 = none) and the engine's
 * time resolution in nanoseconds (1, or 1000 for the node engine's microseconds). */
struct quick {
  unsigned bits;
  double window, res;
};

/* A regular file or symlink (symlinks only with SP_LINKS; targets read with readlinkat in sfd/dfd),
 * as src/plan/quickcheck.ts would decide "nothing to do". */
bool quick_unchanged(const struct quick *q, const struct statx *s, const struct statx *d, int sfd, const char *name,
                     int dfd);
/* A symlink's target held in memory (a received list's entry) rather than on disk. */
struct target {
  const char *bytes;
  size_t len;
};
/* As quick_unchanged, with the source symlink's target given (`known`) instead of read at sfd/name. */
bool quick_unchanged_to(const struct quick *q, const struct statx *s, const struct statx *d, int sfd, const char *name,
                        const struct target *known, int dfd);
/* Two regular files whose data the quick check finds different (size, or mtime as sameTime() compares
 * it): rsync's generator sends such a file again, whatever else about it differs. Only the verdict of a run
 * whose quick check is this one (SP_COLLAPSE's: no -c, -I, --size-only) and which has no -u or
 * --ignore-existing (the caller's to rule out: src/run/direct.ts runAllowsChanged). */
bool quick_data_differs(const struct quick *q, const struct statx *s, const struct statx *d);
/* A directory present on both sides: owner, group, perms and (SP_DIR_TIMES) mtime as asked. */
bool quick_same_dir(const struct quick *q, const struct statx *a, const struct statx *b);
/* A device, FIFO or socket: same kind, same device number, same attributes. */
bool quick_same_node(const struct quick *q, const struct statx *a, const struct statx *b);

#endif
