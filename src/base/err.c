/* err.c - the error type and the tables expanded from errcodes.def. */
#include "base/err.h"

#include <stdarg.h>
#include <stdio.h>

#include "base/banned.h"

static const int err_http[] = {
#define OB_ERR(name, http, code, msg) http,
#include "base/errcodes.def"
#undef OB_ERR
};

static const char *const err_code[] = {
#define OB_ERR(name, http, code, msg) code,
#include "base/errcodes.def"
#undef OB_ERR
};

static const char *const err_msg[] = {
#define OB_ERR(name, http, code, msg) msg,
#include "base/errcodes.def"
#undef OB_ERR
};

_Static_assert(sizeof(err_http) / sizeof(err_http[0]) == OB_E__COUNT, "errcodes table");

/* Out-of-range codes are a bug; report them as internal rather than read past
 * the tables. */
static ob_errcode err_norm(ob_errcode c)
{
    return (unsigned)c < (unsigned)OB_E__COUNT ? c : OB_E_INTERNAL;
}

static void copy_str(char *dst, size_t dstsz, const char *src)
{
    snprintf(dst, dstsz, "%s", src ? src : "");
}

void ob_err_clear(ob_err *e)
{
    if (!e)
        return;
    /* Not a memset: the field array is 5 KiB and is only read up to nfields. */
    e->code = OB_E_OK;
    e->message[0] = '\0';
    e->resource[0] = '\0';
    e->field[0] = '\0';
    e->constraint[0] = '\0';
    e->nfields = 0;
}

int ob_err_set(ob_err *e, ob_errcode code, const char *fmt, ...)
{
    if (!e)
        return -1;
    ob_err_clear(e);
    e->code = code;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->message, sizeof(e->message), fmt, ap);
        va_end(ap);
    } else {
        copy_str(e->message, sizeof(e->message), ob_err_default_msg(code));
    }
    return -1;
}

int ob_err_field_add(ob_err *e, const char *field, const char *problem)
{
    if (!e)
        return -1;
    if (e->code == OB_E_OK) {
        e->code = OB_E_VALIDATION;
        copy_str(e->message, sizeof(e->message), ob_err_default_msg(OB_E_VALIDATION));
    }
    if (e->nfields < 0)
        e->nfields = 0;
    if (e->nfields < OB_ERR_MAX_FIELDS) {
        ob_err_field *f = &e->fields[e->nfields++];
        copy_str(f->name, sizeof(f->name), field);
        copy_str(f->problem, sizeof(f->problem), problem);
    }
    return -1;
}

int ob_err_http_status(ob_errcode c)
{
    return err_http[err_norm(c)];
}

const char *ob_err_code_str(ob_errcode c)
{
    return err_code[err_norm(c)];
}

const char *ob_err_default_msg(ob_errcode c)
{
    return err_msg[err_norm(c)];
}
