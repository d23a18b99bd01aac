/* uuid.h - UUIDv7 (RFC 9562): 48-bit Unix ms timestamp, version 7, 74 random
 * bits from libsodium. Ids created by one process are strictly increasing even
 * within one millisecond (the random tail is replaced by a counter seeded
 * randomly), so primary keys are time ordered and index-friendly. */
#ifndef OB_UUID_H
#define OB_UUID_H

#include <stdbool.h>

#define OB_UUID_LEN 37 /* 36 chars + NUL */

/* Write a new lower-case canonical UUIDv7 into out. Thread-safe. */
void ob_uuid7(char out[OB_UUID_LEN]);
/* True when s is a canonical 36-char UUID (any version, hex any case). */
bool ob_uuid_valid(const char *s);

#endif
