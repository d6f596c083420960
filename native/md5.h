/* MD5 (RFC 1321), written here rather than taken from OpenSSL: Node carries its own OpenSSL, whose
 * symbols an addon linking another one would clash with. rsync's "md5" block and file sums use it. */
#ifndef ARSYNC_MD5_H
#define ARSYNC_MD5_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
  uint32_t state[4];
  uint64_t bytes;
  uint8_t block[64];
} md5_ctx;

void md5_init(md5_ctx *c);
void md5_update(md5_ctx *c, const uint8_t *p, size_t n);
void md5_final(md5_ctx *c, uint8_t out[16]);

#endif
