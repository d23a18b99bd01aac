/* codec.h - small encoders: base64url (no padding), hex, percent-decoding,
 * and token hashing. */
#ifndef OB_CODEC_H
#define OB_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

void ob_b64url_encode(ob_sb *out, const void *data, size_t n);
/* Decode; -1 on any invalid character or length. */
int ob_b64url_decode(ob_sb *out, const char *s, size_t n);
void ob_hex_encode(ob_sb *out, const void *data, size_t n);
/* Decode %XX and (when plus_is_space) '+'; -1 on a bad escape or a decoded NUL. */
int ob_percent_decode(ob_sb *out, const char *s, size_t n, int plus_is_space);
/* 64 hex chars of BLAKE2b-256 over s (for storing tokens as hashes). */
void ob_token_hash(const char *s, size_t n, char out[65]);
/* SHA-256 over data given in pieces (uploads hashed while they stream).
 * The state is libsodium's, kept opaque so callers need not include it. */
typedef struct ob_sha256 {
    _Alignas(16) unsigned char state[256];
} ob_sha256;
void ob_sha256_init(ob_sha256 *h);
void ob_sha256_update(ob_sha256 *h, const void *data, size_t n);
/* 64 lower-case hex characters and a NUL. */
void ob_sha256_final(ob_sha256 *h, char out[65]);
/* n random bytes as base64url text. */
void ob_random_b64url(ob_sb *out, size_t nbytes);

#endif
