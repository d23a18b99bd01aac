/* channels.c - connecting and disconnecting a sales channel: the only way
 * its credentials and webhook secret are written (they are never read). */
#include <string.h>

#include "base/base.h"
#include "domain/commerce/commerce.h"
#include "domain/notify/notify.h"
#include "schema/ctx.h"
#include "schema/row.h"
#include "gen/columns.h"
#include "base/banned.h"

/* The input (sales.c: credentials, a non-empty object; webhook_secret) is
 * validated by the engine before this runs. */
int ob_channel_connect(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    (void)err;
    ob_row_set_text(ctx->arena, row, SALES_CHANNELS_CREDENTIALS,
                    ob_row_text(ctx->input, SALES_CHANNELS_CONNECT_IN_CREDENTIALS));
    /* the inbound webhook endpoint (api/hooks.c) and its secret: the one the
     * channel was given, else a new one; the response shows both, this once */
    const char *given = ob_row_is_set(ctx->input, SALES_CHANNELS_CONNECT_IN_WEBHOOK_SECRET)
                            ? ob_row_text(ctx->input, SALES_CHANNELS_CONNECT_IN_WEBHOOK_SECRET)
                            : NULL;
    ob_row_set_text(ctx->arena, row, SALES_CHANNELS_WEBHOOK_SECRET, ob_inbound_secret(ctx, given));
    const char *type = ob_row_text(old, SALES_CHANNELS_CHANNEL_TYPE_CODE);
    const char *provider = !strcmp(type, "shopify") || !strcmp(type, "woocommerce") ? type : "generic";
    ob_row_set_text(ctx->arena, row, SALES_CHANNELS_WEBHOOK_URL,
                    ob_arena_printf(ctx->arena, "/api/v1/hooks/%s/%s/%s", provider, ctx->tenant->slug, ob_row_id(old)));
    ob_row_set_text(ctx->arena, row, SALES_CHANNELS_STATUS, "active");
    ob_row_set_null(row, SALES_CHANNELS_SYNC_ERROR);
    return 0;
}

int ob_channel_disconnect(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    (void)old;
    (void)err;
    ob_row_set_text(ctx->arena, row, SALES_CHANNELS_CREDENTIALS, "{}");
    ob_row_set_null(row, SALES_CHANNELS_WEBHOOK_SECRET);
    ob_row_set_text(ctx->arena, row, SALES_CHANNELS_STATUS, "disconnected");
    return 0;
}
