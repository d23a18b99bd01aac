/* channels.c - connecting and disconnecting a sales channel: the only way
 * its credentials and webhook secret are written (they are never read). */
#include "base/base.h"
#include "domain/commerce/commerce.h"
#include "schema/ctx.h"
#include "schema/row.h"
#include "base/banned.h"

/* The input (sales.c: credentials, a non-empty object; webhook_secret) is
 * validated by the engine before this runs. */
int ob_channel_connect(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    (void)old;
    (void)err;
    ob_row_set_text(ctx->arena, row, "credentials", ob_row_text(ctx->input, "credentials"));
    if (ctx->input->set[ob_table_col(ctx->input->t, "webhook_secret")])
        ob_row_set_text(ctx->arena, row, "webhook_secret", ob_row_text(ctx->input, "webhook_secret"));
    ob_row_set_text(ctx->arena, row, "status", "active");
    ob_row_set_null(row, "sync_error");
    return 0;
}

int ob_channel_disconnect(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    (void)old;
    (void)err;
    ob_row_set_text(ctx->arena, row, "credentials", "{}");
    ob_row_set_null(row, "webhook_secret");
    ob_row_set_text(ctx->arena, row, "status", "disconnected");
    return 0;
}
