/* The named users and groups of a local copy's ACLs mapped as rsync's receiver maps them under
 * --usermap, --groupmap and --chown (uidlist.c match_uid/match_gid for each ACL entry, even without -o/-g).
 * The rules are src/plan/idmap.ts's, resolved there into ranges of source ids (IdMapper.aclRanges); here
 * only the first range holding an id is looked up. Process-wide: set once before a run's first op, read by
 * the ops of every thread. */
#ifndef ARSYNC_ACLIDS_H
#define ARSYNC_ACLIDS_H

#include <node_api.h>
#include <stddef.h>

/* Maps the named entries of a raw system.posix_acl_* value in place (nothing when no rule is set), then
 * orders them by tag and id as rsync's receiver packs them (two ids mapped to one stay two). */
void acl_ids_apply(unsigned char *v, size_t len);

/* aclIdRules(users: boolean, ranges: Uint32Array of (low, high, to) triples): the rules for one kind. */
napi_value acl_id_rules(napi_env env, napi_callback_info info);

#endif
