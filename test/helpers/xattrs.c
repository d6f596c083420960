/*
 * xattrs: every extended attribute (system.posix_acl_* included) of many paths in one process, for the
 * tests' tree comparison (test/helpers/compare.ts readXattrsOf). Each path on stdin is ended by a NUL;
 * for each, in input order, stdout gets NAME NUL VALUE NUL per attribute, VALUE as `getfattr -e hex`
 * writes it ("0x" and lowercase hex digits; empty for an empty value), then one more NUL. A symlink's own
 * attributes are read (l*xattr). A filesystem without xattrs gives none; any other failure names the path
 * on stderr and ends the run with exit 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/xattr.h>

static void die(const char *what, const char *path) {
  fprintf(stderr, "xattrs: %s '%s': %s\n", what, path, strerror(errno));
  exit(1);
}

/* Grows *buf to at least n bytes. */
static void reserve(char **buf, size_t *cap, size_t n) {
  if (n <= *cap) return;
  *buf = realloc(*buf, n);
  if (!*buf) {
    perror("xattrs: realloc");
    exit(1);
  }
  *cap = n;
}

int main(void) {
  char *path = NULL, *names = NULL, *value = NULL;
  size_t pathCap = 0, namesCap = 0, valueCap = 0;
  static const char hex[] = "0123456789abcdef";
  while (getdelim(&path, &pathCap, '\0', stdin) > 0) {
    ssize_t len;
    /* The list may grow between the sizing call and the read: ERANGE sizes it again. */
    for (;;) {
      len = llistxattr(path, NULL, 0);
      if (len < 0) break;
      reserve(&names, &namesCap, (size_t)len + 1);
      len = llistxattr(path, names, (size_t)len);
      if (len >= 0 || errno != ERANGE) break;
    }
    if (len < 0) {
      if (errno != ENOTSUP) die("listing attributes of", path);
      len = 0;
    }
    for (char *name = names; name < names + len; name += strlen(name) + 1) {
      ssize_t n;
      for (;;) {
        n = lgetxattr(path, name, NULL, 0);
        if (n < 0) break;
        reserve(&value, &valueCap, (size_t)n + 1);
        n = lgetxattr(path, name, value, (size_t)n);
        if (n >= 0 || errno != ERANGE) break;
      }
      if (n < 0) {
        if (errno == ENODATA) continue; /* removed since the listing */
        die("reading an attribute of", path);
      }
      fputs(name, stdout);
      putchar('\0');
      if (n > 0) {
        fputs("0x", stdout);
        for (ssize_t i = 0; i < n; i++) {
          putchar(hex[(unsigned char)value[i] >> 4]);
          putchar(hex[(unsigned char)value[i] & 15]);
        }
      }
      putchar('\0');
    }
    putchar('\0');
  }
  free(path);
  free(names);
  free(value);
  return fflush(stdout) == 0 ? 0 : 1;
}
