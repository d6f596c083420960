/* Whole xattr lists read and single values written, for the remote protocol (src/remote/xattr-list.ts
 * carries them on the wire): a push's sender lists its sources' xattrs, a pull puts the sender's
 * values on its private staging tree. Which names travel is the caller's rule, not this file's. */
#ifndef ARSYNC_XATTRIO_H
#define ARSYNC_XATTRIO_H

#include <node_api.h>

/* xattrRead(target: Buffer | number): { names: Buffer[], values: Buffer[] } | { errno, syscall }.
 * A Buffer is a path whose last component is not followed (l*xattr); a number an open fd (f*xattr).
 * Every name the kernel lists, in its order; a filesystem without xattrs gives empty arrays. */
napi_value xattr_read(napi_env env, napi_callback_info info);

/* xattrWrite(path: Buffer, name: Buffer, value: Buffer): null | { errno, syscall }. lsetxattr: the
 * path's last component is not followed. */
napi_value xattr_write(napi_env env, napi_callback_info info);

#endif
