/* stream.c - GET /api/v1/stream (stream.h): each open stream, the one
 * notifier thread that fills them from the tenants' audit trails, and the
 * server's streamed-response callbacks (http.h ob_stream_src).
 *
 * A stream's output is a buffer the notifier appends to and the server
 * drains; between the two the connection is parked by the server, so an
 * idle stream holds no thread. Every batch of changes is read as the
 * reader is at that moment: the stream keeps the request's Authorization
 * and the notifier resolves it again (the session may have ended, a role
 * may have been withdrawn), as the next GET would. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api_int.h"
#include "api/stream.h"
#include "base/base.h"
#include "auth/session.h"
#include "schema/crud.h"
#include "schema/rowjson.h"
#include "base/banned.h"

#define MAX_BUFFERED ((size_t)1 << 20) /* a reader this far behind is ended; it resumes by id */
#define BATCH 500                      /* audit rows read per tenant per poll */
#define RECHECK_US 5000000              /* an idle stream's session is asked again this often */

typedef struct sse {
    /* Fixed at open; the notifier reads them without the lock. */
    ob_arena arena;
    const char *user_id; /* whose allowance the stream counts against */
    ob_tenant_info tenant;
    const ob_table *tables[OB_ROUTE_MAX_TABLES];
    int ntables;
    const char *authorization; /* the request's, to ask again whether the session holds */
    int64_t cursor; /* the last id looked at; the notifier's alone once listed */
    int64_t checked_us; /* when the session was last asked (notifier only) */
    ob_stream_src src;
    /* Under hub.lock. */
    ob_sb out;      /* text not yet taken by the server, from `taken` */
    size_t taken;
    int64_t last_out_us;
    ob_http_stream *hs; /* NULL before attach and after done */
    bool gone;          /* the connection is over */
    bool over;          /* too far behind: end once the buffer is sent */
    int refs;           /* the connection's, and the notifier's while it works on it */
    struct sse *next;
} sse;

static struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    sse *list;
    ob_store *store;
    pthread_t thread;
    bool running, stop;
    ob_stream_cfg cfg;
} hub = {.lock = PTHREAD_MUTEX_INITIALIZER,
         .cond = PTHREAD_COND_INITIALIZER,
         .cfg = {.keepalive_ms = 15000, .poll_ms = 250, .retention = 1000, .max_per_user = 5}};

void ob_stream_configure(const ob_stream_cfg *cfg)
{
    pthread_mutex_lock(&hub.lock);
    if (cfg->keepalive_ms > 0) hub.cfg.keepalive_ms = cfg->keepalive_ms;
    if (cfg->poll_ms > 0) hub.cfg.poll_ms = cfg->poll_ms;
    if (cfg->retention > 0) hub.cfg.retention = cfg->retention;
    if (cfg->max_per_user > 0) hub.cfg.max_per_user = cfg->max_per_user;
    pthread_mutex_unlock(&hub.lock);
}

/* Under hub.lock. */
static void release(sse *s)
{
    if (--s->refs > 0) return;
    ob_sb_release(&s->out);
    ob_arena_release(&s->arena);
    free(s);
}

/* Under hub.lock: queue text for the reader and wake its connection. */
static void emit(sse *s, const char *text, size_t n, int64_t now_us)
{
    if (s->gone || s->over) return;
    if (s->out.len - s->taken + n > MAX_BUFFERED) {
        s->over = true; /* the reader does not keep up: end it, it resumes from its last id */
    } else {
        ob_sb_add(&s->out, text, n);
        s->last_out_us = now_us;
    }
    if (s->hs) ob_http_stream_wake(s->hs);
}

/* ---- the server's callbacks (ob_stream_src) ---- */

static void on_attach(void *ctx, ob_http_stream *hs)
{
    sse *s = ctx;
    pthread_mutex_lock(&hub.lock);
    s->hs = hs;
    pthread_mutex_unlock(&hub.lock);
}

static long on_read(void *ctx, char *buf, size_t max)
{
    sse *s = ctx;
    pthread_mutex_lock(&hub.lock);
    size_t have = s->out.len - s->taken;
    long n = 0;
    if (have == 0 && (s->over || hub.stop)) {
        n = -1;
    } else if (have > 0) {
        size_t k = have < max ? have : max;
        memcpy(buf, s->out.buf + s->taken, k);
        s->taken += k;
        if (s->taken == s->out.len) {
            ob_sb_reset(&s->out);
            s->taken = 0;
        }
        n = (long)k;
    }
    pthread_mutex_unlock(&hub.lock);
    return n;
}

static void on_done(void *ctx)
{
    sse *s = ctx;
    pthread_mutex_lock(&hub.lock);
    s->hs = NULL;
    s->gone = true;
    for (sse **p = &hub.list; *p; p = &(*p)->next)
        if (*p == s) {
            *p = s->next;
            break;
        }
    release(s);
    pthread_mutex_unlock(&hub.lock);
}

/* ---- the notifier ---- */

typedef struct change {
    int64_t seq;
    const char *table, *id;
    const char *image; /* the row after the change (stored form), NULL for a delete */
    size_t image_len;
    bool created, deleted;
} change;

/* Audit rows of one tenant after `after`, in id order; *n of them. */
static change *changes_after(ob_conn *c, ob_arena *a, int64_t after, int *n, ob_err *err)
{
    *n = 0;
    ob_stmt *st;
    if (ob_db_prepare(c,
                      "SELECT seq, entity_type, entity_id, CASE WHEN old_values IS NULL THEN 1 ELSE 0 END, "
                      "CASE WHEN new_values IS NULL THEN 1 ELSE 0 END, new_values FROM audit_logs "
                      "WHERE seq > ? ORDER BY seq LIMIT 500",
                      &st, err) != 0)
        return NULL;
    ob_stmt_bind_i64(st, 1, after, err);
    change *out = ob_arena_alloc(a, BATCH * sizeof *out);
    int rc = 0;
    while (*n < BATCH && (rc = ob_stmt_step(st, err)) == 1) {
        change *ch = &out[(*n)++];
        ch->seq = ob_stmt_col_i64(st, 0);
        ch->table = ob_arena_strdup(a, ob_stmt_col_text(st, 1, NULL));
        const char *id = ob_stmt_col_text(st, 2, NULL);
        ch->id = id ? ob_arena_strdup(a, id) : NULL;
        ch->created = ob_stmt_col_i64(st, 3) != 0;
        ch->deleted = ob_stmt_col_i64(st, 4) != 0;
        size_t n_img = 0;
        const char *img = ob_stmt_col_text(st, 5, &n_img);
        ch->image = img ? ob_arena_strndup(a, img, n_img) : NULL;
        ch->image_len = img ? n_img : 0;
    }
    ob_stmt_done(st);
    return rc < 0 ? NULL : out;
}

static const ob_table *asked(const sse *s, const char *table)
{
    for (int i = 0; i < s->ntables; i++)
        if (!strcmp(s->tables[i]->name, table)) return s->tables[i];
    return NULL;
}

/* One change as an event for s, read as ctx's principal, into text; false
 * when the reader may not see it. */
static bool render(sse *s, ob_ctx *c, ob_arena *a, const change *ch, ob_sb *text)
{
    const ob_table *t = asked(s, ch->table);
    if (!t || !ch->id || (ch->created && ch->deleted)) return false; /* not a row change */
    ob_ctx ctx = *c;
    ob_sb data;
    ob_sb_init_arena(&data, a, 512);
    ob_jsonw w;
    ob_jw_init(&w, &data);
    if (ch->deleted) {
        /* the row is gone, and with it what would say whose it was */
        if (ob_ctx_confined(&ctx)) return false;
        ob_jw_obj_open(&w);
        ob_jw_kstr(&w, "id", ch->id);
        ob_jw_kbool(&w, "deleted", true);
        ob_jw_obj_close(&w);
    } else {
        /* Whether the reader may see the row is asked of the row as it is
         * (a GET of it: customer scope, row rules); what it shows is the
         * row as this change left it, through the same column rules. */
        ob_row *row;
        ob_err err;
        if (ob_crud_get(&ctx, t, ch->id, &row, &err) != 0) {
            /* not visible to this reader, or gone since */
            if (err.code != OB_E_NOT_FOUND)
                ob_log(OB_LOG_WARN, "stream read failed", "table", t->name, "error", err.message, NULL);
            return false;
        }
        if (ch->image) ob_row_image_json(&ctx, &w, t->name, ch->image, ch->image_len);
        else ob_row_json(&ctx, &w, row);
    }
    ob_sb_addf(text, "id: %lld\nevent: %s.%s\ndata: ", (long long)ch->seq, t->name,
               ch->created ? "created" : ch->deleted ? "deleted" : "updated");
    ob_sb_add(text, data.buf, data.len);
    ob_sb_adds(text, "\n\n");
    return true;
}

/* Whether s's reader still may read what it asked for, as now: the session
 * (not ended, not expired), the user's current roles and permissions. 0 with
 * ctx filled (a read connection in ctx->db, the caller releases it). */
static int reader_now(sse *s, ob_arena *a, ob_ctx *ctx)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->arena = a;
    ctx->store = hub.store;
    ob_ctx_stamp(ctx);
    ob_err err;
    if (ob_session_authenticate(ctx, s->authorization, &err) != 0) return -1;
    for (int i = 0; i < s->ntables; i++) {
        const ob_route_row *g = ob_routes_record_get(s->tables[i]);
        if (g && g->perm && !ob_ctx_can(ctx, g->perm)) return -1;
    }
    return 0;
}

/* Under hub.lock: s ends once what it has is sent. */
static void end_stream(sse *s)
{
    s->over = true;
    if (s->hs) ob_http_stream_wake(s->hs);
}

/* The changes of one tenant for its streams in group[0..n). Returns true
 * when a full batch was read (more may be waiting). */
static bool poll_tenant(sse **group, int n, ob_arena *a)
{
    int64_t low = group[0]->cursor;
    for (int i = 1; i < n; i++)
        if (group[i]->cursor < low) low = group[i]->cursor;
    ob_err err;
    ob_conn *c;
    const ob_tenant_info *ten = &group[0]->tenant;
    if (ob_db_acquire(hub.store, ten->slug, ten->id, OB_DB_READ, &c, &err) != 0) {
        ob_log(OB_LOG_WARN, "stream poll failed", "tenant", ten->slug, "error", err.message, NULL);
        return false;
    }
    int nch = 0;
    change *chs = changes_after(c, a, low, &nch, &err);
    if (!chs) ob_log(OB_LOG_WARN, "stream poll failed", "tenant", ten->slug, "error", err.message, NULL);
    int64_t now = ob_mono_us();
    for (int i = 0; chs && i < n; i++) {
        sse *s = group[i];
        bool news = nch > 0 && chs[nch - 1].seq > s->cursor;
        if (!news && now - s->checked_us < RECHECK_US) continue;
        /* each batch is read as the reader is now: a session ended or a
         * permission withdrawn since the stream opened ends the stream */
        ob_ctx rc;
        if (reader_now(s, a, &rc) != 0) {
            if (rc.db) ob_db_release(rc.db);
            pthread_mutex_lock(&hub.lock);
            end_stream(s);
            pthread_mutex_unlock(&hub.lock);
            continue;
        }
        s->checked_us = now;
        ob_sb text;
        ob_sb_init_arena(&text, a, 1024);
        for (int k = 0; k < nch; k++) {
            if (chs[k].seq <= s->cursor) continue;
            render(s, &rc, a, &chs[k], &text);
            s->cursor = chs[k].seq;
        }
        ob_db_release(rc.db);
        if (text.len) {
            pthread_mutex_lock(&hub.lock);
            emit(s, text.buf, text.len, ob_mono_us());
            pthread_mutex_unlock(&hub.lock);
        }
    }
    ob_db_release(c);
    return nch == BATCH;
}

/* One round: every listed stream, grouped by tenant, then keep-alives. */
static bool tick(ob_arena *a)
{
    pthread_mutex_lock(&hub.lock);
    int n = 0;
    for (sse *s = hub.list; s; s = s->next) n++;
    sse **all = ob_arena_alloc(a, ((size_t)n + 1) * sizeof *all);
    n = 0;
    for (sse *s = hub.list; s; s = s->next)
        if (!s->gone && !s->over) {
            s->refs++;
            all[n++] = s;
        }
    pthread_mutex_unlock(&hub.lock);

    bool more = false;
    bool *seen = ob_arena_zalloc(a, (size_t)n + 1);
    sse **group = ob_arena_alloc(a, ((size_t)n + 1) * sizeof *group);
    for (int i = 0; i < n; i++) {
        if (seen[i]) continue;
        int g = 0;
        for (int j = i; j < n; j++)
            if (!seen[j] && !strcmp(all[j]->tenant.id, all[i]->tenant.id)) {
                seen[j] = true;
                group[g++] = all[j];
            }
        more |= poll_tenant(group, g, a);
    }

    pthread_mutex_lock(&hub.lock);
    int64_t now = ob_mono_us();
    for (int i = 0; i < n; i++) {
        sse *s = all[i];
        if (now - s->last_out_us >= hub.cfg.keepalive_ms * 1000) emit(s, ": keep-alive\n\n", 14, now);
        release(s);
    }
    pthread_mutex_unlock(&hub.lock);
    return more;
}

static void *notifier_main(void *arg)
{
    (void)arg;
    ob_arena a;
    ob_arena_init(&a, 0);
    bool more = false;
    pthread_mutex_lock(&hub.lock);
    while (!hub.stop) {
        if (!more) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            int64_t ns = until.tv_nsec + hub.cfg.poll_ms * 1000000;
            until.tv_sec += (time_t)(ns / 1000000000);
            until.tv_nsec = (long)(ns % 1000000000);
            pthread_cond_timedwait(&hub.cond, &hub.lock, &until);
            if (hub.stop) break;
        }
        pthread_mutex_unlock(&hub.lock);
        more = tick(&a);
        ob_arena_clear(&a);
        pthread_mutex_lock(&hub.lock);
    }
    pthread_mutex_unlock(&hub.lock);
    ob_arena_release(&a);
    return NULL;
}

void ob_stream_shutdown(void)
{
    pthread_mutex_lock(&hub.lock);
    bool running = hub.running;
    hub.stop = true;
    pthread_cond_broadcast(&hub.cond);
    pthread_mutex_unlock(&hub.lock);
    if (running) pthread_join(hub.thread, NULL);
}

/* ---- opening a stream ---- */

static const char *dup(ob_arena *a, const char *s)
{
    return s ? ob_arena_strdup(a, s) : NULL;
}

static sse *sse_new(const ob_ctx *ctx, const ob_call *call, const char *authorization)
{
    sse *s = calloc(1, sizeof *s);
    if (!s) abort();
    ob_arena_init(&s->arena, 0);
    ob_arena *a = &s->arena;
    s->user_id = dup(a, ctx->who->user_id);
    s->tenant = *ctx->tenant;
    s->tenant.id = dup(a, ctx->tenant->id);
    s->tenant.slug = dup(a, ctx->tenant->slug);
    s->tenant.name = dup(a, ctx->tenant->name);
    s->tenant.plan_code = dup(a, ctx->tenant->plan_code);
    memcpy(s->tables, call->tables, sizeof s->tables);
    s->authorization = dup(a, authorization);
    s->checked_us = ob_mono_us();
    s->ntables = call->ntables;
    ob_sb_init(&s->out, 1024);
    s->src = (ob_stream_src){on_attach, on_read, on_done, s};
    s->refs = 1; /* the connection's, until done */
    s->last_out_us = ob_mono_us();
    return s;
}

/* The tenant's last event id (0 before any). */
static int last_id(ob_conn *c, int64_t *out, ob_err *err)
{
    ob_stmt *st;
    if (ob_db_prepare(c, "SELECT COALESCE(MAX(seq), 0) FROM audit_logs", &st, err) != 0) return -1;
    int rc = ob_stmt_step(st, err);
    if (rc == 1) *out = ob_stmt_col_i64(st, 0);
    ob_stmt_done(st);
    return rc == 1 ? 0 : -1;
}

static bool same_user(const sse *s, const ob_ctx *ctx)
{
    return !s->gone && !strcmp(s->tenant.id, ctx->tenant->id) && s->user_id && ctx->who->user_id &&
           !strcmp(s->user_id, ctx->who->user_id);
}

void ob_api_stream(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call)
{
    ob_err err;
    int64_t last = 0;
    if (last_id(ctx->db, &last, &err) != 0) return ob_resp_error(resp, &err);
    pthread_mutex_lock(&hub.lock);
    int64_t retention = hub.cfg.retention;
    pthread_mutex_unlock(&hub.lock);
    /* resume after the id given when it is within the retention, else from now */
    int64_t from = last;
    bool reset = false;
    if (call->last_event_id >= 0) {
        reset = call->last_event_id > last || call->last_event_id < last - retention;
        if (!reset) from = call->last_event_id;
    }
    sse *s = sse_new(ctx, call, req->header(req, "Authorization"));
    s->cursor = from;
    if (reset)
        ob_sb_addf(&s->out,
                   "retry: 2000\nid: %lld\nevent: reset\ndata: {\"reason\":\"the last event id is outside the "
                   "retention: read the current state again\",\"last_event_id\":%lld}\n\n",
                   (long long)last, (long long)last);
    else
        ob_sb_adds(&s->out, "retry: 2000\n: stream open\n\n");

    pthread_mutex_lock(&hub.lock);
    int mine = 0;
    for (sse *o = hub.list; o; o = o->next) mine += same_user(o, ctx);
    if (mine >= hub.cfg.max_per_user || hub.stop) {
        int64_t cap = hub.cfg.max_per_user;
        bool stopping = hub.stop;
        pthread_mutex_unlock(&hub.lock);
        release(s);
        if (stopping) ob_err_set(&err, OB_E_UNAVAILABLE, "the server is stopping");
        else ob_err_set(&err, OB_E_RATE_LIMITED, "at most %lld streams per user are open at once", (long long)cap);
        ob_resp_error(resp, &err);
        ob_resp_header(resp, "Retry-After", "5");
        return;
    }
    if (!hub.running) {
        hub.store = app->store;
        if (pthread_create(&hub.thread, NULL, notifier_main, NULL) != 0) abort();
        hub.running = true;
    }
    s->next = hub.list;
    hub.list = s;
    pthread_mutex_unlock(&hub.lock);

    resp->status = 200;
    resp->stream = &s->src;
    resp->content_type = "text/event-stream";
    ob_resp_header(resp, "X-Accel-Buffering", "no"); /* proxies must not hold events back */
}
