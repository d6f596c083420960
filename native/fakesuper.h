/* --fake-super (rsync's am_root < 0): what a receiver may not set as a non-root user (owner, group,
 * set-id bits, the type of a device, FIFO, socket or symlink) is kept in the user.rsync.%stat xattr,
 * in rsync's format "MODE MAJOR,MINOR UID:GID" (mode in octal), and the entry on disk is a plain
 * file or directory the user owns (xattrs.c set_stat_xattr / get_stat_xattr). */
#ifndef ARSYNC_FAKESUPER_H
#define ARSYNC_FAKESUPER_H

#include <node_api.h>
#include <stdbool.h>
#include <sys/types.h>

#include "context.h"

#define FAKE_STAT_XATTR "user.rsync.%stat"

/* rsync's names in user.rsync.% (%stat, %aacl, %dacl): never copied as plain xattrs (rsync copies
 * them only with -XX, which arsync does not have). */
bool fake_reserved_xattr(const char *name);

/* The entry on fd gets its fake-super record for this op: the permission bits on disk become
 * `perms & 0777` plus owner read/write (and search on a directory), and the xattr holds the op's type,
 * `perms` (set-id bits included), its device numbers and the owner and group it would have (the
 * op's under -o/-g, else the file's own); a record equal to what is on disk is removed. */
int fake_stat_set(struct job *j, int fd, mode_t perms);

/* A device, FIFO, socket or symlink op under --fake-super: a plain file the user owns (holding
 * `content`, a symlink's target, when not NULL) made at a temp name, given the record with `perms`
 * and the op's times, renamed over the target (rsync's do_mknod and do_symlink under am_root < 0). */
int fake_node(struct job *j, const char *content, mode_t perms);

/* The permission bits (07777) an existing fake-super entry claims, or `fallback` without a record. */
mode_t fake_stat_perms(int fd, mode_t fallback);

/* fakeRead(ctx | null, path: Buffer, onDest: boolean, content: boolean): Buffer | null | { errno, syscall }.
 * content false: the user.rsync.%stat value of a regular file or directory (null when it has none or
 * is of another type); content true: the bytes of a regular file (a fake symlink's target, at most
 * PATH_MAX). onDest: path is relative to the context's destination root, resolved beneath it. */
napi_value fake_read(napi_env env, napi_callback_info info);

#endif

/* --fake-super with -A: the receiver keeps ACLs in user.rsync.%aacl (access) and user.rsync.%dacl
 * (a directory's default) records instead of system.posix_acl_* (rsync's acls.c): four le32 values
 * user::, group::, mask::, other:: (0x80 for "no entry"), then an (id, perms) le32 pair per named
 * entry, users first, their perms with bit 31 set. An access record leaves out what the mode bits
 * say (rsync sends it stripped); a sending side that fakes too has records, copied as they are.
 * `ctxflags` is the context's Preserve bits, `flags` the classes asked for. */
bool fake_acls(uint32_t ctxflags, uint32_t flags);
/* Only the sender fakes (--fake-super -M--super): the source's ACLs are its records, made into real
 * ACLs on the destination (rsync's sender reads them as the entry's ACLs). */
bool fake_source_acls(uint32_t ctxflags, uint32_t flags);
/* XC_ACL when `name` is an ACL under these rules on that side (source or destination), else 0. */
int fake_acl_class(uint32_t ctxflags, const char *name, bool dir, bool src_side);
/* The destination's name for a source ACL name. */
const char *fake_acl_dest_name(uint32_t ctxflags, const char *name);
/* The value a source ACL is kept as, into out (cap bytes): its length, 0 when it makes no record
 * (an access ACL the mode bits say all of), -1 when it does not parse. */
long fake_acl_value(uint32_t ctxflags, const char *name, const unsigned char *val, size_t len, char *out, size_t cap);
/* Under fake_source_acls: a source record as the kernel's ACL value (its name the ACL's, from
 * fake_acl_dest_name), into out: an access record's owner, group (when left out), mask and other
 * entries from `mode`, the mode the destination gets, as rsync's receiver fits a received ACL to it;
 * its length, 0 when it makes no ACL (the mode says all of it), -1 when the record does not parse. */
long fake_acl_kernel(const char *name, const unsigned char *val, size_t len, mode_t mode, char *out, size_t cap);
