#!/usr/bin/env python3
"""Writes the column handles of every declared table: gen-columns.py OUT SRC_DIR.

Reads the table declarations in SRC_DIR/domain (`static const ob_column X[]`,
`const ob_resource ob_res_Y = {.table = ..., OB_COLS(X), .flags = ...,
OB_ACTIONS(Z)}` and each action's `OB_INPUT(W)`) and writes one macro per
column, TABLE_COLUMN, naming the table, the column's index in the runtime
table (the engine's implicit columns first, as schema/registry.c lays them
out) and its name. An action's declared input gets TABLE_VERB_IN_COLUMN, and
each table's name is OB_TABLE_TABLE, for ob_registry_find.

The declarations are plain data in one shape, so a small scanner reads them;
anything it does not understand stops the build rather than guessing, and the
binary checks every handle against the registry at start-up
(ob_registry_use_handles), so a generator that misread would fail there too.
It also writes resources.h beside OUT: every declared table as one
OB_RESOURCE(ob_res_x) line, in creation order, expanded by domain/domains.h
and domain/register.c. The order is the areas' order (AREAS below), and
within an area the area's .c files in name order, each file's declarations
in the order they appear. The tables that predate this rule in an area whose
files do not follow it keep their creation order (LEGACY_ORDER) and come
first; tables added to such an area later follow them by the rule. A new
table therefore goes after the tables it references by being declared after
them (in the same file or a file whose name sorts later).

Each output is rewritten only when its text changes, so touching a domain
file does not rebuild everything that includes it."""
import os
import re
import sys

# Implicit columns, in the order schema/registry.c puts them in front.
IMPLICIT = ["id", "created_at"]
IMPLICIT_MUTABLE = ["updated_at", "version"]
IMPLICIT_SOFT = ["deleted_at"]


# The areas under src/domain, in creation order: an area after the areas
# whose tables it references. A new area is added here.
AREAS = ["platform", "identity", "audit", "customers", "files", "support", "commerce", "logistics", "security",
         "notify", "analytics", "finance", "crm", "work"]

# Creation order of the tables of the areas whose files do not follow the
# rule, frozen when the hand-kept resources.def lists were replaced by this
# generator. New tables are never added here: they follow these, by the rule.
LEGACY_ORDER = {
    "commerce": ["images", "products", "product_variants", "category_templates", "warehouses", "suppliers",
                 "purchase_orders", "purchase_order_items", "inventory", "inventory_transactions",
                 "reorder_suggestions", "sales_channels", "channel_products", "orders", "order_items",
                 "order_status_history", "channel_types", "plan_channels"],
    "logistics": ["courier_types", "courier_configs", "service_types", "service_centers", "service_requests",
                  "request_documents", "queue_numbers", "airlines", "routes", "flight_schedules", "shipments",
                  "shipment_items", "tracking_events", "ndr_records", "ndr_actions", "ndr_remarks"],
    "analytics": ["event_types", "analytics_events", "analytics_metrics", "analytics_data", "kpi_targets",
                  "dashboard_widgets", "custom_reports", "automation_rules", "automation_logs"],
    "work": ["jobs", "schedules"],
}


def fail(where, why):
    sys.stderr.write(f"gen-columns: {where}: {why}\n")
    sys.exit(1)


def strip_comments(text):
    """Blank out comments, keeping strings and line structure."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c == '"' or c == "'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def block(text, start):
    """The text between the brace at `start` and its match."""
    depth, i = 0, start
    while i < len(text):
        c = text[i]
        if c == '"':
            i += 1
            while text[i] != '"':
                i += 2 if text[i] == "\\" else 1
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return text[start + 1:i]
        i += 1
    return None


def entries(body):
    """The top-level {...} items of an array initializer."""
    out, i = [], 0
    while i < len(body):
        if body[i] == '"':
            i += 1
            while body[i] != '"':
                i += 2 if body[i] == "\\" else 1
        elif body[i] == "{":
            inner = block(body, i)
            out.append(inner)
            i += len(inner) + 2
            continue
        i += 1
    return out


FIRST_STRING = re.compile(r'^\s*"((?:[^"\\]|\\.)*)"')


def arrays(text, ctype, path):
    """name -> list of the first string of each entry, for `static const CTYPE name[] = {...}`."""
    out = {}
    for m in re.finditer(r"static\s+const\s+" + ctype + r"\s+(\w+)\s*\[\s*\]\s*=\s*\{", text):
        body = block(text, m.end() - 1)
        names = []
        for e in entries(body):
            s = FIRST_STRING.match(e)
            if not s:
                fail(f"{path}: {m.group(1)}", "an entry that does not start with its name")
            names.append((s.group(1), e))
        out[m.group(1)] = names
    return out


def read_area_file(path, tables, resources):
    text = strip_comments(open(path, encoding="utf-8").read())
    cols = arrays(text, "ob_column", path)
    acts = arrays(text, "ob_action", path)
    for m in re.finditer(r"\bconst\s+ob_resource\s+(\w+)\s*=\s*\{", text):
        sym, body = m.group(1), block(text, m.end() - 1)
        where = f"{path}: {sym}"
        tm = re.search(r'\.table\s*=\s*"([a-z0-9_]+)"', body)
        cm = re.search(r"OB_COLS\(\s*(\w+)\s*\)", body)
        if not tm or not cm:
            fail(where, "a resource without .table or OB_COLS(...)")
        if cm.group(1) not in cols:
            fail(where, f"columns {cm.group(1)} are not declared in the same file")
        names = list(IMPLICIT)
        if "OB_RES_APPEND_ONLY" not in body:
            names += IMPLICIT_MUTABLE
        if "OB_RES_SOFT_DELETE" in body:
            names += IMPLICIT_SOFT
        names += [n for n, _ in cols[cm.group(1)]]
        tables.append((tm.group(1), names, where))
        resources.append((tm.group(1), sym))
        am = re.search(r"OB_ACTIONS\(\s*(\w+)\s*\)", body)
        if not am:
            continue
        if am.group(1) not in acts:
            fail(where, f"actions {am.group(1)} are not declared in the same file")
        for verb, entry in acts[am.group(1)]:
            im = re.search(r"OB_INPUT\(\s*(\w+)\s*\)", entry)
            if not im:
                continue
            if im.group(1) not in cols:
                fail(where, f"input {im.group(1)} is not declared in the same file")
            tables.append((f"{tm.group(1)}.{verb}", [n for n, _ in cols[im.group(1)]], where))


def macro(table, col):
    """TABLE_COLUMN, or TABLE_VERB_IN_COLUMN for an action's input "table.verb"."""
    return (table.replace(".", "_") + "_IN" if "." in table else table).upper() + "_" + col.upper()


def render(tables):
    lines = [
        "/* columns.h - one handle per column of every declared table, generated",
        " * by scripts/gen-columns.py from the declarations in src/domain; do not",
        " * edit. TABLE_COLUMN names the table, the column's index in the runtime",
        " * table and the column's name; the row accessors check the table on every",
        " * use and the registry checks every handle at start-up. OB_TABLE_TABLE is",
        " * the table's name, so that a misspelt table does not compile either. */",
        "#ifndef OB_GEN_COLUMNS_H",
        "#define OB_GEN_COLUMNS_H",
        "",
        '#include "schema/registry.h"',
        "",
    ]
    seen, total = {}, 0
    for table, names, where in tables:
        lines.append(f"/* {table} */")
        if "." not in table:
            lines.append(f'#define OB_TABLE_{table.upper()} "{table}"')
        for i, col in enumerate(names):
            name = macro(table, col)
            if name in seen:
                fail(where, f"handle {name} would name both {seen[name]} and {table}.{col}")
            seen[name] = f"{table}.{col}"
            lines.append(f'#define {name} OB_COLH("{table}", {i}, "{col}")')
            total += 1
    lines += ["", "/* Every handle, for the start-up check: X(table, index, name). */",
              "#define OB_GEN_COLUMNS(X) \\"]
    for table, names, _ in tables:
        for i, col in enumerate(names):
            lines.append(f'    X("{table}", {i}, "{col}") \\')
    lines += ["", f"#define OB_GEN_COLUMN_COUNT {total}", "", "#endif", ""]
    return "\n".join(lines)


def area_order(area, resources):
    """The area's (table, symbol) list in creation order: LEGACY_ORDER first,
    then the rest as read (files by name, declarations in order)."""
    legacy = LEGACY_ORDER.get(area, [])
    by_table = dict(resources)
    for t in legacy:
        if t not in by_table:
            fail(f"src/domain/{area}", f"LEGACY_ORDER names {t}, which the area no longer declares: "
                 "remove it from the list")
    return [(t, by_table[t]) for t in legacy] + [r for r in resources if r[0] not in legacy]


def render_resources(ordered):
    lines = [
        "/* resources.h - every declared table, in creation order, generated by",
        " * scripts/gen-columns.py from the declarations in src/domain; do not edit.",
        " * Areas in the script's AREAS order; within an area its files by name and",
        " * each file's declarations in order (older tables of some areas first, as",
        " * the script's LEGACY_ORDER keeps them). Define OB_RESOURCE first. */",
    ]
    area = None
    for a, _, sym in ordered:
        if a != area:
            lines.append(f"/* {a} */")
            area = a
        lines.append(f"OB_RESOURCE({sym})")
    return "\n".join(lines) + "\n"


def write_if_changed(out, text):
    try:
        if open(out, encoding="utf-8").read() == text:
            return
    except OSError:
        pass
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    tmp = out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, out)


def main():
    if len(sys.argv) != 3:
        fail("usage", "gen-columns.py OUT SRC_DIR")
    out, src = sys.argv[1], sys.argv[2]
    domain = os.path.join(src, "domain")
    found = sorted(d for d in os.listdir(domain) if os.path.isdir(os.path.join(domain, d)))
    for d in found:
        if d not in AREAS:
            fail(os.path.join(domain, d), "an area missing from AREAS in scripts/gen-columns.py")
    tables, resources = [], {}
    for area in found:
        resources[area] = []
        for dirpath, dirs, files in os.walk(os.path.join(domain, area)):
            dirs.sort()
            for f in sorted(files):
                if f.endswith(".c"):
                    read_area_file(os.path.join(dirpath, f), tables, resources[area])
    ordered = []
    for area in AREAS:
        if area not in found:
            fail(os.path.join(domain, area), "an area of AREAS that does not exist")
        ordered += [(area, t, sym) for t, sym in area_order(area, resources[area])]
    if not tables:
        fail(src, "no table declarations found")
    write_if_changed(out, render(tables))
    write_if_changed(os.path.join(os.path.dirname(out), "resources.h"), render_resources(ordered))
    return 0


if __name__ == "__main__":
    sys.exit(main())
