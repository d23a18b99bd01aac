/* keys.c - opsbase keys: a new master key, and re-sealing every tenant's
 * secret columns under a new one (db/secrets.h, docs/cli.md "Master keys"). */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "base/base.h"
#include "cli/cli.h"
#include "db/secrets.h"
#include "platform/tenants.h"
#include "schema/registry.h"
#include "base/banned.h"

static const ob_opt keys_opts[] = {
    {"--data", "OPSBASE_DATA", "./data", false, "data directory"},
    {"--db", "OPSBASE_DB", NULL, false, "postgres://USER@HOST:PORT/DB instead of the embedded database"},
    {"--master-key-file", "OPSBASE_MASTER_KEY_FILE", NULL, false, "the current master key (else OPSBASE_MASTER_KEY)"},
    {"--new-key-file", NULL, NULL, false, "rotate: the master key to re-seal under"},
    {"--tenant", NULL, NULL, false, "rotate: only this tenant (default: every tenant)"},
};
static const ob_cmd_spec keys_spec = {
    "opsbase keys new | rotate --new-key-file F [--master-key-file OLD]",
    "new: print a fresh master key (64 hex characters) to keep outside the data directory.\n"
    "rotate: re-seal every secret column of every tenant under the new key, in small transactions,\n"
    "while servers holding both keys keep running (docs/cli.md, Master keys).",
    keys_opts, (int)OB_ARRAY_LEN(keys_opts), 1, 1};

#define BATCH 200

typedef struct rotated {
    int64_t rows, values;
} rotated;

/* One batch of rows of table t after id *after: re-seal each secret not under
 * the current key and recompute its lookup hashes, in one transaction (the
 * tenant's write lock is held for a batch, not a table). 1 when the table
 * has more rows. */
static int rotate_batch(ob_conn *c, ob_arena *a, const char *slug, const ob_table *t, char *after, rotated *r,
                        ob_err *err)
{
    ob_sb sql;
    ob_sb_init_arena(&sql, a, 256);
    ob_sb_adds(&sql, "SELECT \"id\"");
    for (int i = 0; i < t->ncols; i++)
        if (t->cols[i]->flags & OB_ENCRYPTED) ob_sb_addf(&sql, ",\"%s\"", t->cols[i]->name);
    ob_sb_addf(&sql, " FROM \"%s\" WHERE \"id\" > ? ORDER BY \"id\" LIMIT %d", t->name, BATCH);
    if (ob_conn_engine(c) == OB_DB_POSTGRES) ob_sb_adds(&sql, " FOR UPDATE");
    if (ob_db_begin(c, err) != 0) return -1;
    ob_stmt *st;
    if (ob_db_prepare(c, sql.buf, &st, err) != 0) goto fail;
    ob_stmt_bind_text(st, 1, after, err);
    /* the batch is read first: statements of one connection do not interleave on PostgreSQL */
    const char *ids[BATCH];
    const char *vals[BATCH][16];
    int n = 0, rc, ncrypt = 0;
    while ((rc = ob_stmt_step(st, err)) == 1) {
        ids[n] = ob_arena_strdup(a, ob_stmt_col_text(st, 0, NULL));
        ncrypt = ob_stmt_ncols(st) - 1;
        for (int k = 0; k < ncrypt && k < 16; k++) {
            const char *v = ob_stmt_col_type(st, k + 1) == OB_V_NULL ? NULL : ob_stmt_col_text(st, k + 1, NULL);
            vals[n][k] = v ? ob_arena_strdup(a, v) : NULL;
        }
        n++;
    }
    ob_stmt_done(st);
    if (rc < 0) goto fail;
    for (int row = 0; row < n; row++) {
        bool stale = false;
        for (int k = 0; k < ncrypt; k++) stale |= vals[row][k] && !ob_secret_is_current(vals[row][k], strlen(vals[row][k]));
        if (!stale) continue;
        ob_sb up;
        ob_sb_init_arena(&up, a, 256);
        ob_sb_addf(&up, "UPDATE \"%s\" SET ", t->name);
        ob_value params[40];
        int np = 0, k = 0;
        for (int i = 0; i < t->ncols; i++) {
            const ob_column *col = t->cols[i];
            if (col->flags & OB_ENCRYPTED) {
                const char *v = vals[row][k++];
                ob_sb plain, sealed;
                ob_sb_init_arena(&plain, a, 64);
                ob_sb_init_arena(&sealed, a, 128);
                if (v && (ob_secret_open(&plain, slug, t->name, ids[row], col->name, v, strlen(v), err) != 0 ||
                          ob_secret_seal(&sealed, slug, t->name, ids[row], col->name, plain.buf, plain.len, err) != 0))
                    goto fail;
                ob_sb_addf(&up, "%s\"%s\" = ?", np ? ", " : "", col->name);
                params[np++] = v ? ob_v_textn(sealed.buf, sealed.len) : ob_v_null();
                /* the lookup hashes of this column, under the new key too */
                for (int j = 0; j < t->ncols; j++) {
                    if (!t->cols[j]->blind_of || strcmp(t->cols[j]->blind_of, col->name) != 0) continue;
                    char h[65];
                    if (v && ob_secret_blind(h, slug, t->name, col->name, plain.buf, plain.len, err) != 0) goto fail;
                    ob_sb_addf(&up, ", \"%s\" = ?", t->cols[j]->name);
                    params[np++] = v ? ob_v_text(ob_arena_strdup(a, h)) : ob_v_null();
                }
            }
        }
        ob_sb_adds(&up, " WHERE \"id\" = ?");
        params[np++] = ob_v_text(ids[row]);
        ob_stmt *u;
        if (ob_db_prepare(c, up.buf, &u, err) != 0) goto fail;
        for (int p = 0; p < np; p++) ob_stmt_bind(u, p + 1, &params[p], err);
        rc = ob_stmt_step(u, err);
        ob_stmt_done(u);
        if (rc < 0) goto fail;
        r->rows++;
        r->values += ncrypt;
    }
    if (ob_db_commit(c, err) != 0) return -1;
    if (n) snprintf(after, 64, "%s", ids[n - 1]);
    return n == BATCH;
fail:
    ob_db_rollback(c);
    return -1;
}

static int rotate_tenant(ob_store *s, const char *slug, rotated *r, ob_err *err)
{
    ob_conn *c;
    if (ob_db_acquire(s, slug, NULL, OB_DB_WRITE, &c, err) != 0) return -1;
    int rc = 0;
    for (int i = 0; rc == 0 && i < ob_registry_count(); i++) {
        const ob_table *t = ob_registry_at(i);
        bool sealed = false;
        for (int k = 0; k < t->ncols; k++) sealed |= (t->cols[k]->flags & OB_ENCRYPTED) != 0;
        if (!sealed || t->res->scope != OB_SCOPE_TENANT) continue;
        char after[64] = "";
        int more;
        do {
            ob_arena a;
            ob_arena_init(&a, 0);
            more = rotate_batch(c, &a, slug, t, after, r, err);
            ob_arena_release(&a);
        } while (more == 1);
        rc = more < 0 ? -1 : 0;
    }
    ob_db_release(c);
    return rc;
}

static int cmd_rotate(const ob_args *a)
{
    ob_err err = {0};
    const char *newf = ob_cli_get(&keys_spec, a, "--new-key-file");
    if (!newf) return ob_cli_usage_error(&keys_spec, "rotate needs --new-key-file");
    if (ob_secrets_configure(ob_cli_get(&keys_spec, a, "--master-key-file"), NULL, &err) != 0) return ob_cli_fail(&err);
    if (!ob_secrets_ready())
        return ob_cli_usage_error(&keys_spec, "rotate needs the current key (--master-key-file or OPSBASE_MASTER_KEY)");
    unsigned char key[OB_SECRET_KEY_BYTES];
    if (ob_secrets_read_key(newf, key, &err) != 0) return ob_cli_fail(&err);
    ob_secrets_use(key);
    sodium_memzero(key, sizeof key);
    ob_store *s;
    ob_store_opts o = {.data_dir = ob_cli_get(&keys_spec, a, "--data"), .url = ob_cli_get(&keys_spec, a, "--db")};
    if (ob_store_open(&s, &o, &err) != 0) return ob_cli_fail(&err);
    ob_arena la;
    ob_arena_init(&la, 0);
    ob_slugs l;
    int rc = ob_tenant_slugs_of(s, &la, ob_cli_get(&keys_spec, a, "--tenant"), &l, &err);
    rotated total = {0};
    for (int i = 0; rc == 0 && i < l.n; i++) {
        rotated r = {0};
        rc = rotate_tenant(s, l.v[i], &r, &err);
        if (rc == 0) printf("%s: %lld row(s) re-sealed under key %s\n", l.v[i], (long long)r.rows, ob_secrets_key_id());
        total.rows += r.rows;
    }
    ob_arena_release(&la);
    ob_store_close(s);
    if (rc != 0) return ob_cli_fail(&err);
    printf("rotated: %d tenant(s), %lld row(s)\n", l.n, (long long)total.rows);
    return 0;
}

int ob_cmd_keys(int argc, char **argv)
{
    ob_args a;
    int rc = ob_cli_parse(&keys_spec, argc, argv, &a);
    if (rc) return rc == 1 ? 0 : rc;
    if (strcmp(a.pos[0], "new") == 0) {
        unsigned char key[OB_SECRET_KEY_BYTES];
        char hex[2 * OB_SECRET_KEY_BYTES + 1];
        if (sodium_init() < 0) return 1;
        randombytes_buf(key, sizeof key);
        sodium_bin2hex(hex, sizeof hex, key, sizeof key);
        printf("%s\n", hex);
        sodium_memzero(key, sizeof key);
        return 0;
    }
    if (strcmp(a.pos[0], "rotate") == 0) return cmd_rotate(&a);
    return ob_cli_usage_error(&keys_spec, "keys commands: new, rotate");
}
