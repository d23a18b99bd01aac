/* registry.h - every table is declared once, here in types and in
 * src/domain/<area>/ as data. DDL, validation, JSON in and out, routes,
 * filters, sorting, search, masking, permissions and the OpenAPI document are
 * all derived from these declarations; nothing else lists a table's columns.
 *
 * Every table gets implicit columns the engine adds in front of the declared
 * ones: id (UUIDv7 text primary key), created_at, updated_at, version, and
 * deleted_at when the table soft-deletes. A declaration is static const data
 * and is never modified; ob_registry_init() builds the runtime ob_table views.
 */
#ifndef OB_REGISTRY_H
#define OB_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/err.h"

typedef struct ob_ctx ob_ctx;
typedef struct ob_row ob_row;
typedef struct ob_sb ob_sb;

typedef enum ob_ftype {
    OB_F_TEXT,      /* .max = max length in characters */
    OB_F_INT,       /* 64-bit integer; .min/.max with OB_HAS_MIN/OB_HAS_MAX */
    OB_F_DECIMAL,   /* exact decimal, .scale fraction digits (money: 2); JSON string "12.50" */
    OB_F_REAL,      /* binary float for measurements that are not money (coordinates); whole-number .min/.max */
    OB_F_BOOL,
    OB_F_TIMESTAMP, /* RFC 3339 UTC with milliseconds */
    OB_F_DATE,      /* YYYY-MM-DD */
    OB_F_JSON,      /* any JSON value, stored as text; with .enm an array of distinct .enm values;
                     * with OB_HAS_MIN an object of at least .min members */
    OB_F_ENUM,      /* one of .enm values, stored lower case */
    OB_F_REF,       /* id of a row in .ref (same database) */
    OB_F_ID,        /* the primary key (implicit) */
} ob_ftype;

/* Column flags. */
enum {
    OB_REQUIRED  = 1u << 0,  /* NOT NULL; must be given on create unless it has a default */
    OB_UNIQUE    = 1u << 1,
    OB_INDEXED   = 1u << 2,
    OB_SEARCH    = 1u << 3,  /* part of the table's full-text index (q=) */
    OB_SORT      = 1u << 4,  /* allowed in sort= */
    OB_SERVER    = 1u << 5,  /* set by the server only; clients may not write it */
    OB_IMMUTABLE = 1u << 6,  /* settable on create, not by PATCH */
    OB_SECRET    = 1u << 7,  /* never serialized, never filterable; write-only unless also OB_SERVER */
    OB_MASKED    = 1u << 8,  /* masked by role per the tenant's masking rules (.mask) */
    OB_HAS_MIN   = 1u << 9,
    OB_HAS_MAX   = 1u << 10,
    OB_MIN_EXCL  = 1u << 11, /* value must be > min rather than >= min */
    OB_NOFILTER  = 1u << 12, /* not usable in filters */
    OB_IMPLICIT  = 1u << 13, /* added by the engine (id, created_at, ...) */
    OB_LOWER     = 1u << 14, /* text lower-cased on input (emails, codes) */
    OB_GENERATED = 1u << 15, /* NOT NULL, but a hook fills it when the client leaves it out */
    /* Audiences. Customer-portal users (ob_ctx_confined) read every column but
     * OB_STAFF ones and write only OB_CUSTOMER_WRITE ones: writing fails closed,
     * so a new workflow field is never customer-writable by accident. */
    OB_STAFF     = 1u << 16, /* staff only: absent for customer users, refused in their filters, sort and q= */
    OB_CUSTOMER_WRITE = 1u << 17, /* customer users may set it (on the rows their permissions let them write) */
    /* Sealed at rest (db/secrets.h): the storage layer encrypts it on every
     * write and opens it on every read, with table, row id and column as
     * associated data, so the database and its WAL never hold the plaintext.
     * TEXT or JSON only; never sorted, searched or unique; an equality filter
     * goes through the column declared .blind_of it; left out of stored row
     * images (audit values, webhook payloads). */
    OB_ENCRYPTED = 1u << 18,
    /* Personal data of a person (names, contacts, addresses, identity): a
     * person's erasure (schema/erase.h) overwrites it in their row and in
     * the rows that reference it, and redacts it from their audit images. */
    OB_PERSONAL  = 1u << 19,
};

typedef enum ob_on_delete { OB_DEL_RESTRICT, OB_DEL_CASCADE, OB_DEL_SET_NULL } ob_on_delete;

/* Mask kinds: the field_type of a data_masking_rules row. */
typedef enum ob_mask_kind { OB_MASK_NONE, OB_MASK_PHONE, OB_MASK_EMAIL, OB_MASK_ADDRESS, OB_MASK_SENSITIVE } ob_mask_kind;

typedef struct ob_enum {
    const char *name;             /* type name for docs/OpenAPI, e.g. "ticket_status" */
    const char *const *values;    /* canonical lower snake_case */
    int n;
} ob_enum;
#define OB_ENUM(var, tname, ...)                                                              \
    static const char *const var##_values[] = {__VA_ARGS__};                                  \
    static const ob_enum var = {tname, var##_values, (int)(sizeof(var##_values) / sizeof(char *))}

/* Values the engine writes into a server-set column (ob_column.stamp). */
typedef enum ob_stamp {
    OB_STAMP_NONE,
    OB_STAMP_ACTOR,   /* the acting user's id (NULL for the system) */
    OB_STAMP_NOW,     /* the request's clock reading */
} ob_stamp;

typedef struct ob_column {
    const char *name;
    ob_ftype type;
    int64_t max;                 /* TEXT: max characters; INT/DECIMAL(minor units)/REAL: max value */
    int64_t min;
    unsigned flags;
    const char *dflt;            /* default as text: "0", "open", "true", "now", "{}" */
    int scale;                   /* DECIMAL: fraction digits (0 means 2) */
    const ob_enum *enm;
    const char *ref;             /* REF: referenced table */
    ob_on_delete on_delete;
    ob_mask_kind mask;
    const char *doc;
    int since;                   /* schema version that added it (0 = with its table) */
    const char *gen;             /* generated column: SQL expression over this row's columns
                                  * (registry identifiers only); stored, read-only */
    const char *number_prefix;   /* TEXT: a human-readable number PREFIX-000001 from the tenant's counter
                                  * named after the table, written on create when not given */
    ob_stamp stamp;              /* written by the engine: on create, or see stamp_on */
    const char *stamp_on;        /* state values (comma list) entering which the stamp is written
                                  * (moving between two of them keeps it); NULL: on create */
    const char *clear_on;        /* with stamp_on: state values entering which the engine sets the
                                  * column back to null (an alert reopened is no longer resolved) */
    const char *image_of;        /* JSON column holding a row image (audit old/new values): the column
                                  * of this row naming the imaged table. Readers see the image through
                                  * the imaged table's own secret, masking and audience declarations. */
    const char *pattern;         /* TEXT: a regular expression the whole value must match, written
                                  * so that POSIX ERE (validation) and ECMA-262 (OpenAPI) read it alike */
    const char *sole_per;        /* BOOL: true on at most one live row per value of these columns (comma
                                  * list): a row set true sets it false on the group's other rows in the
                                  * same write, each an audited update (a primary image per entity). Back
                                  * it with a unique index on the columns where the flag is true. */
    const char *server_when;     /* "col=value": set by the server only on rows whose col holds value
                                  * (a column whose meaning belongs to one kind of row: an air-cargo
                                  * shipment's status follows its milestones and its flight its booking,
                                  * a warehouse shipment's status is still typed). On such rows a create
                                  * leaves it at its default and a PATCH may not name it: 400
                                  * readonly_field. */
    const char *blind_of;        /* TEXT, server-set: the keyed BLAKE2b (db/secrets.h) of this row's
                                  * OB_ENCRYPTED column of that name, written by the engine with it:
                                  * lookups and uniqueness by a secret's value (index it) */
} ob_column;

typedef struct ob_index {
    const char *cols;            /* "customer_id,status"; a leading '-' sorts descending */
    const char *where;           /* partial index predicate from registry identifiers, or NULL */
    bool unique;
    int since;
} ob_index;

typedef enum ob_cmp { OB_CMP_EQ, OB_CMP_NE, OB_CMP_LT, OB_CMP_LTE, OB_CMP_GT, OB_CMP_GTE } ob_cmp;

/* A check between two columns of a row (both non-null): left op right. */
typedef struct ob_check {
    const char *name;
    const char *left;
    ob_cmp op;
    const char *right;
} ob_check;

/* State machine: the engine runs an event in one write transaction: it locks
 * the row, checks the current state is in `from` (comma list, "*" = any),
 * takes the declared fields from the body, sets the state column, writes the
 * columns stamped on entering the new state, runs guard then effect, and
 * audits the change. */
typedef struct ob_transition {
    const char *event;
    const char *from;
    const char *to;
    int (*guard)(ob_ctx *ctx, const ob_row *row, ob_err *err);
    int (*effect)(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err);
    const char *perm;            /* permission verb of this event; NULL: the machine's */
    const char *fields;          /* comma list of columns the event's body may set, validated like a
                                  * PATCH; NULL: the event takes no fields */
} ob_transition;

typedef struct ob_fsm {
    const char *column;          /* the state column (declared OB_SERVER) */
    const ob_transition *rows;
    int n;
    const char *perm;            /* permission verb for events, e.g. "edit" */
} ob_fsm;

/* Domain hooks, all optional, all run inside the write transaction. A hook
 * that fails makes the whole request fail and roll back. `row` is the full
 * row being written (hooks may set server-set fields); `old` the stored row. */
typedef struct ob_hooks {
    int (*before_create)(ob_ctx *ctx, ob_row *row, ob_err *err);
    int (*after_create)(ob_ctx *ctx, const ob_row *row, ob_err *err);
    int (*before_update)(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err);
    int (*after_update)(ob_ctx *ctx, const ob_row *old, const ob_row *row, ob_err *err);
    int (*before_delete)(ob_ctx *ctx, const ob_row *old, ob_err *err);
    /* A GET of one record (ob_crud_get) shows figures measured now: the hook
     * fills server-set columns of the row read, which is not written back
     * (a KPI's current value). Lists show the stored values. */
    int (*on_read)(ob_ctx *ctx, ob_row *row, ob_err *err);
} ob_hooks;

/* A named action on one row, POST /api/v1/<table>/<id>/<verb>: the engine
 * loads and locks the row, calls run() with a copy to change, then saves the
 * change and audits it under the verb. When run() moved the stored row itself
 * (a ledger entry on it), its changes are applied over the row as stored. */
typedef struct ob_action {
    const char *verb;
    const char *perm;            /* permission verb, e.g. "edit" -> "<module>.edit" */
    int (*run)(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err);
    const char *doc;
    const ob_column *input;      /* the body's fields, validated like a create (types, required,
                                  * defaults, references) into ctx->input before run(); a body
                                  * naming anything else is 400. NULL: the action takes no body. */
    int ninput;
    /* An action that is also a step of the state machine (an event that needs
     * a declared input, which events cannot take): the row's state must be
     * one of `from` (comma list; else 422 invalid_transition) and becomes
     * `to` before run() (NULL: stays). No `from`: any state, left alone. */
    const char *from;
    const char *to;
} ob_action;
#define OB_INPUT(arr) .input = (arr), .ninput = (int)(sizeof(arr) / sizeof((arr)[0]))

/* The functions a declaration names (an action's run, a transition's guard or
 * effect), declared by the declaration file itself and defined in its hooks
 * file, so that no area header has to list them. The same macro does both:
 * followed by `;` it declares the function, followed by a body it declares and
 * defines it (the prototype it writes first is what -Wmissing-prototypes asks
 * for). The parameters are named ctx, old, row and err (a guard: ctx, row, err):
 *     tables.c:  OB_ACTION_FN(widget_approve);
 *                ... {"approve", "edit", widget_approve, ...}
 *     hooks.c:   OB_ACTION_FN(widget_approve) { ... }
 * A hooks table (ob_hooks) is declared the same way: `extern const ob_hooks
 * ob_widget_hooks;` in the declaration file, defined in the hooks file. */
#define OB_ACTION_FN(name)                                                    \
    int name(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err);      \
    int name(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
#define OB_EFFECT_FN(name) OB_ACTION_FN(name)
#define OB_GUARD_FN(name)                                                     \
    int name(ob_ctx *ctx, const ob_row *row, ob_err *err);                   \
    int name(ob_ctx *ctx, const ob_row *row, ob_err *err)

/* Bounded ledgers. The entries of a ledger table move balance columns of the
 * parent row their `parent` column references, in the entry's own write
 * transaction, by one conditional UPDATE that holds the declared bounds: the
 * row count decides, so two writers racing for the last unit cannot both win,
 * on either engine. Balances are server-set on the parent and start at their
 * default; entries are append-only; `opsbase check-ledgers` verifies that
 * every balance equals its default plus the sum of its entries. */
typedef struct ob_ledger_move {
    const char *when;            /* the entry's kind column value, or NULL: every entry */
    const char *balance;         /* parent column moved: balance += sign * amount */
    int sign;                    /* +1 or -1 */
} ob_ledger_move;

typedef struct ob_ledger_bound {
    const char *left;            /* parent column, after the move */
    ob_cmp op;                   /* OB_CMP_GTE or OB_CMP_LTE */
    const char *right;           /* parent column after the move, or NULL: `constant` */
    int64_t constant;            /* in the column's units (minor units for decimals) */
} ob_ledger_bound;

typedef struct ob_ledger {
    const char *parent;          /* entry column referencing the parent row */
    const char *kind;            /* entry column choosing the moves, or NULL */
    const char *amount;          /* entry column holding the amount (int or decimal) */
    const ob_ledger_move *moves;
    int nmoves;
    const ob_ledger_bound *bounds;
    int nbounds;
    ob_errcode refusal;          /* the error when a bound would break (409) */
} ob_ledger;
#define OB_LEDGER_MOVES(arr) .moves = (arr), .nmoves = (int)(sizeof(arr) / sizeof((arr)[0]))
#define OB_LEDGER_BOUNDS(arr) .bounds = (arr), .nbounds = (int)(sizeof(arr) / sizeof((arr)[0]))
#define OB_LEDGER_MAX_BALANCES 16 /* moves per ledger, and so balances per parent */

typedef enum ob_scope { OB_SCOPE_TENANT, OB_SCOPE_CONTROL } ob_scope;

/* Plan quotas: a table whose creations the tenant's plan bounds per
 * calendar month (UTC). Creating a row takes the tenant's counter of the table
 * and month in the row's transaction (schema/quota.c); past the plan's limit
 * the create is 403 plan_limit_reached and writes nothing. Deleting a row gives
 * no slot back: the counter counts creations, not rows. */
typedef enum ob_tenant_limit {
    OB_LIMIT_NONE,
    OB_LIMIT_TICKETS_MONTH,   /* tenants.monthly_ticket_limit, else plans.max_tickets_per_month */
    OB_LIMIT_ORDERS_MONTH,    /* plans.max_orders_per_month */
} ob_tenant_limit;
typedef struct ob_quota {
    ob_tenant_limit limit;
    const char *what;         /* "tickets", for the message */
} ob_quota;

/* Retention: rows older than `days` (by `age_col`, default created_at) and,
 * when `when` is set, only those meeting it (registry SQL over the table's own
 * columns, e.g. "status IN ('closed','cancelled')") are moved to the tenant's
 * archive and deleted by `opsbase archive run`. A tenant may override the days
 * (tenants.settings.retention.<table>), and legal holds stop it for the
 * tenant, a customer (`customer_col`) or a record. Soft-deleted rows of any
 * table go after OB_RETENTION_DELETED_DAYS. Checked at start-up. */
typedef struct ob_retention {
    int days;
    const char *age_col;
    const char *when;
    const char *customer_col;
    const char *source;  /* the seed's policy, for docs */
} ob_retention;
#define OB_RETENTION_DELETED_DAYS 30

/* A row rule for customer users: only rows whose column equals the value
 * ("false", "true", an enum value, an integer) exist for them, on every path
 * that reads through the customer scope (list, get, search, cursors,
 * references, and so anything counted from those). Checked at start-up. */
typedef struct ob_row_rule {
    const char *col;
    const char *equals;
} ob_row_rule;
#define OB_ROW_RULES_MAX 4

/* An extra event "<table>.<name>" emitted by a create whose boolean column
 * is true, or an update that makes it true (tracking_events.milestone,
 * service_requests.sla_breached); a timestamp column counts as true once set
 * (tickets.sla_breached_at). Checked at start-up. */
typedef struct ob_flag_event {
    const char *col;
    const char *name;
} ob_flag_event;

/* Resource flags. */
enum {
    OB_RES_READONLY    = 1u << 0, /* API is read-only (logs) */
    OB_RES_SOFT_DELETE = 1u << 1, /* has deleted_at; DELETE sets it */
    OB_RES_NO_API      = 1u << 2, /* no generic routes (internal tables) */
    OB_RES_APPEND_ONLY = 1u << 3, /* no updated_at/version; rows never changed or deleted (events, logs) */
    OB_RES_NO_AUDIT    = 1u << 4, /* writes are not audited (the audit log itself) */
    OB_RES_AUTH        = 1u << 5, /* writes change who may do what: cached principals are dropped */
    OB_RES_SHARED      = 1u << 6, /* reference data customer users may read in full (no customer scope) */
    OB_RES_LINK        = 1u << 7, /* with APPEND_ONLY: a link between records, removable by DELETE (schema/methods.h) */
    OB_RES_UPLOAD      = 1u << 8, /* rows are made by uploading content: POST takes the file (multipart or raw), not
                                     JSON, and GET .../{id}/content returns it (api/upload.c, src/files) */
};

/* Columns copied from the row a reference points to (ob_resource.copy): a
 * record made from an uploaded file takes the file's size, type and hash
 * from the files row, so clients cannot write them. The copy is made on
 * create and whenever the reference changes, inside the write; the row is
 * read with the caller's scope (a customer user can point only at their own
 * customer's rows: otherwise 422 on the reference). Every `to` column must be
 * server-set. When the referenced table is an upload table (OB_RES_UPLOAD),
 * GET /api/v1/<t>/{id}/content serves the file with the record's scope. */
typedef struct ob_copy_col {
    const char *to;   /* this table's column */
    const char *from; /* the referenced table's column */
} ob_copy_col;
typedef struct ob_ref_copy {
    const char *ref;  /* this table's reference column */
    const ob_copy_col *cols;
    int ncols;
    bool required;    /* the reference must be given on create */
} ob_ref_copy;

/* A file derived from a record's upload (a thumbnail), served like its
 * content: GET /api/v1/<t>/{id}/<name> answers the files row the reference
 * column names, with the record's permission and customer scope. The
 * reference is server-set (a job fills it); until then the route is 404. */
typedef struct ob_file_variant {
    const char *name; /* the route's last segment */
    const char *ref;  /* this table's reference to the upload table */
    const char *doc;
} ob_file_variant;

/* A figure read from one record, GET /api/v1/<t>/{id}/<name>, answered as
 * JSON by the domain (a dashboard widget's data): the engine reads the row as
 * a GET of it does (the table's view permission, customer scope, 404 for
 * another tenant's or customer's) and run() writes the body. Read-only. */
typedef struct ob_view {
    const char *name; /* the route's last segment */
    int (*run)(ob_ctx *ctx, const ob_row *row, ob_sb *out, ob_err *err);
    const char *doc;
} ob_view;

typedef struct ob_resource {
    const char *table;
    const char *doc;
    const ob_column *cols;
    int ncols;
    const char *perm;            /* permission module: "<perm>.view/.create/.edit/.delete" */
    const char *perm_view;       /* overrides of the derived codes, or NULL */
    const char *perm_create;
    const char *perm_edit;
    const char *perm_delete;
    ob_scope scope;
    unsigned flags;
    const ob_index *indexes;
    int nindexes;
    const ob_check *checks;
    int nchecks;
    const char *customer_scope;  /* column tying a row to a customer, for customer users */
    const ob_row_rule *customer_rows; /* rules every row must also meet for customer users */
    int ncustomer_rows;
    const char *own_col;         /* a users reference: a principal without perm_others reaches (lists,
                                  * reads, changes) only the rows whose own_col is itself; others 404 */
    const char *perm_others;     /* the permission code that reaches every row (with own_col) */
    const ob_fsm *fsm;
    const ob_ledger *ledger;     /* this table's rows are entries of a bounded ledger */
    const ob_retention *retention; /* archived and removed when old (ops/archive.c) */
    const ob_quota *quota;       /* creations bounded per month by the tenant's plan */
    const ob_hooks *hooks;
    const ob_action *actions;
    int nactions;
    const char *default_sort;    /* e.g. "-created_at"; NULL: "id" */
    int since;
    int fts_no;                  /* SQLite full-text range (ddl.c): 0 takes it from the name's hash;
                                  * set only when that hash collides with another table's */
    const char *delete_action;   /* DELETE runs this action instead of removing the row
                                  * (history that must stay: sessions end, not vanish) */
    const char *state;           /* without a state machine: the enum column whose values the
                                  * columns' stamp_on and clear_on name (changed by PATCH) */
    const char *dedupe;          /* comma list of columns: a create whose values of all of them are
                                  * non-null and equal to a stored row's writes nothing and answers
                                  * that row with 200 (a partner re-posting an event). Back it with a
                                  * unique index on the same columns for racing posts. */
    const ob_flag_event *flag_event;
    const ob_ref_copy *copy;     /* columns filled from a referenced row (an uploaded file) */
    const ob_file_variant *variants; /* more files a record serves, each by its own route */
    int nvariants;
    const ob_view *views;        /* figures read from a record, each by its own route */
    int nviews;
} ob_resource;

/* Configuration tables: any change to them, create and delete included, needs
 * the module's edit permission (a role that may not edit the masking rules
 * must not be able to delete and re-create them either). */
#define OB_CONFIG_PERMS(module) \
    .perm = module, .perm_create = module ".edit", .perm_edit = module ".edit", .perm_delete = module ".edit"
#define OB_COLS(arr) .cols = (arr), .ncols = (int)(sizeof(arr) / sizeof((arr)[0]))
#define OB_INDEXES(arr) .indexes = (arr), .nindexes = (int)(sizeof(arr) / sizeof((arr)[0]))
#define OB_ACTIONS(arr) .actions = (arr), .nactions = (int)(sizeof(arr) / sizeof((arr)[0]))
#define OB_CUSTOMER_ROWS(arr) .customer_rows = (arr), .ncustomer_rows = (int)(sizeof(arr) / sizeof((arr)[0]))
#define OB_VIEWS(arr) .views = (arr), .nviews = (int)(sizeof(arr) / sizeof((arr)[0]))
#define OB_VARIANTS(arr) .variants = (arr), .nvariants = (int)(sizeof(arr) / sizeof((arr)[0]))
#define OB_CHECKS(arr) .checks = (arr), .nchecks = (int)(sizeof(arr) / sizeof((arr)[0]))

/* Runtime view of a resource: implicit columns followed by declared ones. */
typedef struct ob_table ob_table;
struct ob_table {
    const ob_resource *res;
    const char *name;
    const ob_column *const *cols; /* all columns, implicit first */
    int ncols;
    int id_col, created_col, updated_col, version_col, deleted_col; /* -1 when absent */
    int nsearch;                  /* searchable columns */
    int fts_no;                   /* its rows' range in the SQLite full-text table (ddl.c), 0 without */
    int state_col;                /* fsm column, else the resource's state column, or -1 */
    int ngen;                     /* generated columns (rows are re-read after writes) */
    const ob_table *const *inputs; /* per action (res->actions): its input as a table, or NULL */
};

/* A column handle: a column of a declared table named at compile time.
 * gen/columns.h (scripts/gen-columns.py, run by make) defines one per column,
 * TICKETS_STATUS; an action's input "tickets.assign" gets
 * TICKETS_ASSIGN_IN_AGENT_ID. Row accessors (schema/row.h) take handles. */
typedef struct ob_colh {
    const char *table;           /* the table's name, or "table.verb" for an action's input */
    int idx;                     /* index in the runtime table: implicit columns first */
    const char *name;            /* the column's name, for messages */
} ob_colh;
#define OB_COLH(table, idx, name) ((ob_colh){(table), (idx), (name)})

/* Writes the record of a change (the audit row) inside the change's
 * transaction; old or row is NULL for a create or a delete. */
typedef int (*ob_change_writer)(ob_ctx *ctx, const char *action, const ob_row *old, const ob_row *row,
                                ob_err *err);
/* Give the engine its tables and change writer, once, before any other call
 * (the domain does: ob_domain_register). The list must outlive the process. */
void ob_registry_use(const ob_resource *const *list, int n, ob_change_writer audit);
/* Give the engine the generated column handles to check at start-up, before
 * ob_registry_init: the registry aborts when one names a table, index or
 * column it does not have, or when a column has no handle (the generator and
 * the declarations drifted apart). The list must outlive the process. */
void ob_registry_use_handles(const ob_colh *list, int n);
/* The check itself: 0 when the handles are exactly the registry's columns,
 * else -1 with the first problem in why. */
int ob_registry_check_handles(const ob_colh *list, int n, char *why, size_t whylen);
/* Run the change writer (no-op when none was given). */
int ob_registry_record_change(ob_ctx *ctx, const char *action, const ob_row *old, const ob_row *row, ob_err *err);
/* Build the runtime tables from the declarations given; idempotent. Aborts on
 * an inconsistent declaration (a ref to an unknown table, a bad default) and
 * when nothing was declared. */
void ob_registry_init(void);
int ob_registry_count(void);
const ob_table *ob_registry_at(int i);
const ob_table *ob_registry_find(const char *name);
/* The table of uploads whose content a record of t serves at
 * GET .../{id}/content: t itself (OB_RES_UPLOAD) or the table its copy
 * reference points to when that one is; NULL: t serves no content. */
const ob_table *ob_registry_content_of(const ob_table *t);
int ob_table_col(const ob_table *t, const char *name); /* index or -1 */
/* The schema version that replaced SQLite's full-text table per searchable
 * table by one per database (ddl.c): a change of the engine, not of a
 * declaration, so the schema version is at least this. */
#define OB_FTS_ONE_SINCE 9
/* The schema version from which a table's indexes follow the rules of
 * schema/indexes.h (a declared unique index is made, a non-unique one that
 * another index leads is not): its migration drops and makes what changed. */
#define OB_INDEX_FIX_SINCE 10
/* The schema version that replaced PostgreSQL's full-text expression index by
 * a stored generated tsvector column with a GIN index (ddl.c pg_tsv_def);
 * SQLite records the version and changes nothing. */
#define OB_PG_TSV_SINCE 11
/* The current schema version: the highest `since` anywhere, at least
 * OB_PG_TSV_SINCE (and so OB_FTS_ONE_SINCE and OB_INDEX_FIX_SINCE). */
int ob_registry_version(void);

/* A counter bumped by every write to an OB_RES_AUTH table (and by sign-in
 * and sign-out): caches of principals compare it to know they are stale. */
uint64_t ob_registry_auth_epoch(void);
void ob_registry_auth_changed(void);

/* Scale of a DECIMAL column (2 when 0). */
int ob_col_scale(const ob_column *c);

#endif
