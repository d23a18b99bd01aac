/* secrets.c - sealing of secret column values (secrets.h). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "db/secrets.h"
#include "base/codec.h"
#include "base/banned.h"

#define NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_BYTES crypto_aead_xchacha20poly1305_ietf_ABYTES
#define KID_LEN 8

/* keys[0] seals and opens; keys[1], when set, only opens (the key being
 * rotated away from). Written at start-up before threads, read-only after. */
typedef struct master_key {
    bool set;
    unsigned char key[OB_SECRET_KEY_BYTES];
    char kid[KID_LEN + 1];
} master_key;
static master_key keys[2];

static void key_id(const unsigned char key[OB_SECRET_KEY_BYTES], char out[KID_LEN + 1])
{
    unsigned char h[16];
    static const char label[] = "opsbase key id";
    crypto_generichash(h, sizeof h, (const unsigned char *)label, sizeof label - 1, key, OB_SECRET_KEY_BYTES);
    static const char hexd[] = "0123456789abcdef";
    for (int i = 0; i < KID_LEN / 2; i++) {
        out[2 * i] = hexd[h[i] >> 4];
        out[2 * i + 1] = hexd[h[i] & 15];
    }
    out[KID_LEN] = 0;
}

static int parse_hex_key(const char *s, size_t n, unsigned char key[OB_SECRET_KEY_BYTES], ob_err *err)
{
    while (n && isspace((unsigned char)s[n - 1])) n--;
    while (n && isspace((unsigned char)*s)) s++, n--;
    size_t got = 0;
    if (n != 2 * OB_SECRET_KEY_BYTES ||
        sodium_hex2bin(key, OB_SECRET_KEY_BYTES, s, n, NULL, &got, NULL) != 0 || got != OB_SECRET_KEY_BYTES)
        return ob_err_set(err, OB_E_INTERNAL, "a master key is 64 hex characters (32 bytes)");
    return 0;
}

int ob_secrets_read_key(const char *path, unsigned char key[OB_SECRET_KEY_BYTES], ob_err *err)
{
    FILE *f = fopen(path, "r");
    if (!f) return ob_err_set(err, OB_E_INTERNAL, "master key file %s: %s", path, strerror(errno));
    char buf[256];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    int rc = parse_hex_key(buf, n, key, err);
    sodium_memzero(buf, sizeof buf);
    if (rc != 0) ob_err_set(err, OB_E_INTERNAL, "master key file %s: not 64 hex characters", path);
    return rc;
}

static void set_key(int slot, const unsigned char key[OB_SECRET_KEY_BYTES])
{
    memcpy(keys[slot].key, key, OB_SECRET_KEY_BYTES);
    key_id(key, keys[slot].kid);
    keys[slot].set = true;
}

int ob_secrets_configure(const char *key_file, const char *old_key_file, ob_err *err)
{
    if (sodium_init() < 0) return ob_err_set(err, OB_E_INTERNAL, "libsodium did not initialize");
    unsigned char key[OB_SECRET_KEY_BYTES];
    const char *file = key_file ? key_file : getenv("OPSBASE_MASTER_KEY_FILE");
    const char *text = getenv("OPSBASE_MASTER_KEY");
    if (file && *file) {
        if (ob_secrets_read_key(file, key, err) != 0) return -1;
        set_key(0, key);
    } else if (text && *text) {
        if (parse_hex_key(text, strlen(text), key, err) != 0) return -1;
        set_key(0, key);
    }
    if (old_key_file) {
        if (ob_secrets_read_key(old_key_file, key, err) != 0) return -1;
        set_key(1, key);
    }
    sodium_memzero(key, sizeof key);
    return 0;
}

void ob_secrets_use(const unsigned char key[OB_SECRET_KEY_BYTES])
{
    if (keys[0].set) keys[1] = keys[0];
    set_key(0, key);
}

bool ob_secrets_ready(void)
{
    return keys[0].set;
}

const char *ob_secrets_key_id(void)
{
    return keys[0].set ? keys[0].kid : "";
}

/* The tenant's key for one purpose: BLAKE2b keyed with the master key over
 * "opsbase <purpose>" and the slug. */
static void tenant_key(const master_key *m, const char *purpose, const char *tenant,
                       unsigned char out[OB_SECRET_KEY_BYTES])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, m->key, OB_SECRET_KEY_BYTES, OB_SECRET_KEY_BYTES);
    crypto_generichash_update(&st, (const unsigned char *)"opsbase ", 8);
    crypto_generichash_update(&st, (const unsigned char *)purpose, strlen(purpose) + 1);
    crypto_generichash_update(&st, (const unsigned char *)tenant, strlen(tenant));
    crypto_generichash_final(&st, out, OB_SECRET_KEY_BYTES);
}

/* "table\0id\0col": a value opens only in the row and column it was sealed for. */
static size_t assoc(char *buf, size_t cap, const char *table, const char *id, const char *col)
{
    int n = snprintf(buf, cap, "%s%c%s%c%s", table, 0, id ? id : "", 0, col);
    return n < 0 ? 0 : ((size_t)n < cap ? (size_t)n : cap - 1);
}

int ob_secret_seal(ob_sb *out, const char *tenant, const char *table, const char *id, const char *col,
                   const char *plain, size_t n, ob_err *err)
{
    if (!keys[0].set)
        return ob_err_set(err, OB_E_INTERNAL, "no master key: secret columns cannot be written "
                                              "(--master-key-file, OPSBASE_MASTER_KEY_FILE or OPSBASE_MASTER_KEY)");
    unsigned char k[OB_SECRET_KEY_BYTES];
    tenant_key(&keys[0], "secrets", tenant, k);
    char ad[512];
    size_t adn = assoc(ad, sizeof ad, table, id, col);
    size_t clen = NONCE_BYTES + n + TAG_BYTES;
    unsigned char *buf = malloc(clen);
    if (!buf) abort();
    randombytes_buf(buf, NONCE_BYTES);
    unsigned long long got = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(buf + NONCE_BYTES, &got, (const unsigned char *)plain, n,
                                               (const unsigned char *)ad, adn, NULL, buf, k);
    sodium_memzero(k, sizeof k);
    ob_sb_addf(out, "v1:%s:", keys[0].kid);
    ob_b64url_encode(out, buf, NONCE_BYTES + (size_t)got);
    free(buf);
    return 0;
}

bool ob_secret_looks_sealed(const char *s, size_t n)
{
    return n > 3 + KID_LEN + 1 && memcmp(s, "v1:", 3) == 0 && s[3 + KID_LEN] == ':';
}

static const master_key *key_of(const char *s)
{
    for (int i = 0; i < 2; i++)
        if (keys[i].set && memcmp(s + 3, keys[i].kid, KID_LEN) == 0) return &keys[i];
    return NULL;
}

bool ob_secret_is_current(const char *s, size_t n)
{
    return ob_secret_looks_sealed(s, n) && keys[0].set && key_of(s) == &keys[0];
}

int ob_secret_open(ob_sb *out, const char *tenant, const char *table, const char *id, const char *col,
                   const char *sealed, size_t n, ob_err *err)
{
    if (!ob_secret_looks_sealed(sealed, n))
        return ob_err_set(err, OB_E_INTERNAL, "%s.%s holds a value that is not sealed", table, col);
    const master_key *m = key_of(sealed);
    if (!m)
        return ob_err_set(err, OB_E_INTERNAL, "%s.%s was sealed under master key %.8s, which this process does not hold",
                          table, col, sealed + 3);
    ob_sb raw;
    ob_sb_init(&raw, n);
    size_t head = 3 + KID_LEN + 1;
    if (ob_b64url_decode(&raw, sealed + head, n - head) != 0 || raw.len < NONCE_BYTES + TAG_BYTES) {
        ob_sb_release(&raw);
        return ob_err_set(err, OB_E_INTERNAL, "%s.%s: sealed value is damaged", table, col);
    }
    unsigned char k[OB_SECRET_KEY_BYTES];
    tenant_key(m, "secrets", tenant, k);
    char ad[512];
    size_t adn = assoc(ad, sizeof ad, table, id, col);
    size_t mlen = raw.len - NONCE_BYTES - TAG_BYTES;
    unsigned char *plain = malloc(mlen + 1);
    if (!plain) abort();
    unsigned long long got = 0;
    const unsigned char *rb = (const unsigned char *)raw.buf;
    int rc = crypto_aead_xchacha20poly1305_ietf_decrypt(plain, &got, NULL, rb + NONCE_BYTES, raw.len - NONCE_BYTES,
                                                        (const unsigned char *)ad, adn, rb, k);
    sodium_memzero(k, sizeof k);
    ob_sb_release(&raw);
    if (rc != 0) {
        free(plain);
        return ob_err_set(err, OB_E_INTERNAL, "%s.%s does not open: tampered, or not sealed for this row", table, col);
    }
    ob_sb_add(out, plain, (size_t)got);
    sodium_memzero(plain, (size_t)got);
    free(plain);
    return 0;
}

int ob_secret_blind(char out[65], const char *tenant, const char *table, const char *col, const char *plain,
                    size_t n, ob_err *err)
{
    if (!keys[0].set) return ob_err_set(err, OB_E_INTERNAL, "no master key: lookup hashes cannot be made");
    if (!tenant) return ob_err_set(err, OB_E_INTERNAL, "no tenant: lookup hashes cannot be made");
    unsigned char k[OB_SECRET_KEY_BYTES], h[32];
    tenant_key(&keys[0], "lookup", tenant, k);
    crypto_generichash_state st;
    crypto_generichash_init(&st, k, sizeof k, sizeof h);
    crypto_generichash_update(&st, (const unsigned char *)table, strlen(table) + 1);
    crypto_generichash_update(&st, (const unsigned char *)col, strlen(col) + 1);
    crypto_generichash_update(&st, (const unsigned char *)plain, n);
    crypto_generichash_final(&st, h, sizeof h);
    sodium_memzero(k, sizeof k);
    sodium_bin2hex(out, 65, h, sizeof h);
    return 0;
}
