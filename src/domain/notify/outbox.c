/* outbox.c - notifications: templates rendered with a record's fields, an
 * outbox of messages (notification_logs) and their delivery by a job.
 *
 * ob_notify (notify.h) renders the template in the caller's transaction and
 * writes the message as a pending notification_logs row with the job that
 * sends it, so a change that rolls back sends nothing and one that commits
 * cannot lose its message. The job (notify.send) sends outside the tenant's
 * write lock: e-mail over SMTP (jobs/smtp.c, --smtp-url), SMS and WhatsApp
 * through the built-in provider, which writes the message to the server log.
 * Its outcome is written to the row in the transaction that completes the
 * job (settle): sent, or, after the last attempt, failed with the reason.
 *
 * Templates name their placeholders, {{name}}, in `variables`; a template
 * whose subject or body uses one it does not name is refused when saved
 * (422), so a send never meets an unknown placeholder. A variable the data
 * lacks renders empty. */
#include <jansson.h>
#include <string.h>

#include "base/base.h"
#include "base/log.h"
#include "domain/domains.h"
#include "domain/notify/notify.h"
#include "jobs/jobs.h"
#include "jobs/smtp.h"
#include "schema/crud.h"
#include "schema/rowjson.h"
#include "schema/sql.h"
#include "gen/columns.h"
#include "base/banned.h"

#define SEND_ATTEMPTS 5
#define NAME_MAX_LEN 64

/* Call fn for each placeholder of text ({{ name }}, spaces allowed);
 * -1 with err for an unclosed or malformed one, or when fn refuses. */
static int each_placeholder(const char *text, const char *field, int (*fn)(const char *name, void *arg), void *arg,
                            ob_err *err)
{
    for (const char *p = text ? strstr(text, "{{") : NULL; p; p = strstr(p, "{{")) {
        const char *end = strstr(p + 2, "}}");
        if (!end) {
            ob_err_set(err, OB_E_UNPROCESSABLE, NULL);
            return ob_err_field_add(err, field, "has {{ without }}");
        }
        const char *s = p + 2, *e = end;
        while (s < e && *s == ' ') s++;
        while (e > s && e[-1] == ' ') e--;
        char name[NAME_MAX_LEN + 1];
        size_t n = (size_t)(e - s);
        bool ok = n > 0 && n <= NAME_MAX_LEN;
        for (size_t i = 0; ok && i < n; i++)
            ok = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
                 s[i] == '_' || s[i] == '.';
        if (!ok) {
            ob_err_set(err, OB_E_UNPROCESSABLE, NULL);
            return ob_err_field_add(err, field, "has a placeholder that is not {{name}}");
        }
        memcpy(name, s, n);
        name[n] = 0;
        if (fn(name, arg) != 0) {
            ob_err_set(err, OB_E_UNPROCESSABLE, "the placeholder {{%s}} is not among the template's variables", name);
            return ob_err_field_add(err, field, "uses a placeholder not listed in variables");
        }
        p = end + 2;
    }
    return 0;
}

static int listed(const char *name, void *arg)
{
    size_t i;
    json_t *v;
    json_array_foreach((json_t *)arg, i, v) {
        if (json_is_string(v) && !strcmp(json_string_value(v), name)) return 0;
    }
    return -1;
}

static int check_template(ob_ctx *ctx, ob_row *row, ob_err *err)
{
    (void)ctx;
    const char *vars = ob_row_text(row, NOTIFICATION_TEMPLATES_VARIABLES);
    json_t *list = json_loads(vars ? vars : "[]", 0, NULL);
    int rc = 0;
    if (!json_is_array(list)) {
        ob_err_set(err, OB_E_UNPROCESSABLE, NULL);
        rc = ob_err_field_add(err, "variables", "must be an array of names");
    }
    if (rc == 0)
        rc = each_placeholder(ob_row_text(row, NOTIFICATION_TEMPLATES_SUBJECT), "subject", listed, list, err);
    if (rc == 0) rc = each_placeholder(ob_row_text(row, NOTIFICATION_TEMPLATES_BODY), "body", listed, list, err);
    json_decref(list);
    return rc;
}

static int template_before_update(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    (void)old;
    return check_template(ctx, row, err);
}

const ob_hooks ob_template_hooks = {.before_create = check_template, .before_update = template_before_update};

/* The value of a placeholder: a field of vars, "a.b" reaching into objects. */
static void put_value(ob_sb *out, json_t *vars, const char *name)
{
    json_t *v = vars;
    char part[NAME_MAX_LEN + 1];
    for (const char *s = name; v && *s;) {
        const char *dot = strchr(s, '.');
        size_t n = dot ? (size_t)(dot - s) : strlen(s);
        memcpy(part, s, n);
        part[n] = 0;
        v = json_is_object(v) ? json_object_get(v, part) : NULL;
        s += n + (dot ? 1 : 0);
    }
    if (json_is_string(v)) ob_sb_adds(out, json_string_value(v));
    else if (json_is_integer(v)) ob_sb_addf(out, "%lld", (long long)json_integer_value(v));
    else if (json_is_true(v)) ob_sb_adds(out, "true");
    else if (json_is_false(v)) ob_sb_adds(out, "false");
    /* amounts are strings already; null, objects and absent render empty */
}

typedef struct render_st {
    ob_sb *out;
    json_t *vars;
} render_st;

static int put(const char *name, void *arg)
{
    render_st *r = arg;
    put_value(r->out, r->vars, name);
    return 0;
}

static const char *render(ob_ctx *ctx, const char *text, json_t *vars, ob_err *err)
{
    if (!text) return NULL;
    ob_sb out;
    ob_sb_init_arena(&out, ctx->arena, strlen(text) + 64);
    const char *p = text;
    for (const char *q = strstr(p, "{{"); q; q = strstr(p, "{{")) {
        const char *end = strstr(q, "}}");
        if (!end) break;
        ob_sb_add(&out, p, (size_t)(q - p));
        /* one placeholder at a time, through the same parser as the check */
        char *one = ob_arena_strndup(ctx->arena, q, (size_t)(end + 2 - q));
        render_st st = {&out, vars};
        if (each_placeholder(one, "body", put, &st, err) != 0) return NULL;
        p = end + 2;
    }
    ob_sb_adds(&out, p);
    return out.buf;
}

typedef struct sending {
    const char *metadata, *sender;
} sending;

static int queue(ob_ctx *ctx, const ob_row *tpl, const char *to, json_t *vars, const char *ref_type,
                 const char *ref_id, const sending *how, const char **log_id, ob_err *err);

int ob_notify_vars(ob_ctx *ctx, const char *template_code, const char *to, json_t *vars, const char *ref_type,
                   const char *ref_id, const char **log_id, ob_err *err)
{
    return ob_notify_vars_by(ctx, template_code, to, vars, ref_type, ref_id, NULL, NULL, log_id, err);
}

int ob_notify_vars_by(ob_ctx *ctx, const char *template_code, const char *to, json_t *vars, const char *ref_type,
                      const char *ref_id, const char *metadata, const char *sender, const char **log_id, ob_err *err)
{
    ob_stmt *st;
    /* a code may have a template per channel: e-mail first, then SMS, then WhatsApp */
    if (ob_db_prepare(ctx->db,
                      "SELECT id FROM notification_templates WHERE code = ? AND is_active = ? ORDER BY CASE type "
                      "WHEN 'email' THEN 0 WHEN 'sms' THEN 1 ELSE 2 END LIMIT 1",
                      &st, err) != 0)
        return -1;
    ob_stmt_bind_text(st, 1, template_code, err);
    ob_value yes = ob_v_bool(true);
    ob_sql_bind_value(st, 2, &yes, err);
    int rc = ob_stmt_step(st, err);
    const char *tid = rc == 1 ? ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 0, NULL)) : NULL;
    ob_stmt_done(st);
    if (rc < 0) return -1;
    if (!tid) return ob_err_set(err, OB_E_UNPROCESSABLE, "no active notification template has the code \"%.100s\"",
                                template_code);
    ob_row *tpl;
    if (ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_NOTIFICATION_TEMPLATES), tid, &tpl, err) != 0) return -1;
    sending how = {metadata, sender};
    return queue(ctx, tpl, to, vars, ref_type, ref_id, &how, log_id, err);
}

/* Render tpl and write the pending message with the job that sends it. */
static int queue(ob_ctx *ctx, const ob_row *tpl, const char *to, json_t *vars, const char *ref_type,
                 const char *ref_id, const sending *how, const char **log_id, ob_err *err)
{
    const char *tid = ob_row_id(tpl);
    const char *subject = render(ctx, ob_row_text(tpl, NOTIFICATION_TEMPLATES_SUBJECT), vars, err);
    const char *body = render(ctx, ob_row_text(tpl, NOTIFICATION_TEMPLATES_BODY), vars, err);
    if (!body) return -1;
    ob_row *log = ob_row_new(ctx->arena, ob_registry_find(OB_TABLE_NOTIFICATION_LOGS));
    ob_row_set_text(ctx->arena, log, NOTIFICATION_LOGS_TEMPLATE_ID, tid);
    ob_row_set_text(ctx->arena, log, NOTIFICATION_LOGS_TYPE, ob_row_text(tpl, NOTIFICATION_TEMPLATES_TYPE));
    ob_row_set_text(ctx->arena, log, NOTIFICATION_LOGS_RECIPIENT, to);
    ob_row_set_text(ctx->arena, log, NOTIFICATION_LOGS_SUBJECT, subject ? ob_arena_strndup(ctx->arena, subject, 500) : NULL);
    ob_row_set_text(ctx->arena, log, NOTIFICATION_LOGS_BODY, body);
    ob_row_set_text(ctx->arena, log, NOTIFICATION_LOGS_STATUS, "pending");
    ob_row_set_text(ctx->arena, log, NOTIFICATION_LOGS_REFERENCE_TYPE, ref_type);
    ob_row_set_text(ctx->arena, log, NOTIFICATION_LOGS_REFERENCE_ID, ref_id);
    ob_row_set_text(ctx->arena, log, NOTIFICATION_LOGS_METADATA, how && how->metadata ? how->metadata : "{}");
    if (ob_crud_insert_row(ctx, log, err) != 0) return -1;
    if (log_id) *log_id = ob_row_id(log);
    return ob_job_enqueue(ctx, how && how->sender ? how->sender : "notify.send",
                          ob_arena_printf(ctx->arena, "{\"log_id\":\"%s\"}", ob_row_id(log)), SEND_ATTEMPTS, err);
}

int ob_notify(ob_ctx *ctx, const char *template_code, const char *to, const ob_row *row, ob_err *err)
{
    ob_sb sb;
    ob_sb_init_arena(&sb, ctx->arena, 512);
    ob_jsonw w;
    ob_jw_init(&w, &sb);
    ob_row_json_raw(&w, row); /* secrets are never in it */
    json_t *vars = json_loads(sb.buf, 0, NULL);
    int rc = ob_notify_vars(ctx, template_code, to, vars, row->t->name, ob_row_id(row), NULL, err);
    json_decref(vars);
    return rc;
}

/* The action send {to, variables}: one message from this template now. */
OB_ACTION_FN(ob_template_send)
{
    (void)row;
    if (!ob_row_int(old, NOTIFICATION_TEMPLATES_IS_ACTIVE, 0))
        return ob_err_set(err, OB_E_BAD_STATE, "the template is not active");
    const char *v = ob_row_text(ctx->input, NOTIFICATION_TEMPLATES_SEND_IN_VARIABLES);
    json_t *vars = json_loads(v ? v : "{}", 0, NULL);
    if (!json_is_object(vars)) {
        json_decref(vars);
        ob_err_set(err, OB_E_VALIDATION, NULL);
        return ob_err_field_add(err, "variables", "must be an object");
    }
    const char *log_id = NULL;
    /* this template, whatever others share its code */
    int rc = queue(ctx, old, ob_row_text(ctx->input, NOTIFICATION_TEMPLATES_SEND_IN_TO), vars, NULL, NULL, NULL, &log_id,
                   err);
    json_decref(vars);
    if (rc == 0) ctx->reveal = ob_arena_printf(ctx->arena, "{\"notification_log_id\":\"%s\"}", log_id);
    return rc;
}

/* --- the job notify.send ------------------------------------------------ */

static int load_log(ob_ctx *ctx, const ob_row *job, ob_row **out, ob_err *err)
{
    json_t *pl = json_loads(ob_row_text(job, JOBS_PAYLOAD), 0, NULL);
    json_t *id = json_object_get(pl, "log_id");
    const char *lid = ob_arena_strdup(ctx->arena, json_is_string(id) ? json_string_value(id) : "");
    json_decref(pl);
    return ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_NOTIFICATION_LOGS), lid, out, err);
}

int ob_notify_send_run(ob_ctx *ctx, const ob_row *job, ob_sb *result, ob_err *err)
{
    ob_row *log;
    if (load_log(ctx, job, &log, err) != 0) return -1;
    const char *status = ob_row_text(log, NOTIFICATION_LOGS_STATUS);
    if (strcmp(status, "pending") != 0) { /* sent by an earlier run: at least once, not twice */
        ob_sb_addf(result, "{\"status\":\"%s\"}", status);
        return 0;
    }
    const char *type = ob_row_text(log, NOTIFICATION_LOGS_TYPE);
    const char *to = ob_row_text(log, NOTIFICATION_LOGS_RECIPIENT);
    if (!strcmp(type, "email")) {
        const char *subject = ob_row_text(log, NOTIFICATION_LOGS_SUBJECT);
        if (ob_smtp_send(to, subject ? subject : "", ob_row_text(log, NOTIFICATION_LOGS_BODY), err) != 0) return -1;
    } else {
        /* the built-in SMS and WhatsApp provider: the server log, no network */
        ob_log(OB_LOG_INFO, "notification", "tenant", ctx->tenant->slug, "type", type, "to", to, "body",
               ob_row_text(log, NOTIFICATION_LOGS_BODY), NULL);
    }
    ob_sb_adds(result, "{\"status\":\"sent\"}");
    return 0;
}

/* The log's status is the server's: set here, in the transaction that
 * completes the job (the table takes no client writes). */
static int set_status(ob_ctx *ctx, const char *id, const char *status, const char *error, ob_err *err)
{
    ob_value v[4] = {ob_v_text(status), status[0] == 's' ? ob_v_text(ctx->now) : ob_v_null(),
                     error ? ob_v_text(error) : ob_v_null(), ob_v_text(id)};
    return ob_sql_run(ctx->db,
                      "UPDATE notification_logs SET status = ?, sent_at = ?, error_message = ? "
                      "WHERE id = ? AND status = 'pending'",
                      v, 4, err);
}

int ob_notify_send_settle(ob_ctx *ctx, const ob_row *job, int rc, const ob_err *rerr, ob_sb *result, ob_err *err)
{
    ob_row *log;
    if (load_log(ctx, job, &log, err) != 0) return -1;
    if (rc == 0) return set_status(ctx, ob_row_id(log), "sent", NULL, err);
    if (ob_row_int(job, JOBS_ATTEMPTS, 0) < ob_row_int(job, JOBS_MAX_ATTEMPTS, SEND_ATTEMPTS)) {
        *err = *rerr; /* the job is retried after its back-off; the message stays pending */
        return -1;
    }
    ob_sb_reset(result);
    ob_sb_adds(result, "{\"status\":\"failed\"}");
    return set_status(ctx, ob_row_id(log), "failed", rerr->message, err);
}
