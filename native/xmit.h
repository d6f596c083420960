/* rsync's file-list wire vocabulary (rsync.h's XMIT_* bits, protocol 30 and later, and its limit on a name),
 * shared by the C encoder (flistenc.c) and decoder (flistdec.c). The TypeScript twin is src/remote/flist.ts
 * Xmit; test/contract/native-constants.test.ts holds the two equal. */
#ifndef ARSYNC_XMIT_H
#define ARSYNC_XMIT_H

enum xmit {
  X_TOP_DIR = 1 << 0,
  X_SAME_MODE = 1 << 1,
  X_EXTENDED_FLAGS = 1 << 2,
  X_SAME_UID = 1 << 3,
  X_SAME_GID = 1 << 4,
  X_SAME_NAME = 1 << 5,
  X_LONG_NAME = 1 << 6,
  X_SAME_TIME = 1 << 7,
  X_SAME_RDEV_MAJOR = 1 << 8,
  X_NO_CONTENT_DIR = 1 << 8,
  X_HLINKED = 1 << 9,
  X_USER_NAME_FOLLOWS = 1 << 10,
  X_GROUP_NAME_FOLLOWS = 1 << 11,
  X_HLINK_FIRST = 1 << 12,
  X_IO_ERROR_ENDLIST = 1 << 12,
  X_MOD_NSEC = 1 << 13,
  X_SAME_ATIME = 1 << 14,
};

/* rsync's MAXPATHLEN: no name or symlink target on the wire may reach it. */
#define XMIT_MAXPATHLEN 1024

#endif
