/* Shipments: one table for 000's air-cargo shipments (AWB), 001's courier
 * shipments of e-commerce orders and 004's warehouse shipments (inbound,
 * outbound, transfer), told apart by shipment_type; their items; and one
 * tracking history (000 tracking_events + 001 shipment_tracking + 004
 * shipment_tracking). */
#include "domain/domains.h"
#include "domain/logistics/logistics.h"
#include "domain/commerce/commerce.h"
#include "base/banned.h"

OB_ENUM(shipment_type, "shipment_type", "air_cargo", "courier", "inbound", "outbound", "transfer");
/* The union of 000's, 001's (and 004's unnamed) status sets, in life order. */
OB_ENUM(shipment_status, "shipment_status", "created", "booked", "manifested", "picked", "departed", "in_transit",
        "arrived", "customs_clearance", "out_for_delivery", "delivered", "rto_initiated", "rto_in_transit",
        "rto_delivered", "cancelled");

/* NUMBER(10,3) -> 9999999.999; NUMBER(15,2) and DECIMAL(12,2) as minor units. */
#define MAX_NUM_10_3 INT64_C(9999999999)
#define MAX_NUM_15_2 INT64_C(999999999999999)
#define MAX_NUM_12_2 INT64_C(999999999999)

static const ob_column shipment_cols[] = {
    {"shipment_number", OB_F_TEXT, .number_prefix = "SHP", .max = 100, .flags = OB_REQUIRED | OB_GENERATED | OB_UNIQUE | OB_SORT | OB_SEARCH,
     .doc = "generated (SHP-000001) when not given"},
    {"shipment_type", OB_F_ENUM, .enm = &shipment_type, .flags = OB_REQUIRED | OB_GENERATED | OB_IMMUTABLE | OB_INDEXED,
     .doc = "air_cargo (000, needs customer_id); courier (001, needs order_id, courier_config_id and "
            "delivery_address); inbound (004, needs destination_warehouse_id); outbound (004, needs "
            "origin_warehouse_id); transfer (004, needs both warehouses). When not given: courier if "
            "order_id or courier_config_id is given, else transfer/inbound/outbound by the warehouses given, "
            "else air_cargo"},
    {"status", OB_F_ENUM, .enm = &shipment_status, .flags = OB_REQUIRED | OB_SORT, .dflt = "created",
     .server_when = "shipment_type=air_cargo",
     .doc = "an air-cargo shipment's follows its booking and milestones (the server's); created: recorded; booked: space booked on a flight (air); manifested: on the carrier's manifest; "
            "picked: collected from the shipper (courier); departed: flight left (air); in_transit: moving; "
            "arrived: at the destination airport (air); customs_clearance: held for customs (air); "
            "out_for_delivery: with the delivery agent (courier); delivered; rto_initiated: return to origin "
            "started after a failed delivery; rto_in_transit: on its way back; rto_delivered: back at the "
            "origin; cancelled"},
    {"awb_number", OB_F_TEXT, .max = 100, .flags = OB_UNIQUE | OB_SORT | OB_SEARCH,
     .doc = "air waybill (000) or courier AWB (001)"},
    {"house_awb", OB_F_TEXT, .max = 50, .flags = OB_INDEXED},
    {"tracking_number", OB_F_TEXT, .max = 100, .flags = OB_INDEXED | OB_SEARCH,
     .doc = "carrier tracking number of a warehouse shipment (004)"},
    {"customer_id", OB_F_REF, .ref = "customers"},
    {"service_request_id", OB_F_REF, .ref = "service_requests"},
    {"order_id", OB_F_REF, .ref = "orders"},
    {"courier_config_id", OB_F_REF, .flags = OB_STAFF, .ref = "courier_configs"},
    {"origin_warehouse_id", OB_F_REF, .ref = "warehouses"},
    {"destination_warehouse_id", OB_F_REF, .ref = "warehouses", .doc = "not the origin warehouse"},
    {"flight_schedule_id", OB_F_REF, .ref = "flight_schedules", .on_delete = OB_DEL_SET_NULL, .flags = OB_SERVER,
     .doc = "the flight the shipment is booked on (000 ERD): set by book, cleared by cancel_booking"},
    {"shipper_name", OB_F_TEXT, .max = 200, .flags = OB_SEARCH},
    {"shipper_address", OB_F_TEXT, .max = 100000, .flags = OB_MASKED, .mask = OB_MASK_ADDRESS},
    {"consignee_name", OB_F_TEXT, .max = 200, .flags = OB_SEARCH | OB_PERSONAL},
    {"consignee_address", OB_F_TEXT, .max = 100000, .flags = OB_MASKED | OB_PERSONAL, .mask = OB_MASK_ADDRESS},
    {"pickup_address", OB_F_JSON, .flags = OB_MASKED, .mask = OB_MASK_ADDRESS},
    {"delivery_address", OB_F_JSON, .flags = OB_MASKED | OB_PERSONAL, .mask = OB_MASK_ADDRESS},
    {"origin_airport", OB_F_TEXT, .max = 3, .doc = "IATA airport code"},
    {"destination_airport", OB_F_TEXT, .max = 3, .doc = "IATA airport code"},
    {"transit_airports", OB_F_TEXT, .max = 100, .doc = "comma-separated IATA codes"},
    {"flight_number", OB_F_TEXT, .max = 20, .server_when = "shipment_type=air_cargo",
     .doc = "an air-cargo shipment's is its booked flight's"},
    {"flight_date", OB_F_DATE, .server_when = "shipment_type=air_cargo",
     .doc = "an air-cargo shipment's is its booked flight's"},
    {"pieces", OB_F_INT, .flags = OB_HAS_MIN | OB_MIN_EXCL | OB_HAS_MAX, .min = 0, .max = 999999, .dflt = "1",
     .doc = "number of packages (000 pieces, 001 package_count); above 0"},
    {"weight_kg", OB_F_DECIMAL, .scale = 3, .flags = OB_HAS_MIN | OB_MIN_EXCL | OB_HAS_MAX, .min = 0,
     .max = MAX_NUM_10_3, .doc = "above 0; 001's weight_grams is weight_kg with its three decimals"},
    {"volume_cbm", OB_F_DECIMAL, .scale = 3, .flags = OB_HAS_MAX, .max = MAX_NUM_10_3},
    {"dimensions", OB_F_JSON, .doc = "e.g. {\"length_cm\": 30, \"width_cm\": 20, \"height_cm\": 10}"},
    {"commodity_code", OB_F_TEXT, .max = 20},
    {"commodity_description", OB_F_TEXT, .max = 500},
    {"declared_value", OB_F_DECIMAL, .scale = 2, .flags = OB_HAS_MAX, .max = MAX_NUM_15_2},
    {"currency", OB_F_TEXT, .max = 3, .dflt = "USD", .doc = "ISO 4217"},
    {"incoterm", OB_F_TEXT, .max = 10},
    {"special_instructions", OB_F_TEXT, .max = 100000},
    {"tracking_url", OB_F_TEXT, .max = 500},
    {"label_url", OB_F_TEXT, .max = 500},
    {"manifest_url", OB_F_TEXT, .max = 500},
    {"pickup_date", OB_F_DATE, .doc = "pickup day (000)"},
    {"pickup_scheduled_date", OB_F_DATE},
    {"picked_at", OB_F_TIMESTAMP},
    {"estimated_delivery_date", OB_F_DATE, .flags = OB_SORT},
    {"delivery_date", OB_F_DATE, .doc = "delivery day (000)"},
    {"delivered_at", OB_F_TIMESTAMP},
    {"rto_initiated_at", OB_F_TIMESTAMP},
    {"rto_delivered_at", OB_F_TIMESTAMP},
    {"shipping_charges", OB_F_DECIMAL, .scale = 2, .flags = OB_HAS_MAX, .max = MAX_NUM_12_2},
    {"cod_amount", OB_F_DECIMAL, .scale = 2, .flags = OB_HAS_MAX, .max = MAX_NUM_12_2, .doc = "cash on delivery"},
    {"external_shipment_id", OB_F_TEXT, .max = 255, .flags = OB_STAFF | OB_INDEXED},
    {"external_order_id", OB_F_TEXT, .flags = OB_STAFF, .max = 255},
    {"metadata", OB_F_JSON, .flags = OB_STAFF, .dflt = "{}"},
};
/* status, created_at and the references are indexed as sortable/ref columns */
static const ob_index shipment_idx[] = {
    {"status,created_at"},
    {"flight_number,flight_date"},
};
static const ob_check shipment_checks[] = {
    {"chk_shipment_warehouses", "destination_warehouse_id", OB_CMP_NE, "origin_warehouse_id"},
};
/* Transfers move stock (commerce/transfers.c). */
static const ob_column transfer_receive_input[] = {
    {"quantity", OB_F_INT, .flags = OB_HAS_MIN | OB_HAS_MAX, .min = 0, .max = 1000000,
     .doc = "units that arrived, for a transfer of one product line; left out: everything dispatched"},
};
static const ob_column transfer_track_input[] = {
    {"latitude", OB_F_REAL, .min = -90, .max = 90, .flags = OB_REQUIRED | OB_HAS_MIN | OB_HAS_MAX},
    {"longitude", OB_F_REAL, .min = -180, .max = 180, .flags = OB_REQUIRED | OB_HAS_MIN | OB_HAS_MAX},
    {"event_datetime", OB_F_TIMESTAMP, .doc = "when it was there; now when left out; not before the last point"},
    {"event_location", OB_F_TEXT, .max = 255},
};
/* Air cargo on flights (booking.c). */
OB_ACTION_FN(ob_shipment_book);
OB_ACTION_FN(ob_shipment_cancel_booking);
static const ob_column shipment_book_input[] = {
    {"flight_schedule_id", OB_F_REF, .ref = "flight_schedules", .flags = OB_REQUIRED,
     .doc = "a scheduled or delayed flight with room for the shipment's weight"},
};
/* Courier bookings (couriers.c). */
OB_ACTION_FN(ob_shipment_courier_cancel);
OB_ACTION_FN(ob_shipment_courier_pickup);
static const ob_column courier_pickup_input[] = {
    {"date", OB_F_DATE, .flags = OB_REQUIRED, .doc = "the day the courier is to collect the parcel"},
};
static const ob_action shipment_actions[] = {
    {"courier_cancel", "edit", ob_shipment_courier_cancel,
     "cancel a courier shipment's booking before pickup (created or manifested): the courier is told first, and "
     "its refusal writes nothing; status cancelled"},
    {"courier_pickup", "edit", ob_shipment_courier_pickup,
     "ask the courier to collect a booked courier shipment (created or manifested) on a date",
     OB_INPUT(courier_pickup_input)},
    {"book", "edit", ob_shipment_book,
     "book an air-cargo shipment (created) on a flight: its weight_kg, rounded up to whole kilograms, is taken "
     "from the flight's capacity (409 insufficient_capacity when it does not fit); flight number and date "
     "follow; status booked",
     OB_INPUT(shipment_book_input)},
    {"cancel_booking", "edit", ob_shipment_cancel_booking,
     "give a booked shipment's space back to its flight (not once it departed); status created"},
    {"dispatch", "edit", ob_transfer_dispatch,
     "a transfer leaves: transfer_out entries at the origin, in_transit at the destination; status in_transit"},
    {"receive", "edit", ob_transfer_receive,
     "a transfer arrives: transfer_in entries; a shortfall posts a variance entry and raises a stock_variance "
     "alert; status delivered",
     OB_INPUT(transfer_receive_input)},
    {"track", "edit", ob_transfer_track, "append a position of a transfer, in time order",
     OB_INPUT(transfer_track_input)},
};
const ob_resource ob_res_shipments = {
    .table = "shipments", .doc = "air-cargo, courier and warehouse shipments (000, 001, 004)",
    OB_COLS(shipment_cols), OB_INDEXES(shipment_idx), OB_CHECKS(shipment_checks), .perm = "shipments",
    .customer_scope = "customer_id", .hooks = &ob_shipment_hooks, OB_ACTIONS(shipment_actions),
    .default_sort = "-created_at",
};

static const ob_column shipment_item_cols[] = {
    {"shipment_id", OB_F_REF, .ref = "shipments", .on_delete = OB_DEL_CASCADE, .flags = OB_REQUIRED | OB_IMMUTABLE},
    {"order_item_id", OB_F_REF, .ref = "order_items", .doc = "the order line shipped (courier shipments, 001)"},
    {"product_id", OB_F_REF, .ref = "products", .doc = "the product moved (warehouse shipments, 004)"},
    {"description", OB_F_TEXT, .max = 500, .flags = OB_SEARCH, .doc = "what the pieces are (air cargo, 000)"},
    {"commodity_code", OB_F_TEXT, .max = 20, .doc = "HS code"},
    {"quantity", OB_F_INT, .flags = OB_REQUIRED | OB_HAS_MIN | OB_MIN_EXCL, .min = 0, .dflt = "1",
     .doc = "units or pieces; above 0"},
    {"weight_kg", OB_F_DECIMAL, .scale = 3, .flags = OB_HAS_MIN | OB_MIN_EXCL | OB_HAS_MAX, .min = 0,
     .max = MAX_NUM_10_3},
    {"volume_cbm", OB_F_DECIMAL, .scale = 3, .flags = OB_HAS_MAX, .max = MAX_NUM_10_3},
    {"dimensions", OB_F_JSON},
    {"declared_value", OB_F_DECIMAL, .scale = 2, .flags = OB_HAS_MAX, .max = MAX_NUM_15_2},
};
const ob_resource ob_res_shipment_items = {
    .table = "shipment_items", .doc = "what a shipment contains (000 ERD, 001)",
    OB_COLS(shipment_item_cols), .perm = "shipments", .customer_scope = "shipment_id.customer_id",
    .default_sort = "created_at",
};

/* Cargo-iQ milestones (000 air cargo), described in milestone_code's doc. */
OB_ENUM(cargo_iq_code, "cargo_iq_code", "bkd", "foh", "rcs", "fwb", "pre", "man", "dep", "tfd", "rct", "arr", "rcf",
        "nfd", "awd", "crc", "ccd", "dlv", "dis");

static const ob_column tracking_event_cols[] = {
    {"shipment_id", OB_F_REF, .ref = "shipments", .on_delete = OB_DEL_CASCADE, .flags = OB_REQUIRED},
    {"event_code", OB_F_TEXT, .max = 50, .flags = OB_REQUIRED | OB_GENERATED | OB_INDEXED,
     .doc = "000 event code or 001 courier status_code; when not given, the status text, else "
            "\"location_update\" (a 004 position report)"},
    {"status", OB_F_TEXT, .max = 100, .doc = "the courier's status text (001)"},
    {"event_description", OB_F_TEXT, .max = 10000, .flags = OB_SEARCH},
    {"event_location", OB_F_TEXT, .max = 255},
    {"event_country", OB_F_TEXT, .max = 2, .doc = "ISO 3166-1 alpha-2"},
    {"latitude", OB_F_REAL, .min = -90, .max = 90, .flags = OB_HAS_MIN | OB_HAS_MAX},
    {"longitude", OB_F_REAL, .min = -180, .max = 180, .flags = OB_HAS_MIN | OB_HAS_MAX},
    {"event_datetime", OB_F_TIMESTAMP, .flags = OB_REQUIRED | OB_SORT, .dflt = "now",
     .doc = "when it happened (000 event_datetime, 001 event_time, 004 timestamp)"},
    {"milestone_flag", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "false", .doc = "a milestone shown to the customer"},
    {"notification_sent", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "false"},
    {"source_system", OB_F_TEXT, .flags = OB_STAFF, .max = 50, .doc = "airline, courier or integration that reported it"},
    {"external_event_id", OB_F_TEXT, .flags = OB_STAFF, .max = 100},
    {"additional_info", OB_F_TEXT, .max = 100000},
    {"raw_data", OB_F_JSON, .flags = OB_STAFF, .doc = "the courier's payload as received (001)"},
    {"milestone_code", OB_F_ENUM, .enm = &cargo_iq_code, .flags = OB_SERVER | OB_INDEXED, .since = 4,
     .doc = "the Cargo-iQ milestone of an air-cargo event, from its event_code (given upper or lower case, "
            "stored upper case): BKD booked on a flight; FOH freight on hand; RCS received from the shipper, "
            "ready for carriage; FWB electronic air waybill received; PRE prepared for loading; MAN manifested; "
            "DEP departed; TFD transferred to another airline; RCT received from another airline; ARR arrived; "
            "RCF received from the flight; NFD consignee notified; AWD documents delivered to the consignee; "
            "CRC reported to customs; CCD cleared by customs; DLV delivered; DIS discrepancy (exception). "
            "The shipment's status follows its latest event: MAN, PRE manifested; DEP departed; TFD, RCT "
            "in_transit; ARR, RCF, NFD, AWD, CCD arrived; CRC customs_clearance; DLV delivered; the others "
            "leave it"},
};
/* event_datetime (sortable), event_code and shipment_id have their own indexes */
static const ob_index tracking_event_idx[] = {
    {"shipment_id,event_datetime"},
    {"shipment_id,external_event_id", .unique = true, .since = 4},
};
const ob_resource ob_res_tracking_events = {
    .table = "tracking_events", .doc = "tracking history of shipments: events, statuses and positions",
    OB_COLS(tracking_event_cols), OB_INDEXES(tracking_event_idx), .perm = "shipments",
    .perm_view = "shipments.track", .flags = OB_RES_APPEND_ONLY, .customer_scope = "shipment_id.customer_id",
    .hooks = &ob_tracking_event_hooks, .default_sort = "event_datetime",
    /* a partner re-posting an event it already sent gets the stored one */
    .dedupe = "shipment_id,external_event_id",
    /* the customer hears of a milestone once: the event is created once */
    .flag_event = &(const ob_flag_event){"milestone_flag", "milestone"},
    .retention = &(const ob_retention){.days = 730, .source = "2 years (000 tracking_events; 1 year for 004 shipment_tracking)"},
};
