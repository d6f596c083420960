/* Destination parents: the directory that holds each op's target, opened beneath the destination
 * root (beneath.c) and kept in a one-entry cache while consecutive ops share it, refcounted because
 * in-flight uring ops keep using a parent after the cache has moved on. */
#include "dest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "beneath.h"
#include "source.h"

/* -K lets openat2 follow symlinks to directories, still never out of the root. */
static unsigned dest_opts(const struct ctx *c)
{
  return (c->flags & P_KEEP_DIRLINKS) ? BENEATH_DIRLINKS : 0;
}

int dest_open(struct ctx *c, const uint8_t *rel, uint32_t len, int flags)
{
  if (len == 0) {
    int fd = openat(c->rootfd, ".", flags | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
  }
  if (rel[0] == '/')
    return -EXDEV;
  return beneath_open_path(c->rootfd, rel, len, flags, dest_opts(c));
}

void parent_put(struct ctx *c, struct parent *p)
{
  (void)c;
  if (!p || --p->refs > 0)
    return;
  if (!p->borrowed) {
    close(p->fd); /* an O_PATH fd: close cannot report anything we could act on */
    free(p);
  }
}

void parents_drop_cache(struct ctx *c)
{
  struct parent *p = c->cache;
  c->cache = NULL;
  parent_put(c, p);
  src_drop_cache(c);
}

void parents_release_all(struct ctx *c)
{
  parents_drop_cache(c);
  src_drop_anchor(c);
}

static bool dot_name(const uint8_t *n, uint32_t len)
{
  return (len == 1 && n[0] == '.') || (len == 2 && n[0] == '.' && n[1] == '.');
}

int dest_parent(struct job *j, const uint8_t *path, uint32_t len, struct parent **out, char name[NAME_MAX + 1])
{
  struct ctx *c = j->c;
  *out = NULL;
  if (len > 0 && path[0] == '/')
    return job_fail(j, EXDEV, "open", W_DST); /* same answer openat2 gives for escaping paths */
  const uint8_t *slash = len ? memrchr(path, '/', len) : NULL;
  uint32_t plen = slash ? (uint32_t)(slash - path) : 0;
  const uint8_t *nm = slash ? slash + 1 : path;
  uint32_t nlen = len - (uint32_t)(nm - path);
  if (nlen == 0 || dot_name(nm, nlen))
    return job_fail(j, EINVAL, "open", W_DST);
  int e = zpath(nm, nlen, name, NAME_MAX + 1);
  if (e)
    return job_fail(j, e, "open", W_DST);
  if (plen == 0) {
    c->root->refs++;
    *out = c->root;
    return OP_OK;
  }
  struct parent *p = c->cache;
  if (p && p->len == plen && memcmp(p->path, path, plen) == 0) {
    p->refs++;
    *out = p;
    return OP_OK;
  }
  p = malloc(sizeof *p + plen);
  if (!p)
    return job_fail(j, ENOMEM, "open", W_DST);
  int fd = beneath_open_path(c->rootfd, path, plen, O_PATH | O_DIRECTORY, dest_opts(c));
  if (fd < 0) {
    free(p);
    return job_fail(j, -fd, "open", W_DST);
  }
  p->fd = fd;
  p->refs = 2; /* the cache's and the caller's */
  p->borrowed = false;
  p->inherit = 0;
  p->unnamed = 0;
  p->len = plen;
  memcpy(p->path, path, plen);
  parents_drop_cache(c);
  c->cache = p;
  *out = p;
  return OP_OK;
}
