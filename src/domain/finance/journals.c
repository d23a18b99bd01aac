/* journals.c - a journal groups the accounting_entries of one event; it is
 * posted only when its debits equal its credits (003's double entry), and
 * once posted its lines are final. The shop's events (issuing, paying and
 * cancelling an invoice) post theirs through the same check. */
#include "domain/domains.h"
#include "domain/finance/finance.h"
#include "base/banned.h"

OB_ENUM(journal_status, "journal_status", "draft", "posted");
OB_ENUM(journal_source, "journal_source", "manual", "invoice_issue", "invoice_payment", "invoice_cancel",
        "invoice_refund");

static const ob_column journal_cols[] = {
    {"journal_number", OB_F_TEXT, .max = 50, .number_prefix = "JV",
     .flags = OB_REQUIRED | OB_GENERATED | OB_UNIQUE | OB_SORT | OB_SEARCH,
     .doc = "generated (JV-000001) when not given"},
    {"entry_date", OB_F_DATE, .flags = OB_REQUIRED | OB_SORT, .dflt = "today"},
    {"description", OB_F_TEXT, .max = 1000, .flags = OB_SEARCH},
    {"source", OB_F_ENUM, .enm = &journal_source, .flags = OB_REQUIRED | OB_SERVER | OB_INDEXED, .dflt = "manual",
     .doc = "manual: entered by hand; the others: posted by the invoice event named"},
    {"status", OB_F_ENUM, .enm = &journal_status, .flags = OB_REQUIRED | OB_SERVER | OB_INDEXED, .dflt = "draft",
     .doc = "draft: lines may be added; posted: balanced and final"},
    {"total_debit", OB_F_DECIMAL, .scale = 2, .flags = OB_REQUIRED | OB_SERVER, .dflt = "0",
     .doc = "sum of the lines' debits, set when posted"},
    {"total_credit", OB_F_DECIMAL, .scale = 2, .flags = OB_REQUIRED | OB_SERVER, .dflt = "0",
     .doc = "sum of the lines' credits, set when posted: equal to total_debit"},
    {"posted_at", OB_F_TIMESTAMP, .flags = OB_SERVER, .stamp = OB_STAMP_NOW, .stamp_on = "posted"},
    {"posted_by", OB_F_REF, .ref = "users", .on_delete = OB_DEL_SET_NULL, .flags = OB_SERVER,
     .stamp = OB_STAMP_ACTOR, .stamp_on = "posted"},
};
OB_EFFECT_FN(ob_journal_post);
static const ob_transition journal_transitions[] = {
    {"post", "draft", "posted", NULL, ob_journal_post, NULL, NULL},
};
static const ob_fsm journal_fsm = {"status", journal_transitions, 1, "edit"};
extern const ob_hooks ob_journal_hooks;
const ob_resource ob_res_journals = {
    .table = "journals",
    .doc = "journal entries (003): the accounting_entries of one event, posted only when debits equal credits",
    OB_COLS(journal_cols), .perm = "finance", .fsm = &journal_fsm, .hooks = &ob_journal_hooks,
    .default_sort = "-created_at", .since = 4,
};
