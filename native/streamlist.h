/* A local run's incremental file lists, recorded by scanTree as it stats the source, and counted as
 * rsync's sender would write them (native/streamlist.c; the TypeScript twin, for a run without this
 * record, is src/run/stream-list.ts with remote/flist-send.ts FlistEncoder). */
#ifndef ARSYNC_STREAMLIST_H
#define ARSYNC_STREAMLIST_H

#include <node_api.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "listing.h"

/* One directory's entries in readdir order, as its list carries them. */
struct sl_dir;
/* Every directory of one scan (the handle TypeScript keeps until the figures are worked out). */
struct sl_lists;

/* A record for a directory listed with n names; NULL when out of memory. */
struct sl_dir *sl_dir_new(size_t n);
/* Entry i of the sorted listing `a` (x its lstat, xe the errno of that lstat); false when the entry
 * cannot be recorded (it could not be stat'ed, or its symlink target read): no record then. */
bool sl_dir_entry(struct sl_dir *d, const struct listing *a, size_t i, const struct statx *x, int xe, int dirfd);
/* The record finished: the listing's names taken over (a->pool becomes NULL), entries put back in
 * readdir order. False when out of memory. */
bool sl_dir_end(struct sl_dir *d, const char *rel, struct listing *a);
void sl_dir_free(struct sl_dir *d);

struct sl_lists *sl_lists_new(void);
/* Adds a finished record (the caller holds the scan's lock); false when out of memory. */
bool sl_lists_add(struct sl_lists *l, struct sl_dir *d);
/* A directory the scan could not record: the lists cannot be counted. */
void sl_lists_fail(struct sl_lists *l);
/* { handle, order } for TypeScript (order: [list's record, its directory index, its entries] per list,
 * in the order rsync's sender sends them, the operand's own first), or NULL when the record is not
 * whole; l is then freed. */
napi_value sl_lists_finish(napi_env env, struct sl_lists *l);

napi_value stream_list_count(napi_env env, napi_callback_info info);

#endif
