#!/usr/bin/env python3
"""Writes docs/schema.md from `opsbase schema --json` (the live registry), so the
document cannot drift from the code. Usage: schema-doc.py OPSBASE_BIN [--stdout]"""
import json, os, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def type_text(c):
    t = c["type"]
    if t == "text":
        return f"text({c['max_length']})"
    if t == "decimal":
        return f"decimal(scale {c['scale']})"
    if t == "enum":
        return "enum: " + ", ".join(c["values"])
    if t == "json" and "values" in c:
        return "json array of distinct: " + ", ".join(c["values"])
    if t == "reference":
        return f"→ {c['references']} (on delete {c['on_delete'].replace('_', ' ')})"
    return t


def constraints(c):
    out = []
    if not c["nullable"]:
        out.append("not null")
    if c.get("unique"):
        out.append("unique")
    if "min" in c:
        out.append(("> " if c.get("min_exclusive") else ">= ") + str(c["min"]))
    if "max" in c:
        out.append("<= " + str(c["max"]))
    if "default" in c:
        out.append(f"default `{c['default']}`")
    if "number_prefix" in c:
        out.append(f"numbered {c['number_prefix']}-000001, ... by the server")
    if "stamp" in c:
        who = "the acting user" if c["stamp"] == "actor" else "the time"
        out.append(f"stamped with {who} " + (f"on entering {c['stamp_on'].replace(',', ', ')}" if c.get("stamp_on") else "on create"))
        if c.get("clear_on"):
            out.append(f"cleared on entering {c['clear_on'].replace(',', ', ')}")
    if "row_image_of" in c:
        out.append(f"row image of the table named in `{c['row_image_of']}`")
    if "pattern" in c:
        out.append(f"matches `{c['pattern']}`")
    if "generated_as" in c:
        out.append(f"generated as `{c['generated_as']}`")
    if "server_set_when" in c:
        out.append(f"server-set on rows with `{c['server_set_when']}`")
    for flag, word in (("indexed", "indexed"), ("searchable", "full-text"), ("sortable", "sortable"),
                       ("server_set", "server-set"), ("immutable", "immutable"), ("secret", "secret"), ("encrypted", "sealed at rest"),
                       ("masked", "masked"), ("personal", "personal data"), ("server_default", "filled by the server when absent"),
                       ("staff_only", "staff only"), ("customer_writable", "customer-writable")):
        if c.get(flag):
            out.append(word)
    return ", ".join(out)


def render(schema):
    lines = ["# Schema", "",
             f"Generated from the registry by `scripts/schema-doc.py` (schema version {schema['version']}).",
             "Every table also has the columns the engine adds (shown first). Money and other exact",
             "quantities are decimals, timestamps RFC 3339 UTC with milliseconds.", ""]
    for db in ("control", "tenant"):
        lines += [f"## {'Control database (platform)' if db == 'control' else 'Tenant databases'}", ""]
        for t in schema["tables"]:
            if t["database"] != db:
                continue
            flags = [w for k, w in (("read_only", "read-only API"), ("soft_delete", "soft delete")) if t.get(k)]
            if not t.get("api"):
                flags.append("no API")
            head = f"### {t['name']}"
            lines += [head, "", (t.get("doc") or "") + (f" ({'; '.join(flags)})" if flags else ""), ""]
            if t.get("customer_scope"):
                lines += [f"Customer users see rows through `{t['customer_scope']}`.", ""]
            if t.get("customer_rows"):
                lines += ["Customer users see only rows where " + " and ".join(
                    f"`{r['column']}` = {r['equals']}" for r in t["customer_rows"]) + ".", ""]
            lines += ["| column | type | constraints | notes |", "|---|---|---|---|"]
            for c in t["columns"]:
                doc = (c.get("doc") or "").replace("|", "\\|")
                typ = type_text(c).replace("|", "\\|")
                cons = constraints(c).replace("|", "\\|")
                lines.append(f"| {c['name']} | {typ} | {cons} | {doc} |")
            if t.get("indexes"):
                lines += ["", "Indexes: " + "; ".join(
                    ("unique " if i["unique"] else "") + f"({i['columns']})" + (f" where {i['where']}" if i.get("where") else "")
                    + (" (not made: another index leads with these columns)" if i.get("covered") else "")
                    for i in t["indexes"])]
            if t.get("checks"):
                lines += ["", "Checks: " + "; ".join(f"{k['name']}: {k['left']} {k['op']} {k['right']}"
                                                     for k in t["checks"])]
            for a in t.get("actions", []):
                fields = ", ".join(f"`{c['name']}` ({type_text(c)}" + (", required" if not c["nullable"] else "") + ")"
                                   for c in a["input"]) or "no fields"
                lines += ["", f"Action `{a['verb']}` ({a['permission']}): {a.get('doc', '')}; takes {fields}."]
            if t.get("ledger"):
                lg = t["ledger"]
                moves = "; ".join((f"{m['when']}: " if m.get("when") else "") +
                                  f"{m['balance']} {'+' if m['sign'] > 0 else '-'}= {lg['amount']}" for m in lg["moves"])
                lines += ["", f"Ledger: each entry moves the `{lg['parent']}` row's balances ({moves}) within the "
                              f"bounds {', '.join(lg['bounds'])}; otherwise 409 {lg['refusal']}."]
            if t.get("quota"):
                lines += ["", f"Plan quota: creations per calendar month are bounded by the tenant's "
                              f"`{t['quota']['limit']}` (403 plan_limit_reached past it; deleting gives no slot back)."]
            if t.get("retention"):
                rt = t["retention"]
                lines += ["", f"Retention: rows older than {rt['days']} days by `{rt['age_column']}`"
                              + (f" where {rt['when']}" if rt.get("when") else "")
                              + " are archived and removed (`opsbase archive run`)"
                              + (f"; legal holds per customer through `{rt['customer_column']}`" if rt.get("customer_column") else "")
                              + (f" ({rt['source']})" if rt.get("source") else "") + "."]
            if t.get("state_machine"):
                sm = t["state_machine"]
                lines += ["", f"State machine on `{sm['column']}`: " + "; ".join(
                    f"{tr['event']}: {tr['from']} → {tr['to']} ({tr['permission']}"
                    + (f"; takes {tr['fields'].replace(',', ', ')}" if tr.get("fields") else "") + ")"
                    for tr in sm["transitions"])]
            if t.get("events"):
                lines += ["", "Events (webhooks): " + ", ".join(f"`{e}`" for e in t["events"]) + "."]
            lines.append("")
    return "\n".join(lines) + "\n"


def main():
    bin_ = sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].startswith("--") else os.path.join(ROOT, "build", "opsbase")
    schema = json.loads(subprocess.check_output([bin_, "schema", "--json"], text=True))
    text = render(schema)
    if "--stdout" in sys.argv:
        sys.stdout.write(text)
    else:
        with open(os.path.join(ROOT, "docs", "schema.md"), "w", encoding="utf-8") as fh:
            fh.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
