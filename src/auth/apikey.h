/* apikey.h - requests authenticated by an API key (issue 17).
 *
 * A key is "obk_<tenant slug>_<43 random base64url chars>", made by creating
 * an api_keys row (domain/security/apikeys.c), which stores only its BLAKE2b
 * hash. A request bearing one acts as the key's creator with the creator's
 * roles (confinement, masking) and with the permissions the creator holds
 * now that are also among the key's scopes; owners lose their "holds every
 * code" shortcut under a key. A revoked or expired key, or one whose creator
 * is inactive or locked, is OB_E_UNAUTHENTICATED. The key's last_used_at is
 * written at most once a minute.
 */
#ifndef OB_APIKEY_H
#define OB_APIKEY_H

#include <stdbool.h>
#include <stddef.h>

#include "schema/ctx.h"

#define OB_APIKEY_PREFIX "obk_"

/* Whether a bearer token is an API key (by its prefix). */
bool ob_apikey_is_key(const char *token);
/* As ob_session_authenticate, for a token that is an API key: fills
 * ctx->tenant, ctx->who and a READ connection in ctx->db (the caller
 * releases it). */
int ob_apikey_authenticate(ob_ctx *ctx, const char *token, ob_err *err);

#endif
