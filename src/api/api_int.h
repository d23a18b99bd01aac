/* api_int.h - what the route files of src/api/ share. */
#ifndef OB_API_INT_H
#define OB_API_INT_H

#include <jansson.h>

#include "api/app.h"
#include "schema/ctx.h"
#include "schema/registry.h"

/* Parse the request body as a JSON object; requires application/json.
 * allow_empty: an empty body gives *out = NULL. */
int ob_api_body(const ob_app *app, const ob_req *req, bool allow_empty, json_t **out, ob_err *err);
/* Write a whole row response with its ETag. */
void ob_api_row_resp(ob_ctx *ctx, ob_resp *resp, const ob_row *row, int status);

void ob_api_login(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx);
void ob_api_logout(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx);
void ob_api_me(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx);
/* /api/v1/<table>[/<id>[/<verb>]] for an authenticated ctx. */
void ob_api_resource(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, const ob_table *t, const char *id,
                     const char *verb);

#endif
