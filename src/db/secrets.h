/* secrets.h - secret column values sealed at rest.
 *
 * A column declared OB_ENCRYPTED (schema/registry.h) is stored as
 *     v1:<key id>:<base64url(nonce || XChaCha20-Poly1305 ciphertext)>
 * sealed under a key derived per tenant (BLAKE2b keyed with the master key,
 * over the tenant slug) with "table, row id, column" as associated data, so a
 * value copied into another row, column or tenant does not open. The key id
 * (8 hex characters of a BLAKE2b of the master key) names which master key
 * sealed it, so a process holding the current and the previous key opens
 * both while `opsbase keys rotate` re-seals (docs/cli.md "Master keys").
 *
 * The master key is 32 bytes written as 64 hex characters, given by file
 * (--master-key-file, OPSBASE_MASTER_KEY_FILE) or environment
 * (OPSBASE_MASTER_KEY), and never stored in the data directory. Keys are set
 * once at start-up, before any thread runs; after that everything here is
 * read-only and thread-safe. Without a key, sealing and opening fail with
 * OB_E_INTERNAL ("no master key"); `opsbase serve` refuses to start.
 */
#ifndef OB_SECRETS_H
#define OB_SECRETS_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "base/strbuf.h"

#define OB_SECRET_KEY_BYTES 32

/* Read a key file (64 hex characters, surrounding white space ignored). */
int ob_secrets_read_key(const char *path, unsigned char key[OB_SECRET_KEY_BYTES], ob_err *err);
/* Configure from the options, else the environment: key_file or
 * OPSBASE_MASTER_KEY_FILE or OPSBASE_MASTER_KEY become the current key;
 * old_key_file (during a rotation) is a key that still opens. Nothing given
 * is not an error here (callers that need a key check ob_secrets_ready). */
int ob_secrets_configure(const char *key_file, const char *old_key_file, ob_err *err);
/* Make key the current one (sealing); the previous current still opens. */
void ob_secrets_use(const unsigned char key[OB_SECRET_KEY_BYTES]);
bool ob_secrets_ready(void);
/* The current key's id (8 hex characters), "" without one. */
const char *ob_secrets_key_id(void);

/* Seal plain (n bytes) for tenant/table/id/col; text appended to out. */
int ob_secret_seal(ob_sb *out, const char *tenant, const char *table, const char *id, const char *col,
                   const char *plain, size_t n, ob_err *err);
/* Open a sealed value; plaintext appended to out. -1 (OB_E_INTERNAL) when it
 * is not sealed text, names a key this process does not hold, or fails
 * authentication (tampered, or moved from another row). */
int ob_secret_open(ob_sb *out, const char *tenant, const char *table, const char *id, const char *col,
                   const char *sealed, size_t n, ob_err *err);
/* Whether text has the sealed form (it may still fail to open). */
bool ob_secret_looks_sealed(const char *s, size_t n);
/* Whether a sealed value was sealed under the current key. */
bool ob_secret_is_current(const char *s, size_t n);
/* Keyed BLAKE2b (the tenant's lookup key) of a plaintext, 64 hex characters:
 * equal values of one table's column hash alike, so a unique index or an
 * equality lookup works without the plaintext being stored. */
int ob_secret_blind(char out[65], const char *tenant, const char *table, const char *col, const char *plain,
                    size_t n, ob_err *err);

#endif
