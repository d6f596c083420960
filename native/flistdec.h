/* The received file list decoded in C (native/flistdec.c), the common entries of a pull's list: the
 * TypeScript decoder (src/remote/flist.ts FlistDecoder) takes every other one. src/remote/flist-native.ts
 * mirrors these numbers; test/contract/native-constants.test.ts parses them from here. */
#ifndef ARSYNC_FLISTDEC_H
#define ARSYNC_FLISTDEC_H

#include <node_api.h>

/* flistDecode's option bits: what the two sides agreed on that changes which fields an entry carries. */
enum fld_bit {
  FLD_VARINT_FLAGS = 1, /* CF_VARINT_FLIST_FLAGS: each entry's flags as a varint */
  FLD_UID = 2,          /* -o */
  FLD_GID = 4,          /* -g */
  FLD_LINKS = 8,        /* -l */
  FLD_DEVICES = 16,     /* --devices */
  FLD_SPECIALS = 32,    /* --specials */
  FLD_HARD_LINKS = 64,  /* -H: a hard-linked entry is left to TypeScript */
  FLD_ATIMES = 128,     /* -U */
};

/* The decoder's state (a Float64Array): what rsync's receiver keeps from the previous entry, the
 * read position, and what the call did. */
enum fld_state {
  FLD_S_MTIME = 0,
  FLD_S_MODE = 1,
  FLD_S_UID = 2,
  FLD_S_GID = 3,
  FLD_S_ATIME = 4,
  FLD_S_RDEV_MAJOR = 5,
  FLD_S_LAST_LEN = 6, /* the previous name's length; its bytes are in the `last` buffer */
  FLD_S_POS = 7,      /* in: where to start; out: just past the last entry decoded */
  FLD_S_USED = 8,     /* out: bytes written to `bytes` */
  FLD_S_STOP = 9,     /* out: why it stopped (enum fld_stop) */
  FLD_STATE_LEN = 10,
};

/* Why a call stopped. */
enum fld_stop {
  FLD_STOP_SHORT = 0, /* the next entry has not all arrived */
  FLD_STOP_OTHER = 1, /* the next entry is TypeScript's: the end marker, a hard link, a name that follows an
                       * id, a name to clean, or anything to refuse (its error is TypeScript's) */
  FLD_STOP_FULL = 2,  /* the output arrays are full */
};

/* One decoded entry's numbers in `nums`; its name, then its symlink target, then its checksum are the
 * next bytes of `bytes`. */
enum fld_entry {
  FLD_E_NAME_LEN = 0,
  FLD_E_MODE = 1,
  FLD_E_SIZE = 2,
  FLD_E_MTIME = 3,
  FLD_E_NSEC = 4,
  FLD_E_ATIME = 5,
  FLD_E_UID = 6,
  FLD_E_GID = 7,
  FLD_E_RDEV_MAJOR = 8,
  FLD_E_RDEV_MINOR = 9,
  FLD_E_LINK_LEN = 10,
  FLD_E_FLAGS = 11,
  FLD_ENTRY = 12,
};

enum fld_flag {
  FLD_F_TOP_DIR = 1,
  FLD_F_NO_CONTENT = 2,
  FLD_F_RDEV = 4,
};

/* flistDecode(input, bits, protocol, sumLen, state, last, nums, bytes) -> count of entries decoded. */
napi_value flist_decode(napi_env env, napi_callback_info info);

#endif
