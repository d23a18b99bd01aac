/* demo.h - what `opsbase demo` builds its tenants with (demo.c: acme and
 * globex; demo_domains.c: skycargo, the air-cargo portal, and goldline, the
 * gold shop). Records go through the engine as a client's would, so the
 * demo data obeys every declaration: numbering, ledgers, state machines. */
#ifndef OB_CLI_DEMO_H
#define OB_CLI_DEMO_H

#include "schema/ctx.h"

/* Create one record of table from JSON text; its id into id_out if given. */
int ob_demo_make(ob_ctx *ctx, const char *table, const char *json, char id_out[37], ob_err *err);
/* ob_demo_make() with the body formatted from fmt (ids are plain UUIDs, no escaping). */
__attribute__((format(printf, 5, 6))) int ob_demo_mkf(ob_ctx *ctx, const char *table, char id_out[37], ob_err *err,
                                                      const char *fmt, ...);
/* Run event or action v of a record with a JSON body. */
int ob_demo_verb(ob_ctx *ctx, const char *table, const char *id, const char *v, const char *json, ob_err *err);

/* The records of the two single-system demo tenants, in ctx's open transaction. */
int ob_demo_skycargo(ob_ctx *ctx, ob_err *err);
int ob_demo_goldline(ob_ctx *ctx, ob_err *err);

#endif
