/* Access ACLs beside the mode, as rsync treats them: their equality (only what the mode does not carry
 * counts) and a value fitted to the mode an entry gets (the entries the mode's bits stand for). */
#ifndef ARSYNC_ACLMODE_H
#define ARSYNC_ACLMODE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Whether the access ACLs `a` and `b` (raw system.posix_acl_access values; NULL for an entry without
 * one, whose ACL is its mode) are the same to rsync: both with a mask or both without; with one, the
 * group's entries alike (it is an entry of its own then; without, it is the mode's group bits); the
 * named users and groups alike. The owner's and others' entries and the mask's bits never count: they
 * are the mode's bits. An unreadable value is never the same. */
bool acl_access_same(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen);

/* rsync's change_sacl_perms: the source's access ACL `v` made to say `mode`'s bits, in place: the
 * owner's entry, the mask's (or without a mask the group's), others'; the group's beside a mask too when
 * it equals the group bits of `listed` (the mode rsync's sender listed the entry with, against which it
 * left that entry out). So writing it leaves the entry with `mode` (--chmod, -p off, -E), as rsync's
 * receiver does. False for a value it cannot read. */
bool acl_access_fit(unsigned char *v, size_t len, mode_t listed, mode_t mode);

#endif
