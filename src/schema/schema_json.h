/* schema_json.h - the live registry as JSON, for programs that check it
 * (opsbase schema --json). */
#ifndef OB_SCHEMA_JSON_H
#define OB_SCHEMA_JSON_H

#include "base/strbuf.h"

void ob_schema_json(ob_sb *out);
/* The wire name of a field type ("text", "integer", "decimal", ...). */
const char *ob_ftype_name(int type);

#endif
