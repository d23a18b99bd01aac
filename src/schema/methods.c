/* methods.c - the one rule for which methods a table's routes answer (see methods.h). */
#include <string.h>

#include "base/base.h"
#include "schema/methods.h"
#include "base/banned.h"

unsigned ob_methods(const ob_table *t, ob_route r)
{
    unsigned f = t->res->flags;
    bool ro = f & OB_RES_READONLY, append = f & OB_RES_APPEND_ONLY;
    switch (r) {
    case OB_ROUTE_COLLECTION:
        return OB_M_GET | (ro ? 0 : OB_M_POST);
    case OB_ROUTE_RECORD:
        /* a table that keeps its rows may still end one by DELETE (a declared action) */
        if (ro) return OB_M_GET | (t->res->delete_action ? OB_M_DELETE : 0);
        if (append) return OB_M_GET | ((f & OB_RES_LINK) ? OB_M_DELETE : 0);
        return OB_M_GET | OB_M_PATCH | OB_M_DELETE;
    case OB_ROUTE_VERB:
        return OB_M_POST;
    }
    return OB_M_GET;
}

static const char *const method_names[] = {"GET", "POST", "PATCH", "DELETE"};

unsigned ob_method_bit(const char *method)
{
    for (size_t i = 0; i < OB_ARRAY_LEN(method_names); i++)
        if (strcmp(method, method_names[i]) == 0) return 1u << i;
    return 0;
}

const char *ob_methods_allow(unsigned methods)
{
    /* every subset spelled out once, so the header needs no allocation */
    static const char *const allow[16] = {
        "",
        "GET",
        "POST",
        "GET, POST",
        "PATCH",
        "GET, PATCH",
        "POST, PATCH",
        "GET, POST, PATCH",
        "DELETE",
        "GET, DELETE",
        "POST, DELETE",
        "GET, POST, DELETE",
        "PATCH, DELETE",
        "GET, PATCH, DELETE",
        "POST, PATCH, DELETE",
        "GET, POST, PATCH, DELETE",
    };
    return allow[methods & 15u];
}
