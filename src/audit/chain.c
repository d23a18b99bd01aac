/* chain.c - the audit hash chain (see chain.h). */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "audit/chain.h"
#include "base/base.h"
#include "schema/sql.h"
#include "gen/columns.h"
#include "base/banned.h"

#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"

/* The row as the canonical JSON text the hash covers: every column but
 * `hash`, keys sorted; JSON columns parsed and re-encoded (PostgreSQL keeps
 * them as jsonb and gives back its own spelling). Freed by the caller. */
static char *canonical(const ob_row *r)
{
    const ob_table *t = r->t;
    json_t *o = json_object();
    for (int i = 0; i < t->ncols; i++) {
        const ob_column *c = t->cols[i];
        if (strcmp(c->name, "hash") == 0) continue;
        const ob_value *v = &r->v[i];
        json_t *j;
        if (!r->set[i] || v->t == OB_V_NULL) j = json_null();
        else if (v->t == OB_V_INT || v->t == OB_V_BOOL) j = json_integer(v->i);
        else if (c->type == OB_F_JSON) {
            j = json_loadb(v->s, v->n, JSON_DECODE_ANY, NULL);
            if (!j) j = json_stringn(v->s, v->n);
        } else j = json_stringn(v->s, v->n);
        json_object_set_new(o, c->name, j);
    }
    char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    json_decref(o);
    return text;
}

static void hash_of(const char *prev, const ob_row *r, char out[65])
{
    char *text = canonical(r);
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const unsigned char *)prev, strlen(prev));
    crypto_hash_sha256_update(&st, (const unsigned char *)"\n", 1);
    if (text) crypto_hash_sha256_update(&st, (const unsigned char *)text, strlen(text));
    free(text);
    unsigned char d[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&st, d);
    sodium_bin2hex(out, 65, d, sizeof d);
}

/* The hash of row seq (the chain's head before it), or the zero hash for
 * the first row and after an archived one. */
static int prev_hash(ob_ctx *ctx, int64_t seq, const char **out, ob_err *err)
{
    *out = ZERO_HASH;
    if (seq <= 1) return 0;
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, "SELECT \"hash\" FROM \"audit_logs\" WHERE \"seq\" = ?", &st, err) != 0) return -1;
    ob_stmt_bind_i64(st, 1, seq - 1, err);
    int rc = ob_stmt_step(st, err);
    if (rc == 1 && ob_stmt_col_text(st, 0, NULL)) *out = ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 0, NULL));
    ob_stmt_done(st);
    /* rc == 0: the row before was archived; the chain goes on from the zero hash */
    return rc < 0 ? -1 : 0;
}

int ob_audit_chain_link_many(ob_ctx *ctx, ob_row *const *rows, int n, ob_err *err)
{
    if (n <= 0) return 0;
    int64_t last;
    if (ob_sql_seq_take(ctx, "audit_chain", n, &last, err) != 0) return -1;
    int64_t seq = last - n + 1;
    const char *prev;
    if (prev_hash(ctx, seq, &prev, err) != 0) return -1;
    for (int i = 0; i < n; i++, seq++) {
        ob_row_set_int(rows[i], AUDIT_LOGS_SEQ, seq);
        ob_row_set_text(ctx->arena, rows[i], AUDIT_LOGS_PREV_HASH, prev);
        char h[65];
        hash_of(prev, rows[i], h);
        ob_row_set_text(ctx->arena, rows[i], AUDIT_LOGS_HASH, h);
        prev = rows[i]->v[AUDIT_LOGS_HASH.idx].s; /* the arena's copy */
    }
    return 0;
}

int ob_audit_chain_link(ob_ctx *ctx, ob_row *a, ob_err *err)
{
    return ob_audit_chain_link_many(ctx, &a, 1, err);
}

int ob_audit_platform_link(ob_ctx *ctx, ob_row *a, ob_err *err)
{
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, "SELECT \"seq\", \"hash\" FROM \"platform_audit_logs\" ORDER BY \"seq\" DESC LIMIT 1",
                      &st, err) != 0)
        return -1;
    int rc = ob_stmt_step(st, err);
    int64_t seq = 1;
    const char *prev = ZERO_HASH;
    if (rc == 1) {
        seq = ob_stmt_col_i64(st, 0) + 1;
        prev = ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 1, NULL));
    }
    ob_stmt_done(st);
    if (rc < 0) return -1;
    ob_row_set_int(a, PLATFORM_AUDIT_LOGS_SEQ, seq);
    ob_row_set_text(ctx->arena, a, PLATFORM_AUDIT_LOGS_PREV_HASH, prev);
    char h[65];
    hash_of(prev, a, h);
    ob_row_set_text(ctx->arena, a, PLATFORM_AUDIT_LOGS_HASH, h);
    return 0;
}

int ob_audit_verify(ob_ctx *ctx, ob_audit_verdict *v, ob_err *err)
{
    memset(v, 0, sizeof *v);
    const ob_table *t = ob_registry_find(OB_TABLE_AUDIT_LOGS);
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, "SELECT COUNT(*) FROM \"audit_logs\" WHERE \"seq\" IS NULL", &st, err) != 0) return -1;
    if (ob_stmt_step(st, err) == 1) v->unchained = ob_stmt_col_i64(st, 0);
    ob_stmt_done(st);
    const char *sql = ob_arena_printf(ctx->arena, "SELECT %s FROM \"audit_logs\" WHERE \"seq\" IS NOT NULL ORDER BY \"seq\"",
                                      ob_sql_cols(t));
    if (ob_db_prepare(ctx->db, sql, &st, err) != 0) return -1;
    int seq_col = AUDIT_LOGS_SEQ.idx, prev_col = AUDIT_LOGS_PREV_HASH.idx, hash_col = AUDIT_LOGS_HASH.idx;
    char last[65] = "";
    int64_t last_seq = 0;
    int rc;
    ob_arena rows;
    ob_arena_init(&rows, 0);
    while ((rc = ob_stmt_step(st, err)) == 1) {
        ob_row *r = ob_row_new(&rows, t);
        ob_row_load(&rows, r, st);
        int64_t seq = r->v[seq_col].i;
        const char *prev = r->set[prev_col] ? r->v[prev_col].s : NULL;
        const char *hash = r->set[hash_col] ? r->v[hash_col].s : NULL;
        const char *why = NULL;
        if (!v->rows) v->first_seq = seq;
        else if (seq != last_seq + 1) why = "a row is missing before this one";
        else if (!prev || strcmp(prev, last) != 0) why = "its prev_hash is not the hash of the row before";
        if (!why) {
            char h[65];
            hash_of(prev ? prev : "", r, h);
            if (!hash || strcmp(h, hash) != 0) why = "its content does not match its hash";
        }
        if (why) {
            v->broken_seq = seq;
            snprintf(v->broken_id, sizeof v->broken_id, "%s", r->v[t->id_col].s);
            snprintf(v->why, sizeof v->why, "%s", why);
            break;
        }
        snprintf(last, sizeof last, "%s", hash);
        last_seq = seq;
        v->rows++;
        if (v->rows % 1024 == 0) {
            ob_arena_release(&rows);
            ob_arena_init(&rows, 0);
        }
    }
    ob_stmt_done(st);
    ob_arena_release(&rows);
    return rc < 0 ? -1 : 0;
}

/* Batches of rows from seq on are read, then rewritten: the updates run on
 * the connection that read them, so no statement is open while they do. */
int ob_audit_relink(ob_ctx *ctx, int64_t from_seq, ob_err *err)
{
    if (from_seq <= 0) return 0;
    const ob_table *t = ob_registry_find(OB_TABLE_AUDIT_LOGS);
    char prev[65] = ZERO_HASH;
    ob_stmt *st;
    if (from_seq > 1) {
        if (ob_db_prepare(ctx->db, "SELECT \"hash\" FROM \"audit_logs\" WHERE \"seq\" = ?", &st, err) != 0) return -1;
        ob_stmt_bind_i64(st, 1, from_seq - 1, err);
        int rc = ob_stmt_step(st, err);
        if (rc == 1 && ob_stmt_col_text(st, 0, NULL)) snprintf(prev, sizeof prev, "%s", ob_stmt_col_text(st, 0, NULL));
        ob_stmt_done(st);
        if (rc < 0) return -1;
    }
    const char *sql = ob_arena_printf(ctx->arena,
                                      "SELECT %s FROM \"audit_logs\" WHERE \"seq\" >= ? ORDER BY \"seq\" LIMIT 256",
                                      ob_sql_cols(t));
    int64_t next = from_seq;
    for (;;) {
        ob_arena batch;
        ob_arena_init(&batch, 0);
        ob_row *rows[256];
        int n = 0, rc = 0;
        if (ob_db_prepare(ctx->db, sql, &st, err) != 0) {
            ob_arena_release(&batch);
            return -1;
        }
        ob_stmt_bind_i64(st, 1, next, err);
        while (n < 256 && (rc = ob_stmt_step(st, err)) == 1) {
            rows[n] = ob_row_new(&batch, t);
            ob_row_load(&batch, rows[n], st);
            n++;
        }
        ob_stmt_done(st);
        if (n < 256 && rc < 0) {
            ob_arena_release(&batch);
            return -1;
        }
        for (int i = 0; i < n; i++) {
            ob_row *r = rows[i];
            char h[65];
            ob_row_set_text(&batch, r, AUDIT_LOGS_PREV_HASH, prev);
            hash_of(prev, r, h);
            ob_row_set_text(&batch, r, AUDIT_LOGS_HASH, h);
            if (ob_sql_update(ctx, r, 0, err) != 0) {
                ob_arena_release(&batch);
                return -1;
            }
            snprintf(prev, sizeof prev, "%s", h);
            next = ob_row_int(r, AUDIT_LOGS_SEQ, next) + 1;
        }
        ob_arena_release(&batch);
        if (n < 256) return 0;
    }
}
