/* A path's POSIX ACLs as the kernel's raw values (system.posix_acl_access and, for a directory,
 * system.posix_acl_default), read and written without following a symlink: the remote sessions'
 * access to ACLs (a push reads its sources' ACLs for the file list; a pull puts the received ones on
 * its private staging tree, from which the local run copies them as it copies any -A source). */
#ifndef ARSYNC_ACLIO_H
#define ARSYNC_ACLIO_H

#include <node_api.h>

/* aclGet(path: Buffer, isDefault: boolean): Buffer | null | { errno, syscall }. null: no such ACL
 * (or none on this file system). */
napi_value acl_get(napi_env env, napi_callback_info info);
/* aclSet(path: Buffer, isDefault: boolean, value: Buffer | null): null | { errno, syscall }. A null
 * value removes the ACL (absent already is no error). */
napi_value acl_set(napi_env env, napi_callback_info info);

#endif
