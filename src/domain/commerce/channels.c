/* channels.c - connecting and disconnecting a sales channel: the only way
 * its credentials and webhook secret are written (they are never read). */
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "domain/commerce/commerce.h"
#include "schema/ctx.h"
#include "schema/row.h"
#include "base/banned.h"

static int unknown_field(ob_err *err, const char *key)
{
    ob_err_set(err, OB_E_UNKNOWN_FIELD, "unknown field \"%.60s\"", key);
    snprintf(err->field, sizeof err->field, "%s", key);
    return -1;
}

int ob_channel_connect(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    (void)old;
    json_t *creds = NULL, *secret = NULL;
    const char *key;
    json_t *val;
    if (ctx->body)
        json_object_foreach(ctx->body, key, val) {
            if (strcmp(key, "credentials") == 0) creds = val;
            else if (strcmp(key, "webhook_secret") == 0) secret = val;
            else return unknown_field(err, key);
        }
    ob_err_clear(err);
    if (!creds) ob_err_field_add(err, "credentials", "is required");
    else if (!json_is_object(creds) || json_object_size(creds) == 0)
        ob_err_field_add(err, "credentials", "must be a non-empty object");
    if (secret && !json_is_null(secret) &&
        (!json_is_string(secret) || json_string_length(secret) == 0 || json_string_length(secret) > 255))
        ob_err_field_add(err, "webhook_secret", "must be a string of 1 to 255 characters");
    if (err->nfields > 0) {
        err->code = OB_E_VALIDATION;
        snprintf(err->message, sizeof err->message, "%s", ob_err_default_msg(OB_E_VALIDATION));
        return -1;
    }
    char *dump = json_dumps(creds, JSON_COMPACT);
    if (!dump) return ob_err_set(err, OB_E_INTERNAL, "cannot store the credentials");
    ob_row_set_text(ctx->arena, row, "credentials", dump);
    free(dump);
    if (secret)
        ob_row_set_text(ctx->arena, row, "webhook_secret", json_is_null(secret) ? NULL : json_string_value(secret));
    ob_row_set_text(ctx->arena, row, "status", "active");
    ob_row_set_null(row, "sync_error");
    return 0;
}

int ob_channel_disconnect(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    (void)old;
    const char *key;
    json_t *val;
    if (ctx->body)
        json_object_foreach(ctx->body, key, val) return unknown_field(err, key);
    ob_row_set_text(ctx->arena, row, "credentials", "{}");
    ob_row_set_null(row, "webhook_secret");
    ob_row_set_text(ctx->arena, row, "status", "disconnected");
    return 0;
}
