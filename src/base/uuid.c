/* uuid.c - UUIDv7 (RFC 9562, method 1: a 12-bit counter in rand_a).
 *
 * One process-wide state under a mutex: the last timestamp used and the
 * counter. A new millisecond reseeds the counter randomly with its top bit
 * clear (room for at least 2048 ids in that millisecond); within the same
 * millisecond, or when the wall clock steps back, the counter increments; on
 * overflow the timestamp is advanced by 1 ms. So ids from one process are
 * strictly increasing, as bytes and as lower-case text. */
#include "base/uuid.h"

#include <pthread.h>
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/banned.h"

static pthread_once_t uuid_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t uuid_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t uuid_last_ms = -1;
static uint32_t uuid_counter;

static void uuid_sodium_init(void)
{
    /* randombytes works without it, but sodium_init picks the best source and
     * makes later calls thread-safe; failure means no usable entropy. */
    if (sodium_init() < 0)
        abort();
}

/* Random bytes from a per-thread pool refilled 512 bytes at a time: one
 * getrandom(2) per 64 ids instead of one per id (it showed up at a few
 * percent of a request's CPU). The process never forks after making ids. */
static _Thread_local unsigned char pool[512];
static _Thread_local size_t pool_left;

static void random_bytes(unsigned char *out, size_t n)
{
    if (pool_left < n) {
        randombytes_buf(pool, sizeof pool);
        pool_left = sizeof pool;
    }
    memcpy(out, pool + sizeof pool - pool_left, n);
    pool_left -= n;
}



void ob_uuid7(char out[OB_UUID_LEN])
{
    pthread_once(&uuid_once, uuid_sodium_init);

    unsigned char b[16], seed[2];
    random_bytes(b + 8, 8);
    random_bytes(seed, 2);

    pthread_mutex_lock(&uuid_lock);
    int64_t now = ob_now_ms();
    uint32_t fresh = ((uint32_t)seed[0] << 8 | seed[1]) & 0x7FF;
    if (now > uuid_last_ms) {
        uuid_last_ms = now;
        uuid_counter = fresh;
    } else if (++uuid_counter > 0xFFF) {
        uuid_last_ms++;
        uuid_counter = fresh;
    }
    uint64_t ts = (uint64_t)uuid_last_ms;
    uint32_t ctr = uuid_counter;
    pthread_mutex_unlock(&uuid_lock);

    for (int i = 0; i < 6; i++)
        b[i] = (unsigned char)(ts >> (8 * (5 - i)));
    b[6] = (unsigned char)(0x70 | ((ctr >> 8) & 0x0F));
    b[7] = (unsigned char)(ctr & 0xFF);
    b[8] = (unsigned char)(0x80 | (b[8] & 0x3F)); /* variant 10 */

    static const char hex[] = "0123456789abcdef";
    char *p = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *p++ = '-';
        *p++ = hex[b[i] >> 4];
        *p++ = hex[b[i] & 0x0F];
    }
    *p = '\0';
}

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool ob_uuid_valid(const char *s)
{
    if (!s)
        return false;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return false;
        } else if (!is_hex(s[i])) {
            return false; /* also stops at a NUL in a short string */
        }
    }
    return s[36] == '\0';
}
