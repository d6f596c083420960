/* rsync's file-list order over a whole received list in one call (native/flistsort.c). */
#ifndef ARSYNC_FLISTSORT_H
#define ARSYNC_FLISTSORT_H

#include <node_api.h>

/* flistOrder(names, ends, dirs): { order, drop }: the list's indices in rsync's order (a Uint32Array;
 * stable: entries of one name and kind keep the order sent) and, by place in that order, 1 for each
 * entry sortAndClean clears (a Uint8Array: a name and kind sent again, a non-directory of a directory's
 * name). `names` holds every entry's name back to back (no NUL), `ends` (Uint32Array) where each one
 * ends, `dirs` (Uint8Array) 1 for a directory. */
napi_value flist_order(napi_env env, napi_callback_info info);

#endif
