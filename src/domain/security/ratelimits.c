/* The counters of the tenant's own rate limits (issue 17): one row per
 * caller and window, counted up by one upsert per request (api/ratelimit.c),
 * so every server process sharing the database counts against the same
 * limit. Old windows of a caller are removed when its next window opens. */
#include "domain/domains.h"
#include "base/banned.h"

static const ob_column rate_counter_cols[] = {
    {"bucket", OB_F_TEXT, .max = 200, .flags = OB_REQUIRED,
     .doc = "what is counted: \"rpm:<user id>\" (requests a minute), \"eph:<user id>\" (exports an hour)"},
    {"window_start", OB_F_INT, .flags = OB_REQUIRED, .doc = "the window: minutes (or hours) since 1970 UTC"},
    {"hits", OB_F_INT, .flags = OB_REQUIRED, .dflt = "0", .doc = "requests counted in the window, refused ones too"},
};
static const ob_index rate_counter_idx[] = {{"bucket,window_start", .unique = true}};
const ob_resource ob_res_rate_counters = {
    .table = "rate_counters", .doc = "fixed-window request counters of the tenant's rate limits (internal)",
    OB_COLS(rate_counter_cols), OB_INDEXES(rate_counter_idx), .perm = "security",
    .flags = OB_RES_NO_API | OB_RES_APPEND_ONLY | OB_RES_NO_AUDIT, .since = 6,
};
