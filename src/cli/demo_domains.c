/* demo_domains.c - the demo tenants of single systems: skycargo, a cargo
 * operator's customer portal (seed 000), and goldline, a jewellery shop
 * (seed 003). Each shows its workflows in several states, reached through
 * the same events and actions a client would send. */
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "base/base.h"
#include "base/clock.h"
#include "cli/demo.h"
#include "db/db.h"
#include "files/files.h"
#include "schema/crud.h"
#include "schema/validate.h"
#include "gen/columns.h"
#include "base/banned.h"

/* A valid AWB: PPP-SSSSSSSC, the check digit the serial mod 7. */
static void awb(char out[24], const char *prefix, long serial)
{
    snprintf(out, 24, "%s-%07ld%ld", prefix, serial, serial % 7);
}

/* The id of the tenant's user with this e-mail into out. */
static int user_id(ob_ctx *ctx, const char *email, char out[37], ob_err *err)
{
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, "SELECT id FROM users WHERE email = ?", &st, err) != 0) return -1;
    int rc = ob_stmt_bind_text(st, 1, email, err);
    if (rc == 0) rc = ob_stmt_step(st, err);
    if (rc == 1) snprintf(out, 37, "%s", ob_stmt_col_text(st, 0, NULL));
    ob_stmt_done(st);
    if (rc == 0) return ob_err_set(err, OB_E_NOT_FOUND, "demo data: no user %s", email);
    return rc == 1 ? 0 : -1;
}

/* A shipment's milestones, in order (code, place), a second apart from now:
 * the booking milestone is stamped at creation, and a shipment's status
 * follows its latest event, so the demo's story has to come after it. */
static int milestones(ob_ctx *ctx, const char *shp, const char *const (*ev)[2], int n, ob_err *err)
{
    int rc = 0;
    for (int i = 0; rc == 0 && i < n; i++) {
        char at[OB_TS_LEN];
        ob_ts_format(ctx->now_ms + 1000 * (i + 1), at);
        rc = ob_demo_mkf(ctx, "tracking_events", NULL, err,
                         "{\"shipment_id\":\"%s\",\"event_code\":\"%s\",\"event_location\":\"%s\","
                         "\"event_datetime\":\"%s\"}",
                         shp, ev[i][0], ev[i][1], at);
    }
    return rc;
}

static int cargo_shipments(ob_ctx *ctx, const char *cus1, const char *cus2, const char *flight1, const char *flight2,
                           ob_err *err)
{
    static const char *const departed[][2] = {{"RCS", "BOM"}, {"MAN", "BOM"}, {"DEP", "BOM"}};
    static const char *const delivered[][2] = {{"RCS", "DOH"}, {"DEP", "DOH"}, {"ARR", "LHR"},
                                               {"RCF", "LHR"}, {"NFD", "LHR"}, {"DLV", "LHR"}};
    const char *route[][2] = {{"BOM", "DXB"}, {"BOM", "DXB"}, {"BOM", "DXB"}, {"DOH", "LHR"}};
    const char *goods[] = {"Pharmaceuticals (cool chain)", "Textiles", "Machine parts", "Electronics"};
    int rc = 0;
    for (int i = 0; rc == 0 && i < 4; i++) {
        char number[24], shp[37];
        awb(number, i == 3 ? "157" : "176", 4100001L + i);
        rc = ob_demo_mkf(ctx, "shipments", shp, err,
                         "{\"customer_id\":\"%s\",\"shipment_type\":\"air_cargo\",\"awb_number\":\"%s\","
                         "\"origin_airport\":\"%s\",\"destination_airport\":\"%s\",\"pieces\":%d,"
                         "\"weight_kg\":\"%d.500\",\"commodity_description\":\"%s\"}",
                         i % 2 ? cus2 : cus1, number, route[i][0], route[i][1], 2 + i, 80 + 40 * i, goods[i]);
        /* 0 stays booked-in (BKD), 1 is on a flight, 2 has left, 3 was delivered */
        if (rc == 0 && i >= 1) {
            char body[64];
            snprintf(body, sizeof body, "{\"flight_schedule_id\":\"%s\"}", i == 3 ? flight2 : flight1);
            rc = ob_demo_verb(ctx, "shipments", shp, "book", body, err);
        }
        if (rc == 0 && i == 2) rc = milestones(ctx, shp, departed, (int)OB_ARRAY_LEN(departed), err);
        if (rc == 0 && i == 3) rc = milestones(ctx, shp, delivered, (int)OB_ARRAY_LEN(delivered), err);
    }
    return rc;
}

static int cargo_services(ob_ctx *ctx, const char *cus1, const char *cus2, ob_err *err)
{
    char plain[37], dg[37], req[37], centre[37];
    int rc = ob_demo_mkf(ctx, "service_types", plain, err,
                         "{\"service_code\":\"EXP-CLR\",\"service_name\":\"Export clearance\",\"sla_hours\":48,"
                         "\"token_prefix\":\"E\"}");
    if (rc == 0)
        rc = ob_demo_mkf(ctx, "service_types", dg, err,
                         "{\"service_code\":\"DG-REVIEW\",\"service_name\":\"Dangerous goods review\","
                         "\"sla_hours\":24,\"requires_approval\":true}");
    if (rc == 0)
        rc = ob_demo_mkf(ctx, "service_requests", NULL, err,
                         "{\"customer_id\":\"%s\",\"service_type_id\":\"%s\",\"request_title\":\"Clear 12 cartons "
                         "of textiles for export\"}",
                         cus1, plain);
    if (rc == 0)
        rc = ob_demo_mkf(ctx, "service_requests", req, err,
                         "{\"customer_id\":\"%s\",\"service_type_id\":\"%s\",\"request_title\":\"Lithium batteries "
                         "in equipment, UN3481\"}",
                         cus1, dg);
    if (rc == 0) rc = ob_demo_verb(ctx, "service_requests", req, "approve", "{}", err);
    if (rc == 0)
        rc = ob_demo_mkf(ctx, "service_requests", NULL, err,
                         "{\"customer_id\":\"%s\",\"service_type_id\":\"%s\",\"request_title\":\"Perishables "
                         "on the next flight\"}",
                         cus2, dg);
    if (rc == 0)
        rc = ob_demo_mkf(ctx, "service_centers", centre, err,
                         "{\"code\":\"BOM-T2\",\"name\":\"Mumbai cargo terminal 2\",\"default_service_minutes\":6,"
                         "\"timezone\":\"Asia/Kolkata\"}");
    const char *queue[][2] = {{cus1, "EXP-CLR"}, {cus2, "EXP-CLR"}, {cus1, ""}};
    for (size_t i = 0; rc == 0 && i < OB_ARRAY_LEN(queue); i++) {
        char body[160];
        snprintf(body, sizeof body, "{\"customer_id\":\"%s\"%s%s%s}", queue[i][0],
                 queue[i][1][0] ? ",\"service_type\":\"" : "", queue[i][1], queue[i][1][0] ? "\"" : "");
        rc = ob_demo_verb(ctx, "service_centers", centre, "tokens", body, err);
    }
    if (rc == 0) rc = ob_demo_verb(ctx, "service_centers", centre, "call_next", "{}", err);
    return rc;
}

int ob_demo_skycargo(ob_ctx *ctx, ob_err *err)
{
    char ek[37], qr[37], f1[37], f2[37], cus1[37], cus2[37], portal[37];
    int rc = ob_demo_mkf(ctx, "airlines", ek, err,
                         "{\"iata_code\":\"EK\",\"airline_name\":\"Emirates SkyCargo\",\"awb_prefix\":\"176\"}");
    if (rc == 0)
        rc = ob_demo_mkf(ctx, "airlines", qr, err,
                         "{\"iata_code\":\"QR\",\"airline_name\":\"Qatar Airways Cargo\",\"awb_prefix\":\"157\"}");
    if (rc == 0)
        rc = ob_demo_mkf(ctx, "flight_schedules", f1, err,
                         "{\"airline_id\":\"%s\",\"flight_number\":\"EK9901\",\"origin_airport\":\"BOM\","
                         "\"destination_airport\":\"DXB\",\"flight_date\":\"2026-12-20\",\"capacity_kg\":20000}",
                         ek);
    if (rc == 0)
        rc = ob_demo_mkf(ctx, "flight_schedules", f2, err,
                         "{\"airline_id\":\"%s\",\"flight_number\":\"QR8801\",\"origin_airport\":\"DOH\","
                         "\"destination_airport\":\"LHR\",\"flight_date\":\"2026-12-21\",\"capacity_kg\":15000}",
                         qr);
    if (rc == 0)
        rc = ob_demo_make(ctx, "customers",
                          "{\"company_name\":\"Sahyadri Pharma\",\"name\":\"Sahyadri\",\"email\":"
                          "\"logistics@sahyadri.test\",\"city\":\"Mumbai\",\"country\":\"India\"}",
                          cus1, err);
    if (rc == 0)
        rc = ob_demo_make(ctx, "customers",
                          "{\"company_name\":\"Thames Textiles\",\"name\":\"Thames\",\"email\":\"ship@thames.test\","
                          "\"city\":\"London\",\"country\":\"United Kingdom\"}",
                          cus2, err);
    /* the portal user sees Sahyadri's shipments, requests and tokens only */
    if (rc == 0) rc = user_id(ctx, "portal@skycargo.test", portal, err);
    if (rc == 0) {
        char body[96];
        snprintf(body, sizeof body, "{\"customer_id\":\"%s\"}", cus1);
        json_t *j = json_loads(body, 0, NULL);
        ob_row *out;
        rc = ob_crud_update(ctx, ob_registry_find(OB_TABLE_USERS), portal, j, -1, &out, err);
        json_decref(j);
    }
    if (rc == 0) rc = cargo_shipments(ctx, cus1, cus2, f1, f2, err);
    /* requests record who took them: the terminal's operator, on the
     * customers' behalf (the system has no user to stamp) */
    char ops[37];
    if (rc == 0) rc = user_id(ctx, "ops@skycargo.test", ops, err);
    if (rc == 0) {
        const ob_principal *system = ctx->who;
        ob_principal as_ops = *system;
        as_ops.user_id = ops;
        ctx->who = &as_ops;
        rc = cargo_services(ctx, cus1, cus2, err);
        ctx->who = system;
    }
    return rc;
}

/* One invoice of a customer with one line of a piece; its id into inv. */
static int gold_invoice(ob_ctx *ctx, const char *cus, const char *piece, const char *name, char inv[37], ob_err *err)
{
    int rc = ob_demo_mkf(ctx, "invoices", inv, err, "{\"customer_id\":\"%s\",\"currency\":\"INR\"}", cus);
    if (rc == 0)
        rc = ob_demo_mkf(ctx, "invoice_items", NULL, err,
                         "{\"invoice_id\":\"%s\",\"product_id\":\"%s\",\"description\":\"%s\",\"tax_rate\":\"3.00\"}",
                         inv, piece, name);
    return rc;
}

static int gold_pay(ob_ctx *ctx, const char *cus, const char *inv, const char *amount, ob_err *err)
{
    return ob_demo_mkf(ctx, "payments", NULL, err,
                       "{\"customer_id\":\"%s\",\"invoice_id\":\"%s\",\"amount\":\"%s\",\"currency\":\"INR\","
                       "\"payment_method\":\"upi\",\"payment_status\":\"completed\"}",
                       cus, inv, amount);
}

/* The pieces in the showroom, two of each, through the stock ledger: an
 * issued invoice holds its piece, a paid one sells it. */
static int gold_stock(ob_ctx *ctx, const char *const pieces[3], ob_err *err)
{
    char wh[37], row[37];
    int rc = ob_demo_make(ctx, "warehouses", "{\"name\":\"Goldline showroom\",\"code\":\"SHOW\",\"city\":\"Chennai\"}",
                          wh, err);
    for (int i = 0; rc == 0 && i < 3; i++) {
        rc = ob_demo_mkf(ctx, "inventory", row, err, "{\"product_id\":\"%s\",\"warehouse_id\":\"%s\"}", pieces[i], wh);
        if (rc == 0)
            rc = ob_demo_verb(ctx, "inventory", row, "adjust", "{\"quantity\":2,\"reason\":\"opening stock\"}", err);
    }
    return rc;
}

/* A customer's story for the timeline: a visit, a call whose follow-up is
 * overdue (the crm.follow_ups job tells the owner), one due tomorrow, and a
 * birthday for the occasions report. */
static int gold_crm(ob_ctx *ctx, const char *cus, const char *owner, ob_err *err)
{
    char past[OB_TS_LEN], overdue[OB_TS_LEN], tomorrow[OB_TS_LEN];
    ob_ts_format(ctx->now_ms - 3 * 86400000LL, past);
    ob_ts_format(ctx->now_ms - 86400000LL, overdue);
    ob_ts_format(ctx->now_ms + 86400000LL, tomorrow);
    int rc = ob_demo_mkf(ctx, "customer_communication_history", NULL, err,
                         "{\"customer_id\":\"%s\",\"communication_type\":\"visit\",\"direction\":\"inbound\","
                         "\"subject\":\"Chose the bridal necklace\",\"communication_date\":\"%s\",\"created_by\":\"%s\"}",
                         cus, past, owner);
    if (rc == 0)
        rc = ob_demo_mkf(ctx, "customer_communication_history", NULL, err,
                         "{\"customer_id\":\"%s\",\"communication_type\":\"call\",\"direction\":\"outbound\","
                         "\"subject\":\"Balance of the necklace\",\"communication_date\":\"%s\","
                         "\"follow_up_required\":true,\"follow_up_date\":\"%s\",\"created_by\":\"%s\"}",
                         cus, past, overdue, owner);
    if (rc == 0)
        rc = ob_demo_mkf(ctx, "customer_communication_history", NULL, err,
                         "{\"customer_id\":\"%s\",\"communication_type\":\"call\",\"direction\":\"outbound\","
                         "\"subject\":\"Ring sizing appointment\",\"follow_up_required\":true,"
                         "\"follow_up_date\":\"%s\",\"created_by\":\"%s\"}",
                         cus, tomorrow, owner);
    if (rc == 0)
        rc = ob_demo_mkf(ctx, "customer_preferences", NULL, err,
                         "{\"customer_id\":\"%s\",\"preferred_metal_types\":[\"gold\"],"
                         "\"special_occasions\":{\"birthday\":\"1988-03-14\",\"anniversary\":\"2014-11-21\"}}",
                         cus);
    return rc;
}

/* A PNG chunk: length, type, data, CRC of type and data. */
static void png_chunk(unsigned char *out, size_t *n, const char *type, const unsigned char *data, uint32_t len)
{
    unsigned char *p = out + *n;
    p[0] = (unsigned char)(len >> 24), p[1] = (unsigned char)(len >> 16), p[2] = (unsigned char)(len >> 8);
    p[3] = (unsigned char)len;
    memcpy(p + 4, type, 4);
    if (len) memcpy(p + 8, data, len);
    uint32_t crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), p + 4, len + 4);
    p[8 + len] = (unsigned char)(crc >> 24), p[9 + len] = (unsigned char)(crc >> 16);
    p[10 + len] = (unsigned char)(crc >> 8), p[11 + len] = (unsigned char)crc;
    *n += 12 + len;
}

/* A small picture of a piece: a gold disc (its shade per piece) on white,
 * 96 x 96 RGB, as PNG bytes made here (zlib), so the demo ships no files. */
#define PNG_SIDE 96
static size_t piece_png(int shade, unsigned char *out, size_t cap)
{
    static unsigned char raw[PNG_SIDE * (1 + 3 * PNG_SIDE)];
    for (int y = 0; y < PNG_SIDE; y++) {
        unsigned char *row = raw + (size_t)y * (1 + 3 * PNG_SIDE);
        row[0] = 0; /* filter: none */
        for (int x = 0; x < PNG_SIDE; x++) {
            int dx = x - PNG_SIDE / 2, dy = y - PNG_SIDE / 2;
            bool in = dx * dx + dy * dy < (PNG_SIDE / 3) * (PNG_SIDE / 3);
            unsigned char *px = row + 1 + 3 * x;
            px[0] = in ? (unsigned char)(212 - shade) : 255;
            px[1] = in ? (unsigned char)(175 - shade) : 255;
            px[2] = in ? (unsigned char)(55 + shade / 2) : 255;
        }
    }
    unsigned char z[8192];
    uLongf zn = sizeof z;
    if (compress2(z, &zn, raw, sizeof raw, 9) != Z_OK || zn + 64 > cap) return 0;
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    unsigned char ihdr[13] = {0, 0, 0, PNG_SIDE, 0, 0, 0, PNG_SIDE, 8, 2, 0, 0, 0};
    size_t n = sizeof sig;
    memcpy(out, sig, n);
    png_chunk(out, &n, "IHDR", ihdr, sizeof ihdr);
    png_chunk(out, &n, "IDAT", z, (uint32_t)zn);
    png_chunk(out, &n, "IEND", NULL, 0);
    return n;
}

/* Each piece's photo: the file kept in the file store, its files row, and
 * the primary images row (whose images.process job a running server picks
 * up to make the thumbnail and compressed copy). */
static int gold_images(ob_ctx *ctx, const char *const pieces[3], const char *const names[3], ob_err *err)
{
    const ob_file_store *fs = ob_files_current();
    if (!fs) return 0; /* no file store: the demo goes without pictures */
    for (int i = 0; i < 3; i++) {
        unsigned char png[16384];
        size_t n = piece_png(i * 25, png, sizeof png);
        const char *path = ob_file_spool_name(fs, ctx->arena, ".png");
        int fd = n ? open(path, O_WRONLY | O_CREAT | O_EXCL, 0600) : -1;
        bool ok = fd >= 0 && write(fd, png, n) == (ssize_t)n && fsync(fd) == 0;
        if (fd >= 0) close(fd);
        if (!ok) {
            unlink(path);
            return ob_err_set(err, OB_E_INTERNAL, "the demo could not write a piece's picture");
        }
        const char *sha, *key;
        int64_t size;
        if (ob_file_store_add(fs, ctx->arena, ctx->tenant->slug, path, &sha, &size, &key, err) != 0) return -1;
        ob_row *f = ob_row_new(ctx->arena, ob_registry_find(OB_TABLE_FILES));
        const char *fname = ob_arena_printf(ctx->arena, "piece-%d.png", i + 1);
        ob_row_set_text(ctx->arena, f, FILES_FILE_NAME, fname);
        ob_row_set_text(ctx->arena, f, FILES_MIME_TYPE, "image/png");
        ob_row_set_int(f, FILES_FILE_SIZE, size);
        ob_row_set_text(ctx->arena, f, FILES_SHA256, sha);
        ob_row_set_text(ctx->arena, f, FILES_STORAGE_KEY, key);
        ob_row_set_text(ctx->arena, f, FILES_PURPOSE, "image");
        if (ob_crud_insert_row(ctx, f, err) != 0) return -1;
        if (ob_demo_mkf(ctx, "images", NULL, err,
                        "{\"entity_type\":\"product\",\"entity_id\":\"%s\",\"file_id\":\"%s\",\"alt_text\":\"%s\","
                        "\"is_primary\":true}",
                        pieces[i], ob_row_id(f), names[i]) != 0)
            return -1;
    }
    return 0;
}

/* Invoices in every state: draft, issued, partially paid, paid, cancelled. */
static int gold_invoices(ob_ctx *ctx, const char *cus1, const char *cus2, const char *const pieces[3], ob_err *err)
{
    static const char *const names[] = {"22K bridal necklace", "18K diamond ring", "24K coin 10 g"};
    char inv[5][37];
    int rc = 0;
    for (int i = 0; rc == 0 && i < 5; i++)
        rc = gold_invoice(ctx, i % 2 ? cus2 : cus1, pieces[i % 3], names[i % 3], inv[i], err);
    for (int i = 1; rc == 0 && i < 5; i++) rc = ob_demo_verb(ctx, "invoices", inv[i], "issue", "{}", err);
    if (rc == 0) rc = gold_pay(ctx, cus1, inv[2], "5000.00", err);
    if (rc == 0) {
        ob_row *paid;
        rc = ob_crud_get(ctx, ob_registry_find(OB_TABLE_INVOICES), inv[3], &paid, err);
        char total[32];
        if (rc == 0) ob_format_decimal(ob_row_int(paid, INVOICES_TOTAL_AMOUNT, 0), 2, total, sizeof total);
        if (rc == 0) rc = gold_pay(ctx, cus2, inv[3], total, err);
    }
    if (rc == 0) rc = ob_demo_verb(ctx, "invoices", inv[4], "cancel", "{}", err);
    return rc;
}

int ob_demo_goldline(ob_ctx *ctx, ob_err *err)
{
    static const char *const rates[][3] = {{"999", "7010.00", "2026-01-01"}, {"916", "6400.00", "2026-01-01"},
                                           {"750", "5240.00", "2026-01-01"}, {"916", "6450.00", "2026-11-01"}};
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < OB_ARRAY_LEN(rates); i++)
        rc = ob_demo_mkf(ctx, "metal_rates", NULL, err,
                         "{\"metal\":\"gold\",\"purity\":%s,\"rate_per_gram\":\"%s\",\"effective_from\":\"%sT00:00:00Z\","
                         "\"source\":\"board rate\"}",
                         rates[i][0], rates[i][1], rates[i][2]);
    char p[3][37], cus1[37], cus2[37], owner[37];
    if (rc == 0)
        rc = ob_demo_make(ctx, "products",
                          "{\"sku\":\"GL-NK-22-001\",\"name\":\"22K bridal necklace\",\"metal\":\"gold\",\"purity\":916,"
                          "\"gross_weight\":\"11.250\",\"stone_weight\":\"1.250\",\"huid\":\"AB12CD\","
                          "\"making_charge_type\":\"percent\",\"making_charge_value\":\"12.00\","
                          "\"stone_charges\":\"1500.00\"}",
                          p[0], err);
    if (rc == 0)
        rc = ob_demo_make(ctx, "products",
                          "{\"sku\":\"GL-RG-18-014\",\"name\":\"18K diamond ring\",\"metal\":\"gold\",\"purity\":750,"
                          "\"gross_weight\":\"3.333\",\"stone_weight\":\"0.200\",\"huid\":\"EF34GH\","
                          "\"making_charge_type\":\"fixed\",\"making_charge_value\":\"2500.00\","
                          "\"stone_charges\":\"18000.00\"}",
                          p[1], err);
    if (rc == 0)
        rc = ob_demo_make(ctx, "products",
                          "{\"sku\":\"GL-CN-24-010\",\"name\":\"24K coin 10 g\",\"metal\":\"gold\",\"purity\":999,"
                          "\"gross_weight\":\"10.000\",\"huid\":\"JK56LM\",\"making_charge_type\":\"per_gram\","
                          "\"making_charge_value\":\"50.00\"}",
                          p[2], err);
    if (rc == 0)
        rc = ob_demo_make(ctx, "customers",
                          "{\"name\":\"Meera Iyer\",\"email\":\"meera@iyer.test\",\"phone\":\"9840012345\","
                          "\"city\":\"Chennai\",\"country\":\"India\"}",
                          cus1, err);
    if (rc == 0)
        rc = ob_demo_make(ctx, "customers",
                          "{\"name\":\"Arjun Shah\",\"email\":\"arjun@shah.test\",\"city\":\"Surat\",\"country\":\"India\"}",
                          cus2, err);
    const char *const pieces[3] = {p[0], p[1], p[2]};
    static const char *const piece_names[3] = {"22K bridal necklace", "18K diamond ring", "24K coin 10 g"};
    if (rc == 0) rc = gold_images(ctx, pieces, piece_names, err);
    if (rc == 0) rc = gold_stock(ctx, pieces, err);
    if (rc == 0) rc = gold_invoices(ctx, cus1, cus2, pieces, err);
    if (rc == 0) rc = user_id(ctx, "owner@goldline.test", owner, err);
    if (rc == 0) rc = gold_crm(ctx, cus1, owner, err);
    if (rc == 0)
        rc = ob_demo_mkf(ctx, "dashboard_widgets", NULL, err,
                         "{\"user_id\":\"%s\",\"widget_type\":\"metric\",\"widget_config\":{\"title\":\"Gold sold "
                         "today (g)\",\"kpi\":\"gold_sold_grams\"},\"position_x\":0,\"position_y\":0,\"width\":4,"
                         "\"height\":2}",
                         owner);
    /* a weekly sales report mailed with its CSV, XLSX and PDF, and a rule that
     * books a follow-up call a week after every paid invoice, both the owner's
     * (their author is the signed-in user: the system acts as the owner here) */
    const ob_principal *system = ctx->who;
    ob_principal as_owner = system ? *system : (ob_principal){.is_system = true};
    as_owner.user_id = owner;
    ctx->who = &as_owner;
    if (rc == 0)
        rc = ob_demo_make(ctx, "custom_reports",
                          "{\"name\":\"Sales by day\",\"report_type\":\"sales\",\"report_config\":{\"source\":"
                          "\"invoices\",\"group_by\":[\"invoice_date\"],\"measures\":[{\"fn\":\"sum\",\"column\":"
                          "\"total_amount\"},{\"fn\":\"count\"}]},\"is_scheduled\":true,\"schedule_frequency\":"
                          "\"weekly\",\"schedule_time\":\"08:00\",\"schedule_days\":[\"monday\"],"
                          "\"email_recipients\":[\"owner@goldline.test\"]}",
                          NULL, err);
    if (rc == 0)
        rc = ob_demo_make(ctx, "automation_rules",
                          "{\"rule_name\":\"Follow up a week after a sale\",\"rule_type\":\"communication\","
                          "\"trigger_conditions\":{\"event\":\"invoice.paid\"},\"actions\":[{\"type\":\"follow_up\","
                          "\"days\":7,\"subject\":\"How is the piece?\"}]}",
                          NULL, err);
    ctx->who = system;
    return rc;
}
