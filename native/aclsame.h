/* rsync's equality of two access ACLs (its rsync_acl_equal_enough): only what the mode does not carry
 * counts, the mode's bits being compared (and set) as the mode. */
#ifndef ARSYNC_ACLSAME_H
#define ARSYNC_ACLSAME_H

#include <stdbool.h>
#include <stddef.h>

/* Whether the access ACLs `a` and `b` (raw system.posix_acl_access values; NULL for an entry without
 * one, whose ACL is its mode) are the same to rsync: both with a mask or both without; with one, the
 * group's entries alike (it is an entry of its own then; without, it is the mode's group bits); the
 * named users and groups alike. The owner's and others' entries and the mask's bits never count: they
 * are the mode's bits. An unreadable value is never the same. */
bool acl_access_same(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen);

#endif
