/* Sorted directory listings (names only), their merge-join, and the 12-double stat layout: shared by
 * scanDir/scanDest, the scanPair cursor and scanTree (listing.c). The quick check is quickcheck.h. */
#ifndef ARSYNC_LISTING_H
#define ARSYNC_LISTING_H

#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

enum {
  SP_COLLAPSE = 1,   /* leave out entries the quick check finds unchanged */
  SP_PERMS = 2,      /* -p: mode bits must match */
  SP_OWNER = 4,      /* -o as root: uid must match */
  SP_GROUP = 8,      /* -g: gid must match */
  SP_TIMES = 16,     /* -t: symlink mtimes must match too (files' always must) */
  SP_HARDLINKS = 32, /* -H: files with several links go to TypeScript (group leaders) */
  SP_LINKS = 64,     /* symlinks may be collapsed (no -L, --safe-links, --copy-unsafe-links) */
  SP_DIR_TIMES = 128,/* scanTree: directories' mtimes must match (-t without -O) */
};

/* A directory's names only, sorted by bytes: entries are stat'ed when they are looked at, so a wide
 * directory costs its names (about 20 bytes an entry), not a struct statx (256 bytes) per entry. */
struct listing {
  char *pool;   /* NUL-terminated names back to back */
  size_t used, cap;
  char **names; /* sorted pointers into pool */
  size_t n;
};

/* The merge-join of a source listing with its destination twin, in name order: where the two
 * cursors stand. Zero-initialised at the start (and to rewind). */
struct join {
  size_t i, j; /* next source entry, next destination entry */
};
/* The next step, false once both listings are used up. A destination-only name (an extra): *si is
 * SIZE_MAX and *dj its index. A source entry: *si its index, *dj its twin's or SIZE_MAX. */
bool join_next(struct join *m, const struct listing *s, const struct listing *d, size_t *si, size_t *dj);
static inline bool join_done(const struct join *m, const struct listing *s, const struct listing *d)
{
  return m->i == s->n && m->j == d->n;
}

/* The names idx[0..n) of a listing, each followed by a NUL, written to out (when not NULL); returns
 * the bytes they take. The shape of every names Buffer the scans hand to TypeScript. */
size_t listing_pack(char *const *names, const size_t *idx, size_t n, char *out);

/* getdents64 (without . and ..) + sort of the open directory fd. Returns 0 or an errno. */
int list_names(int fd, struct listing *l);
void listing_free(struct listing *l);
/* lstat of one entry relative to its directory fd, by statx. Returns 0 or the errno. */
int stat_entry(int dirfd, const char *name, struct statx *sx);
/* The 12 doubles of one entry in scanDir's layout (err: the entry's errno, then the rest is 0). */
void listing_fill(double *m, const struct statx *sx, int err);
#define META_FIELDS 13


#endif
