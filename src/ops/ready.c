/* ready.c - the checks of /readyz (ready.h). */
#include <string.h>
#include <sys/statvfs.h>

#include "base/base.h"
#include "base/clock.h"
#include "ops/metrics.h"
#include "ops/ready.h"
#include "platform/tenants.h"
#include "base/banned.h"

static int select_one(ob_conn *c, ob_err *err)
{
    ob_stmt *st;
    if (ob_db_prepare(c, "SELECT 1", &st, err) != 0) return -1;
    int rc = ob_stmt_step(st, err) == 1 ? 0 : -1;
    ob_stmt_done(st);
    return rc;
}

/* The control database answers, and so does one tenant's (the first by slug:
 * a tenant database that cannot be opened fails every request of its tenant,
 * and on PostgreSQL it is another schema's search_path). */
static bool check_database(ob_store *s, ob_jsonw *w)
{
    ob_err err;
    int64_t t0 = ob_mono_us();
    ob_conn *c;
    bool ok = ob_db_acquire(s, NULL, NULL, OB_DB_READ, &c, &err) == 0;
    if (ok) {
        ok = select_one(c, &err) == 0;
        ob_db_release(c);
    }
    int64_t control_us = ob_mono_us() - t0;
    const char *tenant = NULL;
    int64_t tenant_us = 0;
    ob_arena a;
    ob_arena_init(&a, 0);
    int64_t ntenants = 0;
    if (ok && (ok = ob_tenant_first(s, &a, &tenant, &ntenants, &err) == 0) && tenant) {
        int64_t t1 = ob_mono_us();
        ob_tenant_info *info;
        if ((ok = ob_tenant_open(s, &a, tenant, OB_DB_READ, &info, &c, &err) == 0)) {
            ok = select_one(c, &err) == 0;
            ob_db_release(c);
        }
        tenant_us = ob_mono_us() - t1;
    }
    ob_jw_key(w, "database");
    ob_jw_obj_open(w);
    ob_jw_kstr(w, "status", ok ? "pass" : "fail");
    ob_jw_kstr(w, "engine", ob_store_engine(s) == OB_DB_POSTGRES ? "postgres" : "sqlite");
    ob_jw_ki64(w, "control_ms", control_us / 1000);
    ob_jw_kstr(w, "tenant", tenant);
    ob_jw_ki64(w, "tenant_ms", tenant_us / 1000);
    ob_jw_ki64(w, "tenants", ntenants);
    if (!ok) ob_jw_kstr(w, "error", err.message);
    ob_jw_obj_close(w);
    ob_arena_release(&a);
    return ok;
}

/* The sums the job sweep keeps (metrics.h): no tenant is opened, so the
 * probe costs the same with one tenant or thousands. A tenant not counted yet
 * (a fresh process before its first whole pass) is not held against the
 * check: "swept" says whether every tenant is in the figures. */
static bool check_jobs(const ob_ready_cfg *cfg, ob_jsonw *w)
{
    ob_metrics_jobs_figures j;
    ob_metrics_jobs(&j);
    bool ok = j.oldest_due_s <= (double)cfg->max_job_age_s;
    ob_jw_key(w, "jobs");
    ob_jw_obj_open(w);
    ob_jw_kstr(w, "status", ok ? "pass" : "fail");
    ob_jw_ki64(w, "queued", j.queued);
    ob_jw_ki64(w, "due", j.due);
    ob_jw_ki64(w, "oldest_due_age_s", (int64_t)j.oldest_due_s);
    ob_jw_ki64(w, "max_age_s", cfg->max_job_age_s);
    ob_jw_ki64(w, "tenants_counted", j.tenants_counted);
    ob_jw_kbool(w, "swept", j.swept);
    ob_jw_obj_close(w);
    return ok;
}

static bool check_disk(const ob_ready_cfg *cfg, ob_jsonw *w)
{
    struct statvfs v;
    bool known = cfg->data_dir && statvfs(cfg->data_dir, &v) == 0;
    /* f_bavail: what an unprivileged writer may still use */
    int64_t free_b = known ? (int64_t)v.f_bavail * (int64_t)v.f_frsize : -1;
    int64_t total_b = known ? (int64_t)v.f_blocks * (int64_t)v.f_frsize : -1;
    bool ok = known && free_b >= cfg->min_free_bytes;
    ob_jw_key(w, "disk");
    ob_jw_obj_open(w);
    ob_jw_kstr(w, "status", ok ? "pass" : "fail");
    ob_jw_ki64(w, "free_bytes", free_b);
    ob_jw_ki64(w, "total_bytes", total_b);
    ob_jw_ki64(w, "min_free_bytes", cfg->min_free_bytes);
    if (!known) ob_jw_kstr(w, "error", "the data directory's file system could not be read");
    ob_jw_obj_close(w);
    return ok;
}

bool ob_ready_check(ob_store *s, const ob_ready_cfg *cfg, ob_jsonw *w)
{
    ob_jw_obj_open(w);
    ob_jw_key(w, "checks");
    ob_jw_obj_open(w);
    bool pass[3];
    pass[0] = check_database(s, w);
    pass[1] = check_jobs(cfg, w);
    pass[2] = check_disk(cfg, w);
    ob_jw_obj_close(w);
    static const char *const names[] = {"database", "jobs", "disk"};
    bool all = pass[0] && pass[1] && pass[2];
    ob_jw_key(w, "failed");
    ob_jw_arr_open(w);
    for (int i = 0; i < 3; i++)
        if (!pass[i]) ob_jw_str(w, names[i]);
    ob_jw_arr_close(w);
    ob_jw_kstr(w, "status", all ? "ready" : "not_ready");
    ob_jw_obj_close(w);
    return all;
}
