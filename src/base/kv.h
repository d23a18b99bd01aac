/* kv.h - a key and its value, both NUL-terminated text: query parameters as
 * the HTTP layer hands them to the layers that read them. */
#ifndef OB_KV_H
#define OB_KV_H

typedef struct ob_kv {
    const char *key;   /* percent-decoded, NUL-terminated */
    const char *val;
} ob_kv;

#endif
