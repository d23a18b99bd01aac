/* totp.c - RFC 6238 codes through liboath; see totp.h. */
#include "auth/totp.h"

#include <liboath/oath.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"

static pthread_once_t oath_once = PTHREAD_ONCE_INIT;
static void oath_start(void) { (void)oath_init(); }

/* RFC 4648 base32 alphabet. liboath has an encoder, but it pads with '=',
 * which some authenticator apps refuse in a URI; 20 bytes fill exactly 32
 * characters, so the unpadded form is simple to write here. */
static const char B32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

void ob_totp_new_secret(char out[OB_TOTP_B32_LEN + 1])
{
    unsigned char key[OB_TOTP_SECRET_BYTES];
    randombytes_buf(key, sizeof key);
    size_t o = 0;
    for (size_t i = 0; i < sizeof key; i += 5) {
        uint64_t v = 0;
        for (size_t j = 0; j < 5; j++) v = v << 8 | key[i + j];
        for (int s = 35; s >= 0; s -= 5) out[o++] = B32[(v >> s) & 31];
    }
    out[o] = '\0';
    sodium_memzero(key, sizeof key);
}

static void add_pct(ob_sb *sb, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
            c == '.' || c == '_' || c == '~' || c == '@')
            ob_sb_addc(sb, (char)c);
        else
            ob_sb_addf(sb, "%%%02X", c);
    }
}

const char *ob_totp_uri(ob_arena *a, const char *issuer, const char *account, const char *b32)
{
    ob_sb sb;
    ob_sb_init_arena(&sb, a, 128);
    ob_sb_adds(&sb, "otpauth://totp/");
    add_pct(&sb, issuer);
    ob_sb_addc(&sb, ':');
    add_pct(&sb, account);
    ob_sb_adds(&sb, "?secret=");
    ob_sb_adds(&sb, b32);
    ob_sb_adds(&sb, "&issuer=");
    add_pct(&sb, issuer);
    ob_sb_addf(&sb, "&algorithm=SHA1&digits=%d&period=%d", OB_TOTP_DIGITS, OB_TOTP_STEP_S);
    return sb.buf;
}

/* Decode into key; 0 or -1. liboath's decoder allocates with malloc. */
static int decode(const char *b32, unsigned char key[OB_TOTP_SECRET_BYTES])
{
    pthread_once(&oath_once, oath_start);
    char *raw = NULL;
    size_t n = 0;
    if (!b32 || strlen(b32) != OB_TOTP_B32_LEN || oath_base32_decode(b32, OB_TOTP_B32_LEN, &raw, &n) != OATH_OK)
        return -1;
    int rc = n == OB_TOTP_SECRET_BYTES ? 0 : -1;
    if (rc == 0) memcpy(key, raw, n);
    sodium_memzero(raw, n);
    free(raw);
    return rc;
}

static int code_for(const unsigned char key[OB_TOTP_SECRET_BYTES], int64_t step, char out[OB_TOTP_DIGITS + 1])
{
    /* Passing the step's first second with a zero start offset makes liboath
     * compute exactly this step. */
    return oath_totp_generate2((const char *)key, OB_TOTP_SECRET_BYTES, (time_t)(step * OB_TOTP_STEP_S),
                               OB_TOTP_STEP_S, 0, OB_TOTP_DIGITS, 0, out) == OATH_OK
               ? 0
               : -1;
}

int ob_totp_code(const char *b32, int64_t step, char out[OB_TOTP_DIGITS + 1])
{
    unsigned char key[OB_TOTP_SECRET_BYTES];
    if (decode(b32, key) != 0) return -1;
    int rc = code_for(key, step, out);
    sodium_memzero(key, sizeof key);
    return rc;
}

int64_t ob_totp_check(const char *b32, const char *code, int64_t now_s, int window, int64_t last_step)
{
    if (!code || strlen(code) != OB_TOTP_DIGITS || now_s < 0 || window < 0) return -1;
    for (const char *c = code; *c; c++)
        if (*c < '0' || *c > '9') return -1;
    unsigned char key[OB_TOTP_SECRET_BYTES];
    if (decode(b32, key) != 0) return -1;
    int64_t now_step = now_s / OB_TOTP_STEP_S, hit = -1;
    /* Every step in the window is computed, matched or not, so the time
     * taken does not say which step matched. */
    for (int64_t s = now_step - window; s <= now_step + window; s++) {
        char want[OB_TOTP_DIGITS + 1];
        if (s < 0 || code_for(key, s, want) != 0) continue;
        if (sodium_memcmp(want, code, OB_TOTP_DIGITS) == 0 && s > last_step && hit < 0) hit = s;
    }
    sodium_memzero(key, sizeof key);
    return hit;
}
