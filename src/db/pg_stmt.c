/* pg_stmt.c - prepared statements on PostgreSQL: `?` to $n, the
 * per-connection cache of server-side statements, text-format binding, and
 * column access with the same meaning as SQLite's. The cache itself is the
 * core's (core_stmt.c).
 *
 * Parameters are sent as text with no declared type, so the server infers
 * each one from its context (a boolean column takes "1", a timestamptz
 * column takes "2024-01-02T03:04:05.678Z", jsonb takes JSON text). Where the
 * context says nothing (`? IS NULL`), the server refuses to guess and the
 * parameter is declared text.
 *
 * Statements are cached by their SQL text only: the server re-analyzes a
 * prepared statement when search_path changed since its last use, so one
 * cached statement serves every tenant schema.
 *
 * Columns: integers are INT; booleans are INT 0/1 (SQLite stores them so);
 * floats REAL; numeric is TEXT (the schema layer parses decimals); timestamptz
 * is TEXT rewritten to RFC 3339 UTC with milliseconds, exactly what opsbase
 * stores on SQLite; everything else is TEXT. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "db/pg_int.h"
#include "db/dlist.h"
#include "base/banned.h"

/* Type OIDs from the server's catalog (pg_type.dat); stable across versions. */
#define OID_BOOL 16
#define OID_INT8 20
#define OID_INT2 21
#define OID_INT4 23
#define OID_TEXT 25
#define OID_OID 26
#define OID_FLOAT4 700
#define OID_FLOAT8 701
#define OID_TIMESTAMPTZ 1184

char *ob_pg_rewrite_params(const char *sql, int *nparams)
{
    size_t len = strlen(sql);
    /* each '?' becomes at most "$99999" */
    char *out = ob_db_xcalloc(1, len * 6 + 1);
    char *o = out;
    int n = 0;
    char quote = 0;
    for (const char *p = sql; *p; p++) {
        if (quote) {
            if (*p == quote)
                quote = 0; /* a doubled quote reopens at once: same result */
            *o++ = *p;
        } else if (*p == '\'' || *p == '"') {
            quote = *p;
            *o++ = *p;
        } else if (*p == '?') {
            o += snprintf(o, 8, "$%d", ++n);
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    *nparams = n;
    return out;
}


static void clear_run(ob_stmt *st)
{
    PQclear(st->res);
    st->res = NULL;
    st->row = -1;
    st->nrows = 0;
}

static void clear_binds(ob_stmt *st)
{
    for (int i = 0; i < st->base.nparams; i++) {
        free(st->vals[i]);
        st->vals[i] = NULL;
    }
}

/* "could not determine data type of parameter $3" -> 3, else 0 */
static int indeterminate_param(const PGresult *res)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *d = msg ? strrchr(msg, '$') : NULL;
    if (!state || strcmp(state, "42P18") != 0 || !d)
        return 0;
    return (int)strtol(d + 1, NULL, 10);
}

static int server_prepare(ob_conn *c, const char *name, const char *sql, int nparams, ob_err *err)
{
    Oid *types = nparams ? ob_db_xcalloc((size_t)nparams, sizeof *types) : NULL;
    int rc = -1;
    for (int attempt = 0; attempt <= nparams; attempt++) {
        PGresult *res = PQprepare(c->pg, name, sql, nparams, types);
        if (res && PQresultStatus(res) == PGRES_COMMAND_OK) {
            PQclear(res);
            rc = 0;
            break;
        }
        int k = indeterminate_param(res);
        if (k < 1 || k > nparams || types[k - 1] == OID_TEXT) {
            ob_pg_fail(c, res, err);
            PQclear(res);
            break;
        }
        types[k - 1] = OID_TEXT;
        PQclear(res);
    }
    free(types);
    return rc;
}

static ob_stmt *stmt_new(ob_conn *c, int nparams, const char *name)
{
    ob_stmt *p = ob_db_xcalloc(1, sizeof *p);
    p->base.ops = c->base.ops;
    p->base.nparams = nparams;
    p->vals = nparams ? ob_db_xcalloc((size_t)nparams, sizeof *p->vals) : NULL;
    p->row = -1;
    snprintf(p->name, sizeof p->name, "%s", name);
    return p;
}

int ob_pg_stmt_make(ob_conn *c, const char *sql, ob_stmt *parent, ob_stmt **out, ob_err *err)
{
    if (parent) {
        /* The cached one is busy (a nested loop over the same query): a
         * second handle on the same server statement; results are held
         * client-side, so both can run. */
        *out = stmt_new(c, parent->base.nparams, parent->name);
        return 0;
    }
    int nparams;
    char *text = ob_pg_rewrite_params(sql, &nparams);
    char name[16];
    snprintf(name, sizeof name, "s%u", ++c->next_name);
    int rc = server_prepare(c, name, text, nparams, err);
    free(text);
    if (rc)
        return -1;
    *out = stmt_new(c, nparams, name);
    return 0;
}

void ob_pg_stmt_reset(ob_stmt *st)
{
    clear_run(st);
    clear_binds(st);
}

void ob_pg_stmt_free(ob_stmt *st, bool server_side)
{
    ob_conn *c = (ob_conn *)(void *)st->base.conn;
    /* a one-off shares its parent's server statement */
    if (server_side && st->base.cached && c && !c->base.broken) {
        char sql[32];
        snprintf(sql, sizeof sql, "DEALLOCATE %s", st->name);
        PQclear(PQexec(c->pg, sql));
    }
    clear_run(st);
    clear_binds(st);
    PQclear(st->desc);
    free(st->vals);
    free(st->tsbuf);
    free(st->base.sql);
    free(st);
}

static char *fmt_i64(int64_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%lld", (long long)v);
    return ob_db_xstrdup(buf);
}

/* The core has checked idx and the type. */
int ob_pg_stmt_bind(ob_stmt *st, int idx, const ob_value *v, ob_err *err)
{
    char *s = NULL;
    char buf[48];
    switch (v->t) {
    case OB_V_NULL:
        break;
    case OB_V_INT:
        s = fmt_i64(v->i);
        break;
    case OB_V_BOOL:
        /* "1"/"0" read as boolean, integer and text alike */
        s = ob_db_xstrdup(v->i ? "1" : "0");
        break;
    case OB_V_REAL:
        snprintf(buf, sizeof buf, "%.17g", v->r);
        s = ob_db_xstrdup(buf);
        break;
    case OB_V_DEC:
        ob_format_decimal(v->i, v->scale, buf, sizeof buf);
        s = ob_db_xstrdup(buf);
        break;
    case OB_V_TEXT:
        if (!v->s)
            break;
        s = malloc(v->n + 1);
        if (!s)
            abort();
        memcpy(s, v->s, v->n);
        s[v->n] = '\0';
        break;
    default:
        return ob_db_err(err, OB_E_INTERNAL, "database error: unknown value type %d", (int)v->t);
    }
    free(st->vals[idx - 1]);
    st->vals[idx - 1] = s;
    return 0;
}

int ob_pg_stmt_step(ob_stmt *st, ob_err *err)
{
    if (st->res) {
        if (st->row + 1 < st->nrows) {
            st->row++;
            return 1;
        }
        st->row = st->nrows;
        return 0;
    }
    ob_conn *c = (ob_conn *)(void *)st->base.conn;
    if (c->base.broken)
        return ob_db_err(err, OB_E_STORAGE, "storage error: the database connection was lost");
    PGresult *res = PQexecPrepared(c->pg, st->name, st->base.nparams, (const char *const *)st->vals, NULL,
                                   NULL, 0);
    ExecStatusType rs = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (rs != PGRES_TUPLES_OK && rs != PGRES_COMMAND_OK) {
        ob_pg_fail(c, res, err);
        PQclear(res);
        return -1;
    }
    const char *n = PQcmdTuples(res);
    if (n && *n)
        c->changes = strtoll(n, NULL, 10);
    st->res = res;
    st->nrows = rs == PGRES_TUPLES_OK ? PQntuples(res) : 0;
    st->row = 0;
    if (st->nrows > 0)
        return 1;
    return 0;
}

/* The result that describes the columns: the last run, or a describe. */
static const PGresult *shape(ob_stmt *st)
{
    if (st->res)
        return st->res;
    if (!st->desc && !st->base.conn->broken) {
        PGresult *d = PQdescribePrepared(((ob_conn *)(void *)st->base.conn)->pg, st->name);
        if (d && PQresultStatus(d) == PGRES_COMMAND_OK)
            st->desc = d;
        else
            PQclear(d);
    }
    return st->desc;
}

int ob_pg_stmt_ncols(ob_stmt *st)
{
    const PGresult *r = shape(st);
    return r ? PQnfields(r) : 0;
}

const char *ob_pg_stmt_col_name(ob_stmt *st, int i)
{
    const PGresult *r = shape(st);
    return r ? PQfname(r, i) : NULL;
}

static bool on_row(const ob_stmt *st, int i)
{
    return st->res && st->row >= 0 && st->row < st->nrows && i >= 0 && i < PQnfields(st->res);
}

ob_vtype ob_pg_stmt_col_type(ob_stmt *st, int i)
{
    if (!on_row(st, i) || PQgetisnull(st->res, st->row, i))
        return OB_V_NULL;
    switch (PQftype(st->res, i)) {
    case OID_BOOL:
    case OID_INT2:
    case OID_INT4:
    case OID_INT8:
    case OID_OID:
        return OB_V_INT;
    case OID_FLOAT4:
    case OID_FLOAT8:
        return OB_V_REAL;
    default:
        return OB_V_TEXT;
    }
}

int64_t ob_pg_stmt_col_i64(ob_stmt *st, int i)
{
    if (!on_row(st, i) || PQgetisnull(st->res, st->row, i))
        return 0;
    const char *v = PQgetvalue(st->res, st->row, i);
    if (PQftype(st->res, i) == OID_BOOL)
        return v[0] == 't';
    return strtoll(v, NULL, 10);
}

double ob_pg_stmt_col_f64(ob_stmt *st, int i)
{
    if (!on_row(st, i) || PQgetisnull(st->res, st->row, i))
        return 0;
    const char *v = PQgetvalue(st->res, st->row, i);
    if (PQftype(st->res, i) == OID_BOOL)
        return v[0] == 't';
    return strtod(v, NULL);
}

/* "2024-01-02 03:04:05.1+00" (ISO style, UTC) -> "2024-01-02T03:04:05.100Z".
 * Anything unexpected (a year past 9999, an offset) is returned unchanged. */
static const char *rfc3339(ob_stmt *st, int i, const char *v, size_t *n)
{
    size_t len = strlen(v);
    if (len < 22 || v[10] != ' ' || v[19] == '\0' || strcmp(v + len - 3, "+00") != 0) {
        if (n)
            *n = len;
        return v;
    }
    if (!st->tsbuf || st->ntsbuf < PQnfields(st->res)) {
        free(st->tsbuf);
        st->ntsbuf = PQnfields(st->res);
        st->tsbuf = ob_db_xcalloc((size_t)st->ntsbuf, sizeof *st->tsbuf);
    }
    char *o = st->tsbuf[i];
    memcpy(o, v, 19);
    o[10] = 'T';
    char ms[4] = "000";
    if (v[19] == '.')
        for (int k = 0; k < 3 && v[20 + k] >= '0' && v[20 + k] <= '9'; k++)
            ms[k] = v[20 + k];
    snprintf(o + 19, 32 - 19, ".%sZ", ms);
    if (n)
        *n = 24;
    return o;
}

const char *ob_pg_stmt_col_text(ob_stmt *st, int i, size_t *n)
{
    if (!on_row(st, i) || PQgetisnull(st->res, st->row, i)) {
        if (n)
            *n = 0;
        return NULL;
    }
    const char *v = PQgetvalue(st->res, st->row, i);
    switch (PQftype(st->res, i)) {
    case OID_BOOL:
        if (n)
            *n = 1;
        return v[0] == 't' ? "1" : "0";
    case OID_TIMESTAMPTZ:
        return rfc3339(st, i, v, n);
    default:
        if (n)
            *n = (size_t)PQgetlength(st->res, st->row, i);
        return v;
    }
}
