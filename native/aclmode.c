/* Access ACLs beside the mode (aclmode.h). rsync's sender leaves out what the mode says and its receiver
 * compares the rest with the destination's whole ACL (rsync_acl_equal_enough), which comes down to the
 * mask's presence, the group's entry beside a mask and the named entries; the value it writes takes the
 * mode's bits where the mode stands for an entry (change_sacl_perms). */
#include "aclmode.h"

#include <endian.h>
#include <stdint.h>
#include <string.h>

/* linux/posix_acl_xattr.h: a le32 version, then per entry a le16 tag, a le16 perm and a le32 id. */
#define HEADER 4
#define ENTRY 8
#define TAG_USER_OBJ 0x01
#define TAG_USER 0x02
#define TAG_GROUP_OBJ 0x04
#define TAG_GROUP 0x08
#define TAG_MASK 0x10
#define TAG_OTHER 0x20

struct shape {
  bool mask;
  int group; /* the group's perms, -1 when the value has no entry for it */
  size_t names;
};

static uint16_t le16_at(const unsigned char *p)
{
  uint16_t v;
  memcpy(&v, p, 2);
  return le16toh(v);
}

static bool is_named(uint16_t tag)
{
  return tag == TAG_USER || tag == TAG_GROUP;
}

static bool shape_of(const unsigned char *v, size_t len, struct shape *s)
{
  *s = (struct shape){.mask = false, .group = -1, .names = 0};
  if (!v)
    return true;
  if (len < HEADER || (len - HEADER) % ENTRY != 0)
    return false;
  for (size_t i = HEADER; i < len; i += ENTRY) {
    uint16_t tag = le16_at(v + i);
    if (tag == TAG_GROUP_OBJ)
      s->group = le16_at(v + i + 2) & 7;
    else if (tag == TAG_MASK)
      s->mask = true;
    else if (is_named(tag))
      s->names++;
    else if (tag != TAG_USER_OBJ && tag != TAG_OTHER)
      return false;
  }
  return true;
}

/* The next named entry at or after *i (an offset into v), its 8 bytes; NULL after the last. */
static const unsigned char *next_named(const unsigned char *v, size_t len, size_t *i)
{
  for (; v && *i + ENTRY <= len; *i += ENTRY)
    if (is_named(le16_at(v + *i))) {
      const unsigned char *e = v + *i;
      *i += ENTRY;
      return e;
    }
  return NULL;
}

bool acl_access_same(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen)
{
  struct shape x, y;
  if (!shape_of(a, alen, &x) || !shape_of(b, blen, &y))
    return false;
  if (x.mask != y.mask || (x.mask && x.group != y.group) || x.names != y.names)
    return false;
  /* Named entries: tag, perm and id alike, in the kernel's order (by tag, then id). */
  size_t i = HEADER, k = HEADER;
  for (size_t n = 0; n < x.names; n++) {
    const unsigned char *p = next_named(a, alen, &i), *q = next_named(b, blen, &k);
    if (!p || !q || le16_at(p) != le16_at(q) || (le16_at(p + 2) & 7) != (le16_at(q + 2) & 7) || memcmp(p + 4, q + 4, 4) != 0)
      return false;
  }
  return true;
}

static void put_perm(unsigned char *e, int perm)
{
  uint16_t v = htole16((uint16_t)perm);
  memcpy(e + 2, &v, 2);
}

bool acl_access_fit(unsigned char *v, size_t len, mode_t listed, mode_t mode)
{
  struct shape s;
  if (!v || !shape_of(v, len, &s))
    return false;
  /* rsync's sender sends no group entry when the mode says it (no mask, or one equal to the mode's
   * group bits); its receiver then takes the new mode's bits for it. */
  bool group_from_mode = !s.mask || s.group == (int)((listed >> 3) & 7);
  for (size_t i = HEADER; i < len; i += ENTRY) {
    uint16_t tag = le16_at(v + i);
    if (tag == TAG_USER_OBJ)
      put_perm(v + i, (int)((mode >> 6) & 7));
    else if (tag == TAG_MASK || (tag == TAG_GROUP_OBJ && group_from_mode))
      put_perm(v + i, (int)((mode >> 3) & 7));
    else if (tag == TAG_OTHER)
      put_perm(v + i, (int)(mode & 7));
  }
  return true;
}
