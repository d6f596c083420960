/* How failures leave the addon: a positive errno plus the syscall name as Node spells it, either as
 * a `{ errno, syscall }` object (whole-call failures) or as one entry per failed op of a batch.
 * TypeScript turns both into Node-style errors; C never throws for I/O. */
#ifndef ARSYNC_ERRORS_H
#define ARSYNC_ERRORS_H

#include <errno.h>
#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>

#include "batch.h"

/* Which of the op's paths an error is about. */
enum err_where {
  W_SRC = 0,  /* path = op.src, a source path (onDest false) */
  W_DST = 1,  /* path = op.dst, destination-relative (onDest true) */
  W_LINK = 2, /* path = op.src, dest = op.dst, both destination-relative (Hardlink) */
  W_SRC_LINK = 3, /* path = op.src (absolute, outside the destination), dest = op.dst (LinkFrom) */
  W_DST_SRC = 4,  /* path = op.dst, dest = op.src (the absolute backup path; Backup) */
};

/* Longest xattr name (XATTR_NAME_MAX), plus its NUL. */
#define ATTR_NAME_CAP 256

struct operr {
  int no;
  const char *sys; /* static string */
  int where;
  char attr[ATTR_NAME_CAP]; /* the extended attribute a set/remove was refused for, or "" */
};

struct failure {
  uint32_t index;
  uint32_t seq; /* push order: one op may fail more than once (refused attributes) */
  struct operr err;
  const uint8_t *src, *dst; /* point into the batch, alive for the whole run() call */
  uint32_t src_len, dst_len;
};

struct failures {
  struct failure *v;
  size_t n, cap;
  int oom; /* a failure could not be recorded: run() throws instead of under-reporting */
};

void failures_push(struct failures *f, const struct op *op, struct operr err);
void failures_sort(struct failures *f);
void failures_clear(struct failures *f);
void failures_free(struct failures *f);
/* The JS array run() returns; NULL with an exception pending on failure. */
napi_value failures_to_js(napi_env env, const struct failures *f);

/* `{ errno, syscall }` for whole-call failures (scanDir, lstat, createContext). */
napi_value err_object(napi_env env, int no, const char *sys);

/* Throws a TypeError/RangeError/Error unless one is already pending; always returns NULL. */
napi_value throw_type(napi_env env, const char *msg);
napi_value throw_range(napi_env env, const char *msg);
napi_value throw_error(napi_env env, const char *msg);


/* Out of file descriptors (EMFILE per process, ENFILE system-wide): the one condition the engines
 * recover from by giving fds back and trying again (exec.c, pipeline.c), and that abandons the tree
 * scan (tree.c) instead of marking a directory dirty. */
static inline bool fd_exhausted(int e)
{
  return e == EMFILE || e == ENFILE;
}

/* Bails out of a napi callback when a node-api call fails (an exception is then pending or thrown). */
#define NAPI_TRY(env, call)                                                                         \
  do {                                                                                              \
    if ((call) != napi_ok)                                                                          \
      return throw_error((env), "internal node-api call failed: " #call);                          \
  } while (0)

#endif
