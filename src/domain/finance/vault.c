/* vault.c - 003's metal: old gold taken in exchange, and the shop's fine
 * metal as a bounded ledger (metal_ledger entries move metal_accounts'
 * fine_weight; a balance never goes below 0 and always equals the sum of its
 * entries, as `opsbase check-ledgers` verifies). */
#include "domain/domains.h"
#include "domain/finance/finance.h"
#include "base/banned.h"

OB_ENUM(vault_metal, "metal", "gold", "silver", "platinum");
OB_ENUM(metal_entry_type, "metal_ledger_entry_type", "received", "deducted", "issued", "adjustment");

static const ob_column metal_account_cols[] = {
    {"metal", OB_F_ENUM, .enm = &vault_metal, .flags = OB_REQUIRED | OB_INDEXED | OB_IMMUTABLE | OB_SORT},
    {"name", OB_F_TEXT, .max = 100, .flags = OB_REQUIRED, .dflt = "main",
     .doc = "where the metal is kept; exchanges post to the metal's oldest account"},
    {"fine_weight", OB_F_DECIMAL, .scale = 3, .flags = OB_REQUIRED | OB_SERVER | OB_HAS_MIN, .min = 0, .dflt = "0",
     .doc = "grams of fine metal held: moved only by metal_ledger entries"},
};
const ob_resource ob_res_metal_accounts = {
    .table = "metal_accounts", .doc = "the shop's fine metal per metal and place (003); an exchange opens its metal's first",
    OB_COLS(metal_account_cols), .perm = "finance", .default_sort = "metal", .since = 4,
};

static const ob_column exchange_cols[] = {
    {"customer_id", OB_F_REF, .ref = "customers", .flags = OB_REQUIRED | OB_IMMUTABLE | OB_INDEXED},
    {"invoice_id", OB_F_REF, .ref = "invoices", .flags = OB_IMMUTABLE,
     .doc = "the invoice the old gold pays towards: its value is paid on it (payment_method old_gold)"},
    {"metal", OB_F_ENUM, .enm = &vault_metal, .flags = OB_REQUIRED | OB_IMMUTABLE, .dflt = "gold"},
    {"gross_weight", OB_F_DECIMAL, .scale = 3, .flags = OB_REQUIRED | OB_IMMUTABLE | OB_HAS_MIN | OB_MIN_EXCL |
     OB_HAS_MAX, .min = 0, .max = 100000000, .doc = "grams as weighed"},
    {"purity", OB_F_INT, .flags = OB_REQUIRED | OB_IMMUTABLE | OB_HAS_MIN | OB_HAS_MAX, .min = 1, .max = 999,
     .doc = "fineness as tested, parts per thousand (22K = 916)"},
    {"melting_deduction_percent", OB_F_DECIMAL, .scale = 2, .flags = OB_REQUIRED | OB_IMMUTABLE | OB_HAS_MIN |
     OB_HAS_MAX, .min = 0, .max = 10000, .dflt = "0", .doc = "percent of the fine weight lost to melting"},
    {"fine_weight", OB_F_DECIMAL, .scale = 3, .flags = OB_SERVER,
     .doc = "gross_weight x purity / 1000, half up to the milligram"},
    {"deducted_weight", OB_F_DECIMAL, .scale = 3, .flags = OB_SERVER,
     .doc = "melting_deduction_percent of fine_weight, half up"},
    {"credited_weight", OB_F_DECIMAL, .scale = 3, .flags = OB_SERVER, .doc = "fine_weight - deducted_weight"},
    {"rate_per_gram", OB_F_DECIMAL, .scale = 2, .flags = OB_SERVER,
     .doc = "the 24K (999) rate of the metal in force at the exchange"},
    {"value", OB_F_DECIMAL, .scale = 2, .flags = OB_SERVER,
     .doc = "credited_weight x rate_per_gram, half up; null when no 24K rate is in force (then it pays nothing)"},
    {"payment_id", OB_F_REF, .ref = "payments", .flags = OB_SERVER, .doc = "the payment made on invoice_id"},
    {"notes", OB_F_TEXT, .max = 1000},
};
extern const ob_hooks ob_exchange_hooks;
const ob_resource ob_res_old_gold_exchanges = {
    .table = "old_gold_exchanges",
    .doc = "old metal taken from customers (003): fine weight less the melting deduction, valued at the 24K rate; "
           "recorded in the metal ledger",
    OB_COLS(exchange_cols), .perm = "finance", .flags = OB_RES_APPEND_ONLY, .customer_scope = "customer_id",
    .hooks = &ob_exchange_hooks, .default_sort = "-created_at", .since = 4,
};

static const ob_column metal_entry_cols[] = {
    {"metal_account_id", OB_F_REF, .ref = "metal_accounts", .flags = OB_REQUIRED | OB_INDEXED},
    {"entry_type", OB_F_ENUM, .enm = &metal_entry_type, .flags = OB_REQUIRED,
     .doc = "received: fine metal in; deducted: lost to melting; issued: out (sold or sent to refine); adjustment: "
            "counted"},
    {"fine_weight", OB_F_DECIMAL, .scale = 3, .flags = OB_REQUIRED | OB_HAS_MIN | OB_HAS_MAX, .min = -100000000,
     .max = 100000000, .doc = "grams of fine metal; received, deducted and issued take it above 0"},
    {"customer_id", OB_F_REF, .ref = "customers"},
    {"exchange_id", OB_F_REF, .ref = "old_gold_exchanges"},
    {"notes", OB_F_TEXT, .max = 1000},
    {"created_by", OB_F_REF, .ref = "users", .on_delete = OB_DEL_SET_NULL, .flags = OB_SERVER,
     .stamp = OB_STAMP_ACTOR},
};
static const ob_ledger_move metal_moves[] = {
    {"received", "fine_weight", +1}, {"deducted", "fine_weight", -1},
    {"issued", "fine_weight", -1},   {"adjustment", "fine_weight", +1},
};
static const ob_ledger_bound metal_bounds[] = {{"fine_weight", OB_CMP_GTE, NULL, 0}};
static const ob_ledger metal_ledger = {
    .parent = "metal_account_id", .kind = "entry_type", .amount = "fine_weight", OB_LEDGER_MOVES(metal_moves),
    OB_LEDGER_BOUNDS(metal_bounds), .refusal = OB_E_INSUFFICIENT_METAL,
};
extern const ob_hooks ob_metal_entry_hooks;
const ob_resource ob_res_metal_ledger = {
    .table = "metal_ledger", .doc = "fine metal in and out (003); entries are never changed",
    OB_COLS(metal_entry_cols), .perm = "finance", .flags = OB_RES_APPEND_ONLY, .ledger = &metal_ledger,
    .hooks = &ob_metal_entry_hooks, .default_sort = "-created_at", .since = 4,
};
