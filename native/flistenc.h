/* The file list's entries encoded as a sending rsync writes them (native/flistenc.c; the TypeScript twin
 * is src/remote/flist-send.ts FlistEncoder): from flistWalk's arrays for a push, and counted as rsync's
 * multiplexed output would frame them for a local run's byte figures (native/streamlist.c). */
#ifndef ARSYNC_FLISTENC_H
#define ARSYNC_FLISTENC_H

#include <node_api.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* flistEncode's option bits (src/run/push-native.ts mirrors them; test/contract/flist-encode.test.ts
 * parses them from here). */
enum {
  FLE_VARINT_FLAGS = 1, /* CF_VARINT_FLIST_FLAGS: each entry's flags as a varint */
  FLE_UID = 2,          /* -o */
  FLE_GID = 4,          /* -g */
  FLE_LINKS = 8,        /* -l */
  FLE_DEVICES = 16,     /* --devices */
  FLE_SPECIALS = 32,    /* --specials */
  FLE_NUMERIC_IDS = 64, /* --numeric-ids: no names after new ids in incremental lists */
};

/* rsync's multiplexed output buffer (io.c: IO_BUFFER_SIZE * 2) and the MSG_DATA header of each frame. */
#define MUX_OUT_SIZE (64 * 1024)
#define MUX_HEADER 4

/* Where the encoder writes: a growing buffer, or (counting) only the sizes of rsync's frames. */
struct fle_out {
  uint8_t *p;
  size_t n, cap;
  bool failed;
  bool counting;
  /* counting: bytes held in the output buffer (its header's room included), and written as frames */
  uint64_t held, written;
};

/* What one entry carries (a symlink's target only with FLE_LINKS; size: a file's, a symlink's target's). */
struct fle_ent {
  const char *name;
  size_t len;
  uint32_t mode, uid, gid, rmaj, rmin;
  int64_t size, mtime;
  int32_t nsec;
  const char *target;
  size_t tlen;
};

struct fle_ids {
  uint32_t *v;
  size_t n, cap;
};

/* send_file_entry's state, which rsync keeps in statics: each entry is encoded against the one sent
 * before it, across the lists of an incremental walk too. Zero-initialised but for the settings. */
struct fle {
  unsigned bits;
  int protocol;
  /* Incremental lists (counted only): a new id's name follows it (name_len: its length, -1: none). */
  bool incremental;
  int (*name_len)(void *arg, uint32_t id, bool user);
  void *name_arg;
  uint32_t mode, uid, gid, rdev_major;
  int64_t mtime;
  char last[255];
  size_t last_len;
  size_t sent;
  struct fle_ids users, groups;
};

/* One entry (`top`: the operand's own directory, rsync's XMIT_TOP_DIR). */
void fle_entry(struct fle *st, struct fle_out *o, const struct fle_ent *e, bool top);
/* What rsync's io_flush() sends of counted output: the held bytes as one frame. */
void fle_flush(struct fle_out *o);
void fle_free(struct fle *st);

napi_value flist_encode(napi_env env, napi_callback_info info);

#endif
