/* catalog.c - one product catalogue: 001's products and variants, 004's
 * products (sku, unit_cost -> cost_price, selling_price) and 003's gold-shop
 * item master (inventory_items: images), plus 003's polymorphic images and
 * category templates. */
#include "domain/domains.h"
#include "domain/commerce/commerce.h"
#include "base/banned.h"

OB_ENUM(image_entity, "image_entity", "product", "product_variant", "category", "customer", "user", "warehouse",
        "supplier");

static const ob_column image_cols[] = {
    {"entity_type", OB_F_ENUM, .enm = &image_entity, .flags = OB_REQUIRED | OB_IMMUTABLE,
     .doc = "what the image belongs to; 003's 'inventory_item' is 'product' (one catalogue)"},
    {"entity_id", OB_F_TEXT, .max = 36, .flags = OB_REQUIRED | OB_IMMUTABLE | OB_LOWER,
     .doc = "id of the row in the table named by entity_type (polymorphic, so not a foreign key)"},
    {"file_path", OB_F_TEXT, .max = 500, .flags = OB_REQUIRED | OB_SERVER},
    {"file_name", OB_F_TEXT, .max = 255, .flags = OB_REQUIRED | OB_SERVER | OB_SEARCH | OB_SORT},
    {"file_size", OB_F_INT, .flags = OB_REQUIRED | OB_SERVER | OB_HAS_MIN, .min = 0, .doc = "bytes"},
    {"mime_type", OB_F_TEXT, .max = 100, .flags = OB_REQUIRED | OB_SERVER | OB_LOWER},
    {"width", OB_F_INT, .flags = OB_SERVER | OB_HAS_MIN, .min = 0, .doc = "pixels, read from the file by the images.process job"},
    {"height", OB_F_INT, .flags = OB_SERVER | OB_HAS_MIN, .min = 0, .doc = "pixels, read from the file by the images.process job"},
    {"alt_text", OB_F_TEXT, .max = 255, .flags = OB_SEARCH},
    {"is_primary", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "false", .sole_per = "entity_type,entity_id",
     .doc = "the entity's main image: setting one unsets the entity's other"},
    {"sort_order", OB_F_INT, .flags = OB_REQUIRED | OB_SORT, .dflt = "0",
     .doc = "position in the entity's gallery (list with entity_id=...; sorted by it by default)"},
    {"thumbnail_path", OB_F_TEXT, .max = 500, .flags = OB_SERVER,
     .doc = "where the file store keeps the thumbnail (at most 256 px a side, JPEG)"},
    {"compressed_path", OB_F_TEXT, .max = 500, .flags = OB_SERVER,
     .doc = "where the file store keeps the compressed copy (full size, JPEG)"},
    {"file_id", OB_F_REF, .ref = "files", .on_delete = OB_DEL_RESTRICT, .flags = OB_INDEXED | OB_IMMUTABLE, .since = 4,
     .doc = "the uploaded image (POST /api/v1/files); path, name, size and type are copied from it"},
    {"thumbnail_file_id", OB_F_REF, .ref = "files", .on_delete = OB_DEL_RESTRICT, .flags = OB_SERVER, .since = 5,
     .doc = "the thumbnail made by the images.process job; GET /api/v1/images/{id}/thumbnail"},
    {"compressed_file_id", OB_F_REF, .ref = "files", .on_delete = OB_DEL_RESTRICT, .flags = OB_SERVER, .since = 5,
     .doc = "the compressed copy made by the images.process job; GET /api/v1/images/{id}/compressed"},
};
static const ob_copy_col image_file_copy[] = {
    {"file_path", "storage_key"}, {"file_name", "file_name"}, {"file_size", "file_size"}, {"mime_type", "mime_type"},
};
static const ob_ref_copy image_file = {"file_id", image_file_copy, 4, true};
static const ob_index image_idx[] = {
    {"entity_type,entity_id"}, {"entity_id,is_primary"},
    {"entity_type,entity_id", .where = "is_primary", .unique = true, .since = 5},
};
static const ob_file_variant image_variants[] = {
    {"thumbnail", "thumbnail_file_id", "the thumbnail, at most 256 px a side (JPEG), once the job made it"},
    {"compressed", "compressed_file_id", "the compressed copy (JPEG), once the job made it"},
};
extern const ob_hooks ob_image_hooks;
const ob_resource ob_res_images = {
    .table = "images", .doc = "images of products, categories, customers and users (003)",
    OB_COLS(image_cols), OB_INDEXES(image_idx), .perm = "images", .default_sort = "sort_order", .copy = &image_file,
    OB_VARIANTS(image_variants), .hooks = &ob_image_hooks,
};

OB_ENUM(piece_metal, "metal", "gold", "silver", "platinum");
OB_ENUM(making_charge_type, "making_charge_type", "percent", "per_gram", "fixed");

static const ob_column product_cols[] = {
    {"sku", OB_F_TEXT, .max = 100, .flags = OB_REQUIRED | OB_SORT | OB_SEARCH,
     .doc = "stock-keeping unit, unique in the tenant among live products whatever its case (004: unique per "
            "organization); a deleted product frees it"},
    {"name", OB_F_TEXT, .max = 500, .flags = OB_REQUIRED | OB_SORT | OB_SEARCH},
    {"description", OB_F_TEXT, .max = 100000, .flags = OB_SEARCH},
    {"category", OB_F_TEXT, .max = 255, .doc = "free-text category as a sales channel sends it (001)"},
    {"category_id", OB_F_REF, .ref = "categories", .on_delete = OB_DEL_SET_NULL,
     .doc = "product category of the catalogue (003's categories of inventory items)"},
    {"brand", OB_F_TEXT, .max = 255, .flags = OB_SEARCH},
    {"weight_grams", OB_F_INT, .flags = OB_HAS_MIN, .min = 0},
    {"dimensions", OB_F_JSON, .doc = "{\"length\": 10, \"width\": 5, \"height\": 3, \"unit\": \"cm\"}"},
    {"hsn_code", OB_F_TEXT, .max = 50, .doc = "Harmonized System code for GST"},
    {"cost_price", OB_F_DECIMAL, .scale = 2, .flags = OB_HAS_MIN | OB_HAS_MAX, .min = 0, .max = OB_MONEY_MAX,
     .doc = "what one unit costs the business (001 cost_price, 004 unit_cost)"},
    {"selling_price", OB_F_DECIMAL, .scale = 2, .flags = OB_HAS_MIN | OB_HAS_MAX, .min = 0, .max = OB_MONEY_MAX},
    {"mrp", OB_F_DECIMAL, .scale = 2, .flags = OB_HAS_MIN | OB_HAS_MAX, .min = 0, .max = OB_MONEY_MAX,
     .doc = "maximum retail price"},
    {"tax_rate", OB_F_DECIMAL, .scale = 2, .flags = OB_HAS_MIN | OB_HAS_MAX, .min = 0, .max = 10000,
     .doc = "percent, 0.00 to 100.00"},
    {"images", OB_F_JSON, .dflt = "[]", .doc = "image URLs as a sales channel sends them (001)"},
    {"primary_image_id", OB_F_REF, .ref = "images", .doc = "the main image (003 inventory_items)"},
    {"gallery_images", OB_F_JSON, .doc = "array of image ids (003 inventory_items)"},
    {"attributes", OB_F_JSON, .dflt = "{}", .doc = "{\"color\": \"Red\", \"material\": \"Cotton\"}"},
    {"is_active", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "true"},
    {"sku_key", OB_F_TEXT, .max = 400, .flags = OB_SERVER | OB_NOFILTER, .since = 3,
     .doc = "the sku lower-cased, kept by the server: what makes it unique"},
    /* 003's pieces: a jewellery item priced by its metal (commerce/pieces.c) */
    {"gross_weight", OB_F_DECIMAL, .scale = 3, .flags = OB_HAS_MIN | OB_HAS_MAX, .min = 0, .max = 100000000,
     .since = 4, .doc = "grams, 3 places: the whole piece"},
    {"stone_weight", OB_F_DECIMAL, .scale = 3, .flags = OB_HAS_MIN | OB_HAS_MAX, .min = 0, .max = 100000000,
     .since = 4, .doc = "grams, 3 places: stones and other non-metal parts; at most gross_weight"},
    {"net_weight", OB_F_DECIMAL, .scale = 3, .flags = OB_SERVER | OB_SORT, .since = 4,
     .doc = "grams of metal: gross_weight - stone_weight, kept by the server"},
    {"metal", OB_F_ENUM, .enm = &piece_metal, .flags = OB_INDEXED, .since = 4},
    {"purity", OB_F_INT, .flags = OB_HAS_MIN | OB_HAS_MAX, .min = 1, .max = 999, .since = 4,
     .doc = "fineness in parts per thousand: 24K = 999, 22K = 916, 18K = 750"},
    {"huid", OB_F_TEXT, .max = 6, .pattern = "[A-Z0-9]{6}", .since = 4,
     .doc = "hallmark unique id: 6 capital letters or digits, unique in the tenant among live products"},
    {"making_charge_type", OB_F_ENUM, .enm = &making_charge_type, .since = 4,
     .doc = "percent: of the metal value; per_gram: per gram of net weight; fixed: per piece"},
    {"making_charge_value", OB_F_DECIMAL, .scale = 2, .flags = OB_HAS_MIN | OB_HAS_MAX, .min = 0, .max = OB_MONEY_MAX,
     .since = 4, .doc = "the percent (12.00), the amount per gram or the fixed amount"},
    {"wastage_percent", OB_F_DECIMAL, .scale = 2, .flags = OB_HAS_MIN | OB_HAS_MAX, .min = 0, .max = 10000, .since = 4,
     .doc = "percent of the metal value charged for metal lost in making, 0.00 to 100.00"},
    {"stone_charges", OB_F_DECIMAL, .scale = 2, .flags = OB_HAS_MIN | OB_HAS_MAX, .min = 0, .max = OB_MONEY_MAX,
     .since = 4, .doc = "the price of the piece's stones"},
};
/* The sku's uniqueness is the key's, among live rows only. */
static const ob_index product_idx[] = {{"is_active"}, {"sku_key", .where = "deleted_at IS NULL", .unique = true, .since = 3},
                                       {"huid", .where = "deleted_at IS NULL", .unique = true, .since = 4}};
extern const ob_hooks ob_piece_hooks;
const ob_resource ob_res_products = {
    .table = "products", .doc = "the product catalogue (001 products, 004 products, 003 inventory items)",
    OB_COLS(product_cols), OB_INDEXES(product_idx), .perm = "inventory", .flags = OB_RES_SOFT_DELETE,
    .hooks = &ob_piece_hooks, .default_sort = "name",
};

static const ob_column variant_cols[] = {
    {"product_id", OB_F_REF, .ref = "products", .on_delete = OB_DEL_CASCADE, .flags = OB_REQUIRED | OB_IMMUTABLE},
    {"sku", OB_F_TEXT, .max = 100, .flags = OB_REQUIRED | OB_UNIQUE | OB_SORT | OB_SEARCH},
    {"name", OB_F_TEXT, .max = 500, .flags = OB_REQUIRED | OB_SORT | OB_SEARCH},
    {"attributes", OB_F_JSON, .flags = OB_REQUIRED, .doc = "{\"color\": \"Red\", \"size\": \"M\"}"},
    {"cost_price", OB_F_DECIMAL, .scale = 2, .flags = OB_HAS_MIN | OB_HAS_MAX, .min = 0, .max = OB_MONEY_MAX},
    {"selling_price", OB_F_DECIMAL, .scale = 2, .flags = OB_HAS_MIN | OB_HAS_MAX, .min = 0, .max = OB_MONEY_MAX},
    {"mrp", OB_F_DECIMAL, .scale = 2, .flags = OB_HAS_MIN | OB_HAS_MAX, .min = 0, .max = OB_MONEY_MAX},
    {"weight_grams", OB_F_INT, .flags = OB_HAS_MIN, .min = 0},
    {"images", OB_F_JSON, .dflt = "[]"},
    {"is_active", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "true"},
};
const ob_resource ob_res_product_variants = {
    .table = "product_variants", .doc = "variants of a product (size, colour, ...) (001)",
    OB_COLS(variant_cols), .perm = "inventory", .default_sort = "sku",
};

extern const ob_hooks ob_category_template_hooks; /* pieces.c: definitions checked */
static const ob_column template_cols[] = {
    {"category_id", OB_F_REF, .ref = "categories", .on_delete = OB_DEL_CASCADE, .flags = OB_REQUIRED},
    {"name", OB_F_TEXT, .max = 255, .flags = OB_REQUIRED | OB_SORT | OB_SEARCH},
    {"description", OB_F_TEXT, .max = 10000},
    {"attributes", OB_F_JSON, .flags = OB_REQUIRED, .dflt = "[]",
     .doc = "custom attributes products of the category carry in their attributes, checked on every write of "
            "the product: [{\"name\": \"hallmark\", \"type\": \"enum\", \"options\": [\"BIS\", \"none\"], "
            "\"required\": true}]; type text, number, integer, boolean, date (YYYY-MM-DD) or enum (options, or "
            "values)"},
    {"is_active", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "true"},
};
static const ob_index template_idx[] = {{"category_id,name", .unique = true}};
const ob_resource ob_res_category_templates = {
    .table = "category_templates", .doc = "attribute templates of product categories (003, named only)",
    OB_COLS(template_cols), OB_INDEXES(template_idx), .perm = "inventory", .hooks = &ob_category_template_hooks,
    .default_sort = "name",
};
