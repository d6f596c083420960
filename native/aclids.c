/* ACL named entries mapped by the run's id rules (aclids.h). */
#include "aclids.h"

#include <endian.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "errors.h"

/* linux/posix_acl_xattr.h: a le32 version, then per entry a le16 tag, a le16 perm and a le32 id. */
#define HEADER 4
#define ENTRY 8
#define TAG_USER 0x02
#define TAG_GROUP 0x08

struct range {
  uint32_t low, high, to;
};

/* [0] users, [1] groups. Written only by aclIdRules (before a run's ops), under the lock; `set` lets an
 * op skip the lock when no rule was ever given (every run without a map). */
static struct range *rules[2];
static size_t counts[2];
static atomic_bool set;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static uint32_t map_one(int kind, uint32_t id)
{
  for (size_t i = 0; i < counts[kind]; i++)
    if (id >= rules[kind][i].low && id <= rules[kind][i].high)
      return rules[kind][i].to;
  return id;
}

/* Whether entry `a` goes after entry `b`: a greater tag, or the same tag and a greater id. */
static bool entry_after(const unsigned char *a, const unsigned char *b)
{
  uint16_t ta, tb;
  uint32_t ia, ib;
  memcpy(&ta, a, 2);
  memcpy(&tb, b, 2);
  memcpy(&ia, a + 4, 4);
  memcpy(&ib, b + 4, 4);
  ta = le16toh(ta);
  tb = le16toh(tb);
  return ta != tb ? ta > tb : le32toh(ia) > le32toh(ib);
}

void acl_ids_apply(unsigned char *v, size_t len)
{
  if (!atomic_load_explicit(&set, memory_order_acquire) || len < HEADER)
    return;
  pthread_mutex_lock(&lock);
  for (size_t i = HEADER; i + ENTRY <= len; i += ENTRY) {
    uint16_t tag;
    uint32_t id;
    memcpy(&tag, v + i, 2);
    tag = le16toh(tag);
    if (tag != TAG_USER && tag != TAG_GROUP)
      continue;
    memcpy(&id, v + i + 4, 4);
    id = htole32(map_one(tag == TAG_USER ? 0 : 1, le32toh(id)));
    memcpy(v + i + 4, &id, 4);
  }
  pthread_mutex_unlock(&lock);
  /* In order of tag, then id, as rsync's receiver packs them (a stable sort: two ids mapped to one stay
   * two, in the order they had). */
  for (size_t i = HEADER + ENTRY; i + ENTRY <= len; i += ENTRY) {
    unsigned char e[ENTRY];
    memcpy(e, v + i, ENTRY);
    size_t k = i;
    while (k > HEADER && entry_after(v + k - ENTRY, e)) {
      memcpy(v + k, v + k - ENTRY, ENTRY);
      k -= ENTRY;
    }
    memcpy(v + k, e, ENTRY);
  }
}

napi_value acl_id_rules(napi_env env, napi_callback_info info)
{
  ARGS(2);
  static const char usage[] = "aclIdRules(users: boolean, ranges: Uint32Array)";
  bool users = false;
  napi_typedarray_type type;
  size_t n = 0;
  void *data = NULL;
  if (argc < 2 || napi_get_value_bool(env, argv[0], &users) != napi_ok ||
      napi_get_typedarray_info(env, argv[1], &type, &n, &data, NULL, NULL) != napi_ok || type != napi_uint32_array || n % 3)
    return throw_type(env, usage);
  struct range *r = n ? malloc(n / 3 * sizeof *r) : NULL;
  if (n && !r)
    return throw_type(env, "aclIdRules: out of memory");
  const uint32_t *t = data;
  for (size_t i = 0; i < n / 3; i++)
    r[i] = (struct range){t[3 * i], t[3 * i + 1], t[3 * i + 2]};
  int kind = users ? 0 : 1;
  pthread_mutex_lock(&lock);
  free(rules[kind]);
  rules[kind] = r;
  counts[kind] = n / 3;
  pthread_mutex_unlock(&lock);
  atomic_store_explicit(&set, counts[0] || counts[1], memory_order_release);
  return NULL;
}
