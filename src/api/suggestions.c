/* suggestions.c - GET /api/v1/tickets/{id}/suggestions?limit=N: the
 * knowledge-base documents most relevant to a ticket's title and description.
 *
 * The ranking is one portable SQL expression, the same on SQLite and
 * PostgreSQL (so a tenant moving engines sees the same answers): the ticket's
 * distinct words (letters and digits, 3 or more, common words left out, at
 * most MAX_TERMS) each score 2 when a document's title contains them and 1
 * when its content does, case-insensitively; documents scoring nothing are
 * left out; ties go to the newer document. FTS5 and ts_rank would rank
 * differently per engine, which is why neither is used here. The ticket is
 * read with the caller's scope (another customer's ticket is 404), and a
 * customer user is offered only public documents (the table's row rule). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "base/base.h"
#include "base/jsonw.h"
#include "schema/crud.h"
#include "schema/sql.h"
#include "gen/columns.h"
#include "base/banned.h"

#define MAX_TERMS 16
#define TERM_MAX 40

static bool common_word(const char *w)
{
    static const char *const words[] = {"the", "and", "for", "with", "that", "this", "from", "have", "has",
                                        "not", "are", "was", "but", "you", "your", "our", "can", "cannot",
                                        "when", "what", "how", "why", "into", "out", "does", "did", "its",
                                        "all", "any", "been", "will", "there", "they", "them", NULL};
    for (int i = 0; words[i]; i++)
        if (!strcmp(w, words[i])) return true;
    return false;
}

/* Add the distinct words of text to terms (lower case, arena copies). */
static int words_of(ob_arena *a, const char *text, const char **terms, int n)
{
    for (const char *p = text; p && *p && n < MAX_TERMS;) {
        while (*p && !isalnum((unsigned char)*p)) p++;
        char w[TERM_MAX + 1];
        size_t k = 0;
        while (*p && isalnum((unsigned char)*p)) {
            if (k < TERM_MAX) w[k++] = (char)tolower((unsigned char)*p);
            p++;
        }
        w[k] = 0;
        if (k < 3 || common_word(w)) continue;
        bool seen = false;
        for (int i = 0; i < n && !seen; i++) seen = !strcmp(terms[i], w);
        if (!seen) terms[n++] = ob_arena_strdup(a, w);
    }
    return n;
}

static void refuse(ob_resp *resp, const char *msg)
{
    ob_err err;
    ob_err_set(&err, OB_E_BAD_QUERY, "%s", msg);
    ob_resp_error(resp, &err);
}

void ob_api_ticket_suggestions(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call)
{
    (void)app;
    long limit = 5;
    for (int i = 0; i < req->nquery; i++) {
        const ob_kv *q = &req->query[i];
        char *end = NULL;
        if (strcmp(q->key, "limit") != 0) {
            refuse(resp, "unknown parameter: suggestions take limit");
            return;
        }
        limit = q->val ? strtol(q->val, &end, 10) : 0;
        if (!q->val || !*q->val || *end || limit < 1 || limit > 20) {
            refuse(resp, "limit is 1 to 20");
            return;
        }
    }
    ob_err err;
    ob_row *tk;
    if (ob_crud_get(ctx, ob_registry_find(OB_TABLE_TICKETS), call->id, &tk, &err) != 0) {
        ob_resp_error(resp, &err);
        return;
    }
    const char *terms[MAX_TERMS];
    int n = words_of(ctx->arena, ob_row_text(tk, TICKETS_TITLE), terms, 0);
    n = words_of(ctx->arena, ob_row_text(tk, TICKETS_DESCRIPTION), terms, n);
    bool public_only = ob_ctx_confined(ctx);
    ob_jsonw w;
    ob_jw_init(&w, &resp->body);
    ob_jw_obj_open(&w);
    ob_jw_kstr(&w, "ticket_id", ob_row_id(tk));
    ob_jw_key(&w, "terms");
    ob_jw_arr_open(&w);
    for (int i = 0; i < n; i++) ob_jw_str(&w, terms[i]);
    ob_jw_arr_close(&w);
    ob_jw_key(&w, "documents");
    ob_jw_arr_open(&w);
    if (n > 0) {
        ob_sb score;
        ob_sb_init_arena(&score, ctx->arena, 512);
        for (int i = 0; i < n; i++)
            ob_sb_addf(&score, "%s(CASE WHEN LOWER(\"title\") LIKE ? THEN 2 ELSE 0 END + "
                               "CASE WHEN LOWER(\"content\") LIKE ? THEN 1 ELSE 0 END)",
                       i ? " + " : "");
        const char *sql = ob_arena_printf(ctx->arena,
                                          "SELECT \"id\", \"title\", p, s FROM (SELECT \"id\", \"title\", "
                                          "CASE WHEN \"is_public\" THEN 1 ELSE 0 END AS p, \"created_at\", %s AS s FROM \"documents\"%s) d "
                                          "WHERE s > 0 ORDER BY s DESC, \"created_at\" DESC, \"id\" DESC LIMIT %ld",
                                          score.buf, public_only ? " WHERE \"is_public\" = ?" : "", limit);
        ob_stmt *st;
        if (ob_db_prepare(ctx->db, sql, &st, &err) != 0) {
            ob_sb_reset(&resp->body);
            ob_resp_error(resp, &err);
            return;
        }
        /* the words are letters and digits: nothing in them is a LIKE wildcard */
        for (int i = 0; i < n; i++) {
            const char *pat = ob_arena_printf(ctx->arena, "%%%s%%", terms[i]);
            ob_stmt_bind_text(st, 2 * i + 1, pat, &err);
            ob_stmt_bind_text(st, 2 * i + 2, pat, &err);
        }
        ob_value yes = ob_v_bool(true);
        if (public_only) ob_sql_bind_value(st, 2 * n + 1, &yes, &err);
        int rc;
        while ((rc = ob_stmt_step(st, &err)) == 1) {
            ob_jw_obj_open(&w);
            ob_jw_kstr(&w, "id", ob_stmt_col_text(st, 0, NULL));
            ob_jw_kstr(&w, "title", ob_stmt_col_text(st, 1, NULL));
            ob_jw_kbool(&w, "is_public", ob_stmt_col_i64(st, 2) != 0);
            ob_jw_ki64(&w, "score", ob_stmt_col_i64(st, 3));
            ob_jw_obj_close(&w);
        }
        ob_stmt_done(st);
        if (rc < 0) {
            ob_sb_reset(&resp->body);
            ob_resp_error(resp, &err);
            return;
        }
    }
    ob_jw_arr_close(&w);
    ob_jw_obj_close(&w);
    resp->status = 200;
}
