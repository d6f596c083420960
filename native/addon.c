/* Registers the addon's functions; everything else lives in one file per concept. */
#include <node_api.h>

#include "abi.h"
#include "aclio.h"
#include "aclids.h"
#include "basissum.h"
#include "checksum.h"
#include "deltamatch.h"
#include "ctxapi.h"
#include "fakesuper.h"
#include "iconv.h"
#include "listcurrent.h"
#include "offthread.h"
#include "xattrio.h"
#include "scanpair.h"
#include "pipes.h"
#include "rmtree.h"
#include "sendread.h"
#include "stagefile.h"
#include "flistenc.h"
#include "streamlist.h"
#include "flistwalk.h"
#include "flistsort.h"
#include "tree.h"
#include "walk.h"

/* abi(): { abi, napi }, so the loader can check an addon before using it (docs/native-contract.md). */
static napi_value addon_abi(napi_env env, napi_callback_info info)
{
  (void)info;
  napi_value obj, abi, napi;
  if (napi_create_object(env, &obj) != napi_ok || napi_create_int32(env, ARSYNC_ADDON_ABI, &abi) != napi_ok ||
      napi_create_int32(env, NAPI_VERSION, &napi) != napi_ok || napi_set_named_property(env, obj, "abi", abi) != napi_ok ||
      napi_set_named_property(env, obj, "napi", napi) != napi_ok)
    return NULL;
  return obj;
}

static napi_value init(napi_env env, napi_value exports)
{
  const napi_property_descriptor fns[] = {
    {"abi", NULL, addon_abi, NULL, NULL, NULL, napi_enumerable, NULL},
    {"uringProbe", NULL, ctx_uring_probe, NULL, NULL, NULL, napi_enumerable, NULL},
    {"scanDir", NULL, walk_scan_dir, NULL, NULL, NULL, napi_enumerable, NULL},
    {"lstat", NULL, walk_lstat, NULL, NULL, NULL, napi_enumerable, NULL},
    {"stat", NULL, walk_stat, NULL, NULL, NULL, napi_enumerable, NULL},
    {"readlink", NULL, walk_readlink, NULL, NULL, NULL, napi_enumerable, NULL},
    {"createContext", NULL, ctx_create, NULL, NULL, NULL, napi_enumerable, NULL},
    {"run", NULL, ctx_run, NULL, NULL, NULL, napi_enumerable, NULL},
    {"runAsync", NULL, off_run_async, NULL, NULL, NULL, napi_enumerable, NULL},
    {"closeContext", NULL, ctx_close, NULL, NULL, NULL, napi_enumerable, NULL},
    {"scanDest", NULL, walk_scan_dest, NULL, NULL, NULL, napi_enumerable, NULL},
    {"readlinkDest", NULL, ctx_readlink_dest, NULL, NULL, NULL, napi_enumerable, NULL},
    {"xattrDiff", NULL, ctx_xattr_diff, NULL, NULL, NULL, napi_enumerable, NULL},
    {"removeSource", NULL, ctx_remove_source, NULL, NULL, NULL, napi_enumerable, NULL},
    {"pairOpen", NULL, pair_open, NULL, NULL, NULL, napi_enumerable, NULL},
    {"pairNext", NULL, pair_next, NULL, NULL, NULL, napi_enumerable, NULL},
    {"pairRewind", NULL, pair_rewind, NULL, NULL, NULL, napi_enumerable, NULL},
    {"pairDirect", NULL, pair_direct, NULL, NULL, NULL, napi_enumerable, NULL},
    {"pairClose", NULL, pair_close, NULL, NULL, NULL, napi_enumerable, NULL},
    {"scanTree", NULL, scan_tree, NULL, NULL, NULL, napi_enumerable, NULL},
    {"sumChecksum1", NULL, sum_checksum1, NULL, NULL, NULL, napi_enumerable, NULL},
    {"sumChecksum1Variants", NULL, sum_checksum1_variants, NULL, NULL, NULL, napi_enumerable, NULL},
    {"sumBlock", NULL, sum_block, NULL, NULL, NULL, napi_enumerable, NULL},
    {"sumBlocks", NULL, sum_blocks, NULL, NULL, NULL, napi_enumerable, NULL},
    {"sumFileBlocks", NULL, sum_file_blocks, NULL, NULL, NULL, napi_enumerable, NULL},
    {"sumHasher", NULL, sum_hasher, NULL, NULL, NULL, napi_enumerable, NULL},
    {"sumHasherUpdate", NULL, sum_hasher_update, NULL, NULL, NULL, napi_enumerable, NULL},
    {"sumHasherDigest", NULL, sum_hasher_digest, NULL, NULL, NULL, napi_enumerable, NULL},
    {"sumRollScan", NULL, sum_roll_scan, NULL, NULL, NULL, napi_enumerable, NULL},
    {"sumMatcher", NULL, sum_matcher, NULL, NULL, NULL, napi_enumerable, NULL},
    {"sumMatchRun", NULL, sum_match_run, NULL, NULL, NULL, napi_enumerable, NULL},
    {"sendOpen", NULL, send_open, NULL, NULL, NULL, napi_enumerable, NULL},
    {"sendReadWhole", NULL, send_read_whole, NULL, NULL, NULL, napi_enumerable, NULL},
    {"sendFile", NULL, send_file, NULL, NULL, NULL, napi_enumerable, NULL},
    {"pipeOpen", NULL, pipe_open, NULL, NULL, NULL, napi_enumerable, NULL},
    {"pipeResize", NULL, pipe_resize, NULL, NULL, NULL, napi_enumerable, NULL},
    {"removeTree", NULL, rm_tree, NULL, NULL, NULL, napi_enumerable, NULL},
    {"moveTree", NULL, mv_tree, NULL, NULL, NULL, napi_enumerable, NULL},
    {"writeNew", NULL, stage_write_new, NULL, NULL, NULL, napi_enumerable, NULL},
    {"writeNewSettled", NULL, stage_write_new_settled, NULL, NULL, NULL, napi_enumerable, NULL},
    {"listCurrent", NULL, list_current, NULL, NULL, NULL, napi_enumerable, NULL},
    {"flistWalk", NULL, flist_walk, NULL, NULL, NULL, napi_enumerable, NULL},
    {"flistEncode", NULL, flist_encode, NULL, NULL, NULL, napi_enumerable, NULL},
    {"flistOrder", NULL, flist_order, NULL, NULL, NULL, napi_enumerable, NULL},
    {"streamListCount", NULL, stream_list_count, NULL, NULL, NULL, napi_enumerable, NULL},
    {"fakeRead", NULL, fake_read, NULL, NULL, NULL, napi_enumerable, NULL},
    {"aclGet", NULL, acl_get, NULL, NULL, NULL, napi_enumerable, NULL},
    {"aclSet", NULL, acl_set, NULL, NULL, NULL, napi_enumerable, NULL},
    {"aclIdRules", NULL, acl_id_rules, NULL, NULL, NULL, napi_enumerable, NULL},
    {"xattrRead", NULL, xattr_read, NULL, NULL, NULL, napi_enumerable, NULL},
    {"xattrWrite", NULL, xattr_write, NULL, NULL, NULL, napi_enumerable, NULL},
    {"iconvCharset", NULL, iconv_charset, NULL, NULL, NULL, napi_enumerable, NULL},
    {"iconvOpen", NULL, iconv_open_js, NULL, NULL, NULL, napi_enumerable, NULL},
    {"iconvConvert", NULL, iconv_convert, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof fns / sizeof fns[0], fns) != napi_ok)
    return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
