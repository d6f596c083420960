/* Sorted directory listings (names only), the 12-double stat layout and the quick check on a matched
 * pair: shared by scanDir/scanDest, the scanPair cursor and scanTree (listing.c). */
#ifndef ARSYNC_LISTING_H
#define ARSYNC_LISTING_H

#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
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

/* getdents64 (without . and ..) + sort of the open directory fd. Returns 0 or an errno. */
int list_names(int fd, struct listing *l);
void listing_free(struct listing *l);
/* lstat of one entry relative to its directory fd, by statx. Returns 0 or the errno. */
int stat_entry(int dirfd, const char *name, struct statx *sx);
/* The 12 doubles of one entry in scanDir's layout (err: the entry's errno, then the rest is 0). */
void listing_fill(double *m, const struct statx *sx, int err);
#define META_FIELDS 12

#include <node_api.h>
/* The Float64Array query argument of scanPair/scanTree (at least n values), or NULL. */
const double *query_arg(napi_env env, napi_value v, size_t n);
/* The quick check on a matched regular file or symlink (see src/plan/quickcheck.ts). */
bool unchanged(const struct statx *s, const struct statx *d, unsigned bits, double window, double res, int sfd,
               const char *name, int dfd);

#endif
