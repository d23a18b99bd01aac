/* booking.c - cargo space on flights (000): flight_bookings is a bounded
 * ledger over flight_schedules.booked_kg (never below 0, never above
 * capacity_kg), so two bookings racing for the last kilograms cannot both
 * win; available_kg is capacity_kg - booked_kg, written with every change of
 * either. A shipment books its weight in whole kilograms, rounded up, as
 * airlines charge it. */
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "domain/domains.h"
#include "domain/logistics/logistics.h"
#include "schema/crud.h"
#include "schema/row.h"
#include "schema/sql.h"
#include "gen/columns.h"
#include "base/banned.h"

OB_ENUM(booking_entry, "flight_booking_entry", "book", "release");

static const ob_column flight_booking_cols[] = {
    {"flight_schedule_id", OB_F_REF, .ref = "flight_schedules", .on_delete = OB_DEL_CASCADE,
     .flags = OB_REQUIRED | OB_INDEXED},
    {"shipment_id", OB_F_REF, .ref = "shipments", .on_delete = OB_DEL_CASCADE, .flags = OB_REQUIRED | OB_INDEXED},
    {"entry_type", OB_F_ENUM, .enm = &booking_entry, .flags = OB_REQUIRED,
     .doc = "book: the shipment's weight taken from the flight; release: given back by cancel_booking"},
    {"weight_kg", OB_F_INT, .flags = OB_REQUIRED | OB_HAS_MIN | OB_HAS_MAX, .min = 1, .max = 99999999,
     .doc = "whole kilograms: the shipment's weight_kg rounded up"},
    {"created_by", OB_F_REF, .ref = "users", .on_delete = OB_DEL_SET_NULL, .flags = OB_STAFF | OB_SERVER,
     .stamp = OB_STAMP_ACTOR, .doc = "the user who booked or cancelled"},
};
static const ob_ledger_move flight_booking_moves[] = {
    {"book", "booked_kg", +1},
    {"release", "booked_kg", -1},
};
static const ob_ledger_bound flight_booking_bounds[] = {
    {"booked_kg", OB_CMP_GTE, NULL, 0},
    {"booked_kg", OB_CMP_LTE, "capacity_kg"},
};
static const ob_ledger flight_booking_ledger = {
    .parent = "flight_schedule_id", .kind = "entry_type", .amount = "weight_kg",
    OB_LEDGER_MOVES(flight_booking_moves), OB_LEDGER_BOUNDS(flight_booking_bounds),
    .refusal = OB_E_INSUFFICIENT_CAPACITY,
};
const ob_resource ob_res_flight_bookings = {
    .table = "flight_bookings",
    .doc = "cargo space booked on flights: written by shipments' book and cancel_booking, never changed",
    OB_COLS(flight_booking_cols), .perm = "flights", .flags = OB_RES_APPEND_ONLY | OB_RES_READONLY,
    .customer_scope = "shipment_id.customer_id", .ledger = &flight_booking_ledger, .default_sort = "-created_at",
    .since = 4,
};

static int refuse(ob_err *err, ob_errcode code, const char *field, const char *msg)
{
    ob_err_set(err, code, "%s", msg);
    if (field) {
        snprintf(err->field, sizeof err->field, "%s", field);
        ob_err_field_add(err, field, msg);
        err->code = code;
    }
    return -1;
}

static int post(ob_ctx *ctx, const char *flight_id, const char *shipment_id, const char *kind, int64_t kg,
                ob_err *err)
{
    ob_row *e = ob_row_with_defaults(ctx, OB_TABLE_FLIGHT_BOOKINGS);
    ob_row_set_text(ctx->arena, e, FLIGHT_BOOKINGS_FLIGHT_SCHEDULE_ID, flight_id);
    ob_row_set_text(ctx->arena, e, FLIGHT_BOOKINGS_SHIPMENT_ID, shipment_id);
    ob_row_set_text(ctx->arena, e, FLIGHT_BOOKINGS_ENTRY_TYPE, kind);
    ob_row_set_int(e, FLIGHT_BOOKINGS_WEIGHT_KG, kg);
    if (ob_crud_insert_row(ctx, e, err) != 0) return -1;
    /* the ledger moved booked_kg; available_kg follows in the flight's hook */
    const ob_table *ft = ob_registry_find(OB_TABLE_FLIGHT_SCHEDULES);
    ob_row *f;
    if (ob_sql_load_internal(ctx, ft, flight_id, &f, err) != 0) return -1;
    ob_row *next = ob_row_copy(ctx->arena, f);
    ob_flight_available(next);
    return ob_crud_save(ctx, f, next, kind, err);
}

void ob_flight_available(ob_row *flight)
{
    if (ob_row_is_null(flight, FLIGHT_SCHEDULES_CAPACITY_KG)) {
        ob_row_set_null(flight, FLIGHT_SCHEDULES_AVAILABLE_KG);
        return;
    }
    ob_row_set_int(flight, FLIGHT_SCHEDULES_AVAILABLE_KG,
                   ob_row_int(flight, FLIGHT_SCHEDULES_CAPACITY_KG, 0) -
                       ob_row_int(flight, FLIGHT_SCHEDULES_BOOKED_KG, 0));
}

static int flight_write(ob_ctx *ctx, ob_row *row, ob_err *err)
{
    (void)ctx;
    if (ob_row_int(row, FLIGHT_SCHEDULES_CAPACITY_KG, INT64_MAX) < ob_row_int(row, FLIGHT_SCHEDULES_BOOKED_KG, 0))
        return refuse(err, OB_E_INSUFFICIENT_CAPACITY, FLIGHT_SCHEDULES_CAPACITY_KG.name,
                      "capacity_kg is below the weight already booked on the flight");
    ob_flight_available(row);
    return 0;
}

static int flight_before_create(ob_ctx *ctx, ob_row *row, ob_err *err)
{
    return flight_write(ctx, row, err);
}

static int flight_before_update(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    (void)old;
    return flight_write(ctx, row, err);
}

const ob_hooks ob_flight_schedule_hooks = {
    .before_create = flight_before_create,
    .before_update = flight_before_update,
};

static bool is_air_cargo(const ob_row *ship)
{
    return strcmp(ob_row_text(ship, SHIPMENTS_SHIPMENT_TYPE), "air_cargo") == 0;
}

/* Whole kilograms, rounded up, of a weight in grams (weight_kg's minor units). */
static int64_t whole_kg(int64_t grams)
{
    return (grams + 999) / 1000;
}

OB_ACTION_FN(ob_shipment_book)
{
    if (!is_air_cargo(old)) return ob_err_set(err, OB_E_BAD_STATE, "only an air-cargo shipment is booked on a flight");
    const char *st = ob_row_text(old, SHIPMENTS_STATUS);
    if (strcmp(st, "created") != 0 || !ob_row_is_null(old, SHIPMENTS_FLIGHT_SCHEDULE_ID))
        return ob_err_set(err, OB_E_BAD_STATE, "a shipment that is \"%s\"%s cannot be booked", st,
                          ob_row_is_null(old, SHIPMENTS_FLIGHT_SCHEDULE_ID) ? "" : " on a flight (cancel_booking first)");
    if (ob_row_is_null(old, SHIPMENTS_WEIGHT_KG))
        return refuse(err, OB_E_UNPROCESSABLE, SHIPMENTS_WEIGHT_KG.name, "weight_kg is needed to book a flight");
    const char *fid = ob_row_text(ctx->input, SHIPMENTS_BOOK_IN_FLIGHT_SCHEDULE_ID);
    ob_row *f;
    if (ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_FLIGHT_SCHEDULES), fid, &f, err) != 0) return -1;
    const char *fst = ob_row_text(f, FLIGHT_SCHEDULES_STATUS);
    if (strcmp(fst, "scheduled") != 0 && strcmp(fst, "delayed") != 0)
        return refuse(err, OB_E_BAD_STATE, SHIPMENTS_BOOK_IN_FLIGHT_SCHEDULE_ID.name,
                      "the flight is no longer bookable (cancelled, departed or arrived)");
    int64_t kg = whole_kg(ob_row_int(old, SHIPMENTS_WEIGHT_KG, 0));
    if (post(ctx, fid, ob_row_id(old), "book", kg, err) != 0) return -1;
    ob_row_set_text(ctx->arena, row, SHIPMENTS_FLIGHT_SCHEDULE_ID, fid);
    ob_row_set_text(ctx->arena, row, SHIPMENTS_FLIGHT_NUMBER, ob_row_text(f, FLIGHT_SCHEDULES_FLIGHT_NUMBER));
    ob_row_set_text(ctx->arena, row, SHIPMENTS_FLIGHT_DATE, ob_row_text(f, FLIGHT_SCHEDULES_FLIGHT_DATE));
    ob_row_set_text(ctx->arena, row, SHIPMENTS_STATUS, "booked");
    return 0;
}

/* The kilograms the shipment holds on the flight: its last book entry. */
static int booked_kg(ob_ctx *ctx, const char *shipment_id, const char *flight_id, int64_t *kg, ob_err *err)
{
    ob_stmt *st;
    if (ob_db_prepare(ctx->db,
                      "SELECT \"weight_kg\" FROM \"flight_bookings\" WHERE \"shipment_id\" = ? AND "
                      "\"flight_schedule_id\" = ? AND \"entry_type\" = 'book' ORDER BY \"created_at\" DESC, \"id\" DESC "
                      "LIMIT 1",
                      &st, err) != 0)
        return -1;
    ob_stmt_bind_text(st, 1, shipment_id, err);
    ob_stmt_bind_text(st, 2, flight_id, err);
    int rc = ob_stmt_step(st, err);
    *kg = rc == 1 ? ob_stmt_col_i64(st, 0) : 0;
    ob_stmt_done(st);
    return rc < 0 ? -1 : 0;
}

OB_ACTION_FN(ob_shipment_cancel_booking)
{
    const char *fid = ob_row_text(old, SHIPMENTS_FLIGHT_SCHEDULE_ID);
    if (!is_air_cargo(old) || !fid || strcmp(ob_row_text(old, SHIPMENTS_STATUS), "booked") != 0)
        return ob_err_set(err, OB_E_BAD_STATE, "only a shipment booked on a flight, not yet manifested, is cancelled");
    ob_row *f;
    if (ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_FLIGHT_SCHEDULES), fid, &f, err) != 0) return -1;
    const char *fst = ob_row_text(f, FLIGHT_SCHEDULES_STATUS);
    if (strcmp(fst, "departed") == 0 || strcmp(fst, "arrived") == 0)
        return ob_err_set(err, OB_E_BAD_STATE, "the flight has %s: its booking stands", fst);
    int64_t kg;
    if (booked_kg(ctx, ob_row_id(old), fid, &kg, err) != 0) return -1;
    /* a cancelled flight gives its space back as well: nothing else will */
    if (kg > 0 && post(ctx, fid, ob_row_id(old), "release", kg, err) != 0) return -1;
    ob_row_set_null(row, SHIPMENTS_FLIGHT_SCHEDULE_ID);
    ob_row_set_null(row, SHIPMENTS_FLIGHT_NUMBER);
    ob_row_set_null(row, SHIPMENTS_FLIGHT_DATE);
    ob_row_set_text(ctx->arena, row, SHIPMENTS_STATUS, "created");
    return 0;
}
