/* err.h - the one error type.
 *
 * Fallible functions return 0 on success and -1 on failure and take an
 * `ob_err *` as their last argument, which they fill on failure. The error
 * carries a code from errcodes.def (which fixes the HTTP status and wire code),
 * a message, and where known the resource, field and constraint, plus every
 * failed field of a validation. Strings are copied into fixed buffers so an
 * ob_err owns nothing and can live on the stack. Only http/resp turns an
 * ob_err into JSON.
 */
#ifndef OB_ERR_H
#define OB_ERR_H

#include <stddef.h>

typedef enum ob_errcode {
#define OB_ERR(name, http, code, msg) OB_E_##name,
#include "errcodes.def"
#undef OB_ERR
    OB_E__COUNT
} ob_errcode;

#define OB_ERR_MAX_FIELDS 32

typedef struct ob_err_field {
    char name[64];
    char problem[96];
} ob_err_field;

typedef struct ob_err {
    ob_errcode code;
    char message[256];
    char resource[64];
    char field[64];
    char constraint[96];
    int nfields;
    ob_err_field fields[OB_ERR_MAX_FIELDS];
} ob_err;

/* Set code and message (printf format; NULL uses the table's message).
 * Clears fields. Always returns -1 so callers can `return ob_err_set(...)`. */
int ob_err_set(ob_err *e, ob_errcode code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Add a field-level problem (kept up to OB_ERR_MAX_FIELDS). Returns -1. */
int ob_err_field_add(ob_err *e, const char *field, const char *problem);
void ob_err_clear(ob_err *e);

int ob_err_http_status(ob_errcode c);
const char *ob_err_code_str(ob_errcode c);
const char *ob_err_default_msg(ob_errcode c);

#endif
