/* Flight operations of the air-cargo portal (000): airlines, the routes
 * they fly (named in 000's ERD, designed here) and dated flight schedules
 * with cargo capacity. */
#include "domain/domains.h"
#include "domain/logistics/logistics.h"
#include "base/banned.h"

OB_ENUM(airline_status, "airline_status", "active", "inactive", "suspended");
OB_ENUM(route_type, "route_type", "direct", "connecting");
OB_ENUM(flight_status, "flight_status", "scheduled", "delayed", "cancelled", "departed", "arrived");

static const ob_column airline_cols[] = {
    {"iata_code", OB_F_TEXT, .max = 2, .flags = OB_REQUIRED | OB_UNIQUE | OB_SORT, .doc = "two-character IATA code"},
    {"icao_code", OB_F_TEXT, .max = 3, .flags = OB_UNIQUE, .doc = "three-letter ICAO code"},
    {"airline_name", OB_F_TEXT, .max = 200, .flags = OB_REQUIRED | OB_SORT | OB_SEARCH},
    {"country", OB_F_TEXT, .max = 2, .doc = "ISO 3166-1 alpha-2"},
    {"status", OB_F_ENUM, .enm = &airline_status, .flags = OB_REQUIRED | OB_INDEXED, .dflt = "active",
     .doc = "active: bookable; inactive: no longer used; suspended: temporarily not bookable"},
    {"api_endpoint", OB_F_TEXT, .max = 500, .doc = "the airline's schedule/booking API"},
    {"awb_prefix", OB_F_TEXT, .max = 3, .pattern = "^[0-9]{3}$", .flags = OB_INDEXED, .since = 4,
     .doc = "the airline's 3-digit air waybill prefix (IATA accounting code, e.g. 176); once any airline has "
            "one, an air-cargo AWB must start with a known prefix"},
    {"api_credentials", OB_F_TEXT, .max = 1000, .flags = OB_SECRET | OB_SERVER | OB_ENCRYPTED,
     .doc = "encrypted at rest (000); never returned"},
};
const ob_resource ob_res_airlines = {
    .table = "airlines", .doc = "airlines whose flights carry the cargo (000)",
    OB_COLS(airline_cols), .perm = "flights", .flags = OB_RES_SHARED, .default_sort = "iata_code",
};

static const ob_column route_cols[] = {
    {"airline_id", OB_F_REF, .ref = "airlines", .flags = OB_REQUIRED},
    {"route_code", OB_F_TEXT, .max = 30, .flags = OB_UNIQUE | OB_SORT, .doc = "e.g. EK-DXB-LHR"},
    {"origin_airport", OB_F_TEXT, .max = 3, .flags = OB_REQUIRED | OB_SORT, .doc = "IATA airport code"},
    {"destination_airport", OB_F_TEXT, .max = 3, .flags = OB_REQUIRED | OB_SORT,
     .doc = "IATA airport code, not the origin"},
    {"transit_airports", OB_F_TEXT, .max = 100, .doc = "comma-separated IATA codes of the stops"},
    {"route_type", OB_F_ENUM, .enm = &route_type, .flags = OB_REQUIRED, .dflt = "direct"},
    {"frequency", OB_F_TEXT, .max = 20, .doc = "DAILY, WEEKLY, ..."},
    {"distance_km", OB_F_INT, .flags = OB_HAS_MIN | OB_HAS_MAX, .min = 0, .max = 99999},
    {"block_time_minutes", OB_F_INT, .flags = OB_HAS_MIN | OB_HAS_MAX, .min = 0, .max = 9999},
    {"is_active", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "true"},
};
static const ob_index route_idx[] = {{"origin_airport,destination_airport"}};
static const ob_check route_checks[] = {
    {"chk_route_airports", "destination_airport", OB_CMP_NE, "origin_airport"},
};
const ob_resource ob_res_routes = {
    .table = "routes", .doc = "origin-destination pairs an airline flies, with their frequency (000 ERD)",
    OB_COLS(route_cols), OB_INDEXES(route_idx), OB_CHECKS(route_checks), .perm = "flights",
    .flags = OB_RES_SHARED, .default_sort = "origin_airport",
};

static const ob_column flight_schedule_cols[] = {
    {"airline_id", OB_F_REF, .ref = "airlines", .flags = OB_REQUIRED},
    {"route_id", OB_F_REF, .ref = "routes", .on_delete = OB_DEL_SET_NULL, .doc = "the route this flight follows"},
    {"flight_number", OB_F_TEXT, .max = 20, .flags = OB_REQUIRED | OB_SORT},
    {"origin_airport", OB_F_TEXT, .max = 3, .flags = OB_REQUIRED},
    {"destination_airport", OB_F_TEXT, .max = 3, .flags = OB_REQUIRED},
    {"aircraft_type", OB_F_TEXT, .max = 20},
    {"departure_time", OB_F_TIMESTAMP, .flags = OB_SORT},
    {"arrival_time", OB_F_TIMESTAMP, .doc = "not before departure_time"},
    {"flight_date", OB_F_DATE, .flags = OB_SORT},
    {"status", OB_F_ENUM, .enm = &flight_status, .flags = OB_REQUIRED | OB_INDEXED, .dflt = "scheduled",
     .doc = "scheduled: on time so far; delayed: see delay_minutes; cancelled; departed; arrived"},
    {"delay_minutes", OB_F_INT, .flags = OB_HAS_MIN | OB_HAS_MAX, .min = 0, .max = 9999, .dflt = "0"},
    {"capacity_kg", OB_F_INT, .flags = OB_HAS_MIN | OB_HAS_MAX, .min = 0, .max = 99999999,
     .doc = "cargo capacity of the flight"},
    {"available_kg", OB_F_INT, .flags = OB_SERVER | OB_HAS_MIN | OB_HAS_MAX, .min = 0, .max = 99999999, .dflt = "0",
     .doc = "capacity still free: capacity_kg - booked_kg, kept by the server"},
    {"route_type", OB_F_ENUM, .enm = &route_type},
    {"frequency", OB_F_TEXT, .max = 20, .doc = "DAILY, WEEKLY, ..."},
    {"effective_from", OB_F_DATE},
    {"effective_to", OB_F_DATE, .doc = "not before effective_from"},
    {"booked_kg", OB_F_INT, .flags = OB_REQUIRED | OB_SERVER, .dflt = "0", .since = 4,
     .doc = "cargo booked on the flight: the balance of its flight_bookings (shipments' book and cancel_booking); "
            "never above capacity_kg"},
};
static const ob_index flight_schedule_idx[] = {
    {"origin_airport,destination_airport,flight_date"},
    {"flight_number,flight_date"},
};
static const ob_check flight_schedule_checks[] = {
    {"chk_flight_capacity", "available_kg", OB_CMP_LTE, "capacity_kg"},
    {"chk_flight_times", "arrival_time", OB_CMP_GTE, "departure_time"},
    {"chk_flight_effective", "effective_to", OB_CMP_GTE, "effective_from"},
};
const ob_resource ob_res_flight_schedules = {
    .table = "flight_schedules", .doc = "dated flights with their cargo capacity (000)",
    OB_COLS(flight_schedule_cols), OB_INDEXES(flight_schedule_idx), OB_CHECKS(flight_schedule_checks),
    .perm = "flights", .flags = OB_RES_SHARED, .hooks = &ob_flight_schedule_hooks, .default_sort = "-departure_time",
};
