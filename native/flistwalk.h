/* A push's file list of one directory operand, walked in rsync's order (native/flistwalk.c). */
#ifndef ARSYNC_FLISTWALK_H
#define ARSYNC_FLISTWALK_H

#include <fcntl.h>
#include <node_api.h>
#include <sys/stat.h>

/* The doubles of one entry in flistWalk's meta array (src/run/push-native.ts reads them by these
 * places; test/contract/flist-encode.test.ts parses them from here). A symlink's size is its target's
 * length; dev is glibc's makedev() of the device, as Node's fs.Stats and scanDir give it. */
enum {
  FLW_MODE = 0,
  FLW_SIZE = 1,
  FLW_MTIME = 2,
  FLW_NSEC = 3,
  FLW_UID = 4,
  FLW_GID = 5,
  FLW_DEV = 6,
  FLW_INO = 7,
  FLW_RMAJOR = 8,
  FLW_RMINOR = 9,
  FLW_FIELDS = 10,
};

/* What an error record of flistWalk is about. */
enum {
  FLW_ERR_OPENDIR = 1,  /* a directory that could not be opened or read: its contents are left out */
  FLW_ERR_STAT = 2,     /* an entry that could not be stat'ed: left out */
  FLW_ERR_READLINK = 3, /* a symlink whose target could not be read: left out */
};

/* A subdirectory waiting for its turn: its name in the parent's listing and its statx. */
struct flw_dir {
  const char *name;
  struct statx sx;
};

napi_value flist_walk(napi_env env, napi_callback_info info);

#endif
