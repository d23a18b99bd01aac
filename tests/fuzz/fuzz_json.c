/* fuzz_json.c - libFuzzer target for the request-body reader.
 *
 * ob_json_parse_object must never crash, over-read or leak, whatever the
 * bytes; when it accepts, the result is an object with no NUL in any key,
 * and ob_json_depth agrees that the text is within the limit. The input is
 * copied to a buffer of exactly its size so AddressSanitizer sees any read
 * past the end (the reader is given a length, not a NUL-terminated string). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/jsonr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    if (size)
        memcpy(buf, data, size);
    ob_err err;
    /* The server's limit, and a small one so the depth gate is crossed often. */
    static const int depths[] = { OB_JSON_MAX_DEPTH_DEFAULT, 3 };
    for (size_t d = 0; d < sizeof depths / sizeof depths[0]; d++) {
        json_t *obj = ob_json_parse_object(buf, size, depths[d], &err);
        if (obj) {
            if (!json_is_object(obj))
                abort();
            if (ob_json_depth(buf, size) > depths[d])
                abort();
            const char *key;
            json_t *v;
            json_object_foreach(obj, key, v) {
                (void)v;
                if (!key)
                    abort();
            }
            json_decref(obj);
        } else if (err.code != OB_E_BAD_JSON) {
            abort(); /* every refusal is invalid_json */
        }
    }
    free(buf);
    return 0;
}
