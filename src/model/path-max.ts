// The one bound on path lengths every layer checks: Linux's PATH_MAX, its terminating NUL included, which
// is also rsync's MAXPATHLEN on Linux (the size of its path buffers, so the limits it enforces come from
// it). A path this long or longer cannot be given to the kernel in one call (ENAMETOOLONG).

/** Linux's PATH_MAX and rsync's MAXPATHLEN: 4096 bytes, the NUL included. */
export const PATH_MAX = 4096;

/** rsync's BIGPATHBUFLEN: its buffer for one line of text (a message, a daemon line) that holds a path. */
export const BIGPATHBUFLEN = PATH_MAX + 1024;
