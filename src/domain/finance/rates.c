/* rates.c - 003's metal rates: the price of a gram of a metal at a purity,
 * from a moment on. Rows are never changed: a new rate is a new row, so the
 * rate in force at any past time can still be answered (and an invoice line
 * keeps the one it was priced at). */
#include "domain/domains.h"
#include "domain/finance/finance.h"
#include "base/banned.h"

OB_ENUM(metal_kind, "metal", "gold", "silver", "platinum");

static const ob_column metal_rate_cols[] = {
    {"metal", OB_F_ENUM, .enm = &metal_kind, .flags = OB_REQUIRED | OB_SORT},
    {"purity", OB_F_INT, .flags = OB_REQUIRED | OB_HAS_MIN | OB_HAS_MAX | OB_SORT, .min = 1, .max = 999,
     .doc = "fineness in parts per thousand: 24K = 999, 22K = 916, 18K = 750, 14K = 585"},
    {"effective_from", OB_F_TIMESTAMP, .flags = OB_REQUIRED | OB_SORT, .dflt = "now",
     .doc = "the rate is in force from this time until a later effective_from of the same metal and purity"},
    {"rate_per_gram", OB_F_DECIMAL, .scale = 2, .flags = OB_REQUIRED | OB_HAS_MIN | OB_MIN_EXCL | OB_HAS_MAX,
     .min = 0, .max = OB_MONEY_MAX, .doc = "price of one gram in the company's currency"},
    {"source", OB_F_TEXT, .max = 100, .flags = OB_REQUIRED, .dflt = "manual",
     .doc = "where the rate comes from: manual, a market feed"},
    {"created_by", OB_F_REF, .ref = "users", .on_delete = OB_DEL_SET_NULL, .flags = OB_SERVER,
     .stamp = OB_STAMP_ACTOR, .doc = "who entered it"},
};
static const ob_index metal_rate_idx[] = {{"metal,purity,effective_from", .since = 4}};
const ob_resource ob_res_metal_rates = {
    .table = "metal_rates",
    .doc = "metal rates per gram by metal and purity (003); never changed: GET /api/v1/metal_rates/current "
           "answers the rate in force at a time, and company_settings shows the current ones",
    OB_COLS(metal_rate_cols), OB_INDEXES(metal_rate_idx), .perm = "finance", .flags = OB_RES_APPEND_ONLY,
    .hooks = &ob_metal_rate_hooks, .default_sort = "-effective_from", .since = 4,
};
