/* features.c - the feature each permission module needs, and a small cache
 * of each tenant's features (features.h). */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "api/features.h"
#include "base/base.h"
#include "platform/tenants.h"
#include "base/banned.h"

/* Plan features that decide whole areas. Modules not listed are in every
 * plan (the plan's numeric limits bound them instead: users, channels,
 * tickets a month). The codes are the seeded features (platform/tenants.c);
 * their tiers decide which plans include them. */
static const struct {
    const char *module, *feature;
} module_features[] = {
    {"tickets", "support_desk"},
    {"categories", "support_desk"},
    {"documents", "knowledge_base"},
    {"orders", "orders_management"},
    {"shipments", "shipment_management"},
    {"ndr", "ndr_management"},
    {"couriers", "custom_couriers"},
    {"finance", "finance_reports"},
    {"analytics", "advanced_analytics"},
    {"reports", "advanced_analytics"},
    {"api_keys", "api_access"},
};

const char *ob_feature_of_module(const char *module)
{
    for (size_t i = 0; module && i < OB_ARRAY_LEN(module_features); i++)
        if (!strcmp(module_features[i].module, module)) return module_features[i].feature;
    return NULL;
}

const char *ob_feature_module_at(size_t i, const char **feature)
{
    if (i >= OB_ARRAY_LEN(module_features)) return NULL;
    *feature = module_features[i].feature;
    return module_features[i].module;
}

/* Bit of a feature code among the map's distinct codes; -1 for another. */
static int feature_bit(const char *code)
{
    for (size_t i = 0; i < OB_ARRAY_LEN(module_features); i++)
        if (!strcmp(module_features[i].feature, code)) {
            size_t first = i;
            for (size_t k = 0; k < i; k++)
                if (!strcmp(module_features[k].feature, code)) {
                    first = k;
                    break;
                }
            return (int)first;
        }
    return -1;
}

#define SLOTS 256

typedef struct entry {
    char tenant_id[40];
    char plan[64];
    int64_t loaded_ms; /* 0: empty */
    unsigned mask;     /* bit feature_bit(code): the tenant has it */
} entry;

static entry slots[SLOTS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static unsigned slot_of(const char *id)
{
    unsigned h = 2166136261u;
    for (; *id; id++) h = (h ^ (unsigned char)*id) * 16777619u;
    return h % SLOTS;
}

static void add_bit(const char *code, void *arg)
{
    int b = feature_bit(code);
    if (b >= 0) *(unsigned *)arg |= 1u << b;
}

int ob_feature_enabled(ob_store *s, const ob_tenant_info *t, const char *code, int64_t now_ms, bool *on,
                       ob_err *err)
{
    int bit = feature_bit(code);
    if (bit < 0) return ob_err_set(err, OB_E_INTERNAL, "the feature \"%s\" is not in the map", code);
    const char *plan = t->plan_code ? t->plan_code : "";
    entry *e = &slots[slot_of(t->id)];
    pthread_mutex_lock(&lock);
    bool hit = e->loaded_ms && now_ms - e->loaded_ms < OB_FEATURES_TTL_MS && now_ms >= e->loaded_ms &&
               !strcmp(e->tenant_id, t->id) && !strcmp(e->plan, plan);
    unsigned mask = e->mask;
    pthread_mutex_unlock(&lock);
    if (!hit) {
        ob_conn *c;
        mask = 0;
        if (ob_db_acquire(s, NULL, NULL, OB_DB_READ, &c, err) != 0) return -1;
        int rc = ob_tenant_features(c, t->id, t->plan_code, add_bit, &mask, err);
        ob_db_release(c);
        if (rc != 0) return -1;
        pthread_mutex_lock(&lock);
        snprintf(e->tenant_id, sizeof e->tenant_id, "%s", t->id);
        snprintf(e->plan, sizeof e->plan, "%s", plan);
        e->loaded_ms = now_ms;
        e->mask = mask;
        pthread_mutex_unlock(&lock);
    }
    *on = (mask >> bit) & 1u;
    return 0;
}

void ob_features_clear(void)
{
    pthread_mutex_lock(&lock);
    memset(slots, 0, sizeof slots);
    pthread_mutex_unlock(&lock);
}
