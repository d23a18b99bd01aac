/* resp.c - building responses, and the only place an ob_err becomes JSON.
 *
 * Response strings are copied into the request arena (reached through the
 * body strbuf), so a handler may pass stack buffers. */
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "base/base.h"
#include "http/http.h"
#include "base/banned.h"

void ob_resp_init(ob_resp *resp, ob_arena *a)
{
    memset(resp, 0, sizeof *resp);
    resp->status = 200;
    ob_sb_init_arena(&resp->body, a, 256);
    resp->content_type = "application/json";
    resp->file_fd = -1;
}

static const char *resp_strdup(ob_resp *resp, const char *s)
{
    return resp->body.arena ? ob_arena_strdup(resp->body.arena, s) : s;
}

/* Set, not append: a second call with the same name (any case) replaces the
 * value. Content-Type goes to resp->content_type so it is never sent twice.
 * Set-Cookie is the exception: each cookie needs its own header line. */
void ob_resp_header(ob_resp *resp, const char *key, const char *val)
{
    if (!key || !val)
        return;
    if (strcasecmp(key, "Content-Type") == 0) {
        resp->content_type = resp_strdup(resp, val);
        return;
    }
    for (int i = 0; strcasecmp(key, "Set-Cookie") != 0 && i < resp->nheaders; i++) {
        if (strcasecmp(resp->headers[i].key, key) == 0) {
            resp->headers[i].val = resp_strdup(resp, val);
            return;
        }
    }
    if (resp->nheaders >= OB_MAX_RESP_HEADERS) {
        /* A programming error, not a client's: keep the response going. */
        ob_log(OB_LOG_ERROR, "too many response headers", "header", key, NULL);
        return;
    }
    resp->headers[resp->nheaders].key = resp_strdup(resp, key);
    resp->headers[resp->nheaders].val = resp_strdup(resp, val);
    resp->nheaders++;
}

static bool code_valid(ob_errcode c)
{
    return (int)c > (int)OB_E_OK && (int)c < (int)OB_E__COUNT;
}

/* Reset the response and open {"error":{ with code and message. */
static void error_open(ob_resp *resp, ob_jsonw *w, ob_errcode code, const char *msg)
{
    ob_sb_reset(&resp->body);
    resp->status = ob_err_http_status(code);
    resp->content_type = "application/json";
    ob_jw_init(w, &resp->body);
    ob_jw_obj_open(w);
    ob_jw_key(w, "error");
    ob_jw_obj_open(w);
    ob_jw_kstr(w, "code", ob_err_code_str(code));
    ob_jw_kstr(w, "message", msg && msg[0] ? msg : ob_err_default_msg(code));
}

static void error_close(ob_jsonw *w)
{
    ob_jw_obj_close(w);
    ob_jw_obj_close(w);
}

void ob_resp_error(ob_resp *resp, const ob_err *err)
{
    if (!err || !code_valid(err->code)) {
        /* Reporting success (or nothing) as an error is a bug upstream. */
        ob_resp_errorf(resp, OB_E_INTERNAL, NULL);
        return;
    }
    ob_jsonw w;
    error_open(resp, &w, err->code, err->message);
    if (err->field[0])
        ob_jw_kstr(&w, "field", err->field);
    /* A constraint name describes our schema: useful to a client on a 409,
     * internal detail on a 5xx. */
    if (err->constraint[0] && resp->status < 500)
        ob_jw_kstr(&w, "constraint", err->constraint);
    int n = err->nfields < OB_ERR_MAX_FIELDS ? err->nfields : OB_ERR_MAX_FIELDS;
    if (n > 0) {
        ob_jw_key(&w, "fields");
        ob_jw_obj_open(&w);
        for (int i = 0; i < n; i++) {
            /* JSON object keys must be unique: the first problem wins. */
            bool dup = false;
            for (int j = 0; j < i && !dup; j++)
                dup = strcmp(err->fields[j].name, err->fields[i].name) == 0;
            if (!dup)
                ob_jw_kstr(&w, err->fields[i].name, err->fields[i].problem);
        }
        ob_jw_obj_close(&w);
    }
    error_close(&w);
    /* A 503 is passing (a tenant being moved, the database restarting): tell
     * a client when to try again, unless the route already did. */
    if (resp->status == 503) {
        bool has = false;
        for (int i = 0; i < resp->nheaders && !has; i++)
            has = strcasecmp(resp->headers[i].key, "Retry-After") == 0;
        if (!has)
            ob_resp_header(resp, "Retry-After", "1");
    }
}

void ob_resp_errorf(ob_resp *resp, ob_errcode code, const char *msg)
{
    if (!code_valid(code)) {
        code = OB_E_INTERNAL;
        msg = NULL;
    }
    ob_jsonw w;
    error_open(resp, &w, code, msg);
    error_close(&w);
}
