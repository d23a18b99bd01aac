"""Rows and refusals synthesized from `opsbase schema --json` alone.

test_generic.py drives every tenant table with an API through these helpers:
`Factory.body()` fills a table's required columns from their declared types and
bounds (references made first, recursively, and cached), `refusals()` derives
one request per declared constraint kind that the server must refuse.

EXTRAS is the short list of what a table's domain hooks need beyond its
declaration; every entry marks a declaration that does not tell the whole story.
"""
import datetime
import decimal
import json
import os
import subprocess
from pathlib import Path

import helpers as h

REPO_ROOT = Path(__file__).resolve().parents[2]
TODAY = datetime.date.today()
NOW = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def load_schema():
    """{table name: declaration} of the binary under test; {} when it cannot run
    (the session fixtures then report the missing binary)."""
    binary = os.environ.get("OPSBASE_BIN") or str(REPO_ROOT / "build" / "opsbase")
    try:
        out = subprocess.run([binary, "schema", "--json"], capture_output=True, text=True,
                             timeout=h.CLI_TIMEOUT, check=True, stdin=subprocess.DEVNULL).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    return {t["name"]: t for t in json.loads(out)["tables"]}


SCHEMA = load_schema()
API_TABLES = sorted(n for n, t in SCHEMA.items() if t["api"] and t["database"] == "tenant")


def col(table, name):
    return next(c for c in SCHEMA[table]["columns"] if c["name"] == name)


def is_append_only(table):
    """Append-only tables have no updated_at/version (docs/api.md, Generic resources)."""
    names = {c["name"] for c in SCHEMA[table]["columns"]}
    return "version" not in names


def writable(c):
    """A column a client may send on create."""
    return not (c.get("server_set") or c.get("implicit"))


def required(c):
    """A column the create body must carry."""
    return (writable(c) and not c["nullable"] and "default" not in c
            and not c.get("server_default"))


# What the declarations do not say but the tables' hooks need. Keep it short:
# each entry is a gap in a declaration (see the test report).
EXTRAS = {
    # order_id is declared "taken from the shipment when not given", but a
    # shipment made from its declaration alone (air_cargo) has no order
    "ndr_records": {"order_id": lambda f: f.ref("orders")},
    # service_center (text) is "taken from service_center_id when not given";
    # the declaration cannot say that one of the two is required
    "queue_numbers": {"service_center_id": lambda f: f.ref("service_centers")},
    # event_type is "taken from event_type_id when not given": one of the two
    "analytics_events": {"event_type_id": lambda f: f.ref("event_types")},
    # a hook requires debit or credit above 0; both columns declare min 0 only
    "accounting_entries": {"debit": "1.00", "journal_id": lambda f: f.ref("journals")},
    # a cron spec and a kind the workers know are checked by hooks, not types
    "schedules": {"cron": "0 0 * * *", "kind": "system.sleep"},
    # a public target (an address: no DNS needed), known events, a long secret
    "webhook_subscriptions": {"url": "https://93.184.215.14/hook", "events": ["*"],
                              "secret": "generic-secret-0123456789"},
    # the same for a ONE Record subscriber, following every shipment
    "one_record_subscriptions": {"callback_url": "https://93.184.215.14/one-record",
                                 "secret": "generic-secret-0123456789", "topic": "cargo:Shipment"},
    # an API key's scopes are permission codes its creator holds (a hook)
    "api_keys": {"scopes": ["customers.view"]},
    # weekday hours are checked by a hook: a JSON object alone is not a week
    "business_calendars": {"hours": {"mon": [["09:00", "17:00"]]}},
    # a widget's config and a report's are checked against what they name (issue #16)
    "dashboard_widgets": {"widget_type": "metric", "widget_config": {"kpi": "daily_sales"}},
    "custom_reports": {"report_config": {"source": "invoices", "measures": [{"fn": "count"}]}},
    # a rule's trigger and actions have one checked shape (issue #16)
    "automation_rules": {"trigger_conditions": {"event": "inventory.low"}, "actions": [{"type": "reorder"}]},
}

# What a state machine's guards need before its events can run, done to a
# freshly made row: an invoice is issued with a line, a journal posted with
# balanced lines (issue #16).
def _invoice_line(owner, row):
    h.create(owner, "invoice_items", {"invoice_id": row["id"], "description": "line", "unit_price": "1.00"})


def _balanced_lines(owner, row):
    for side in ("debit", "credit"):
        h.create(owner, "accounting_entries", {"journal_id": row["id"], "account_code": "1", side: "1.00"})


PREPARE = {"invoices": _invoice_line, "journals": _balanced_lines}

# Members a create answers once beside the row, which no read shows again (a
# hook's ctx->reveal): an API key.
REVEALED_ON_CREATE = {"api_keys": ("key",)}

# Tables that hold one row per tenant, made when the tenant is provisioned,
# where the declaration does not say so (security_settings does: its unique
# server-set scope has a single value). POST is 409 conflict.
ONE_ROW = {"company_settings"}


def is_singleton(table):
    if table in ONE_ROW:
        return True
    return any(c.get("unique") and c.get("server_set") and len(c.get("values") or ()) == 1
               for c in SCHEMA[table]["columns"])


# ---------------------------------------------------------------- values

def int_value(c):
    lo, hi = c.get("min"), c.get("max")
    v = 1
    if lo is not None and (v < lo or (v == lo and c.get("min_exclusive"))):
        v = lo + 1 if c.get("min_exclusive") else lo
    if hi is not None and v > hi:
        v = hi
    return int(v)


def dec_str(value, scale):
    q = decimal.Decimal(1).scaleb(-(scale or 0))
    return str(decimal.Decimal(str(value)).quantize(q))


def value_for(c, salt):
    """A valid value of column c; text values carry salt so unique columns differ."""
    t = c["type"]
    if t == "text":
        n = c.get("max_length") or 40
        v = f"g{salt}"
        return v[-n:] if len(v) > n else v
    if t == "integer":
        return int_value(c)
    if t == "decimal":
        return dec_str(int_value(c), c.get("scale", 2))
    if t == "real":
        return float(int_value(c))
    if t == "boolean":
        return False
    if t == "timestamp":
        return h.fmt_ts(NOW)
    if t == "date":
        return TODAY.isoformat()
    if t == "json":
        return {}
    if t == "enum":
        return c["values"][0]
    raise AssertionError(f"no value for {t} column {c['name']}")


def same(sent, got, c):
    """Whether the stored value is what was sent, as the API normalizes it."""
    t = c["type"]
    if sent is None:
        return got is None
    if t == "decimal":
        return got is not None and decimal.Decimal(str(got)) == decimal.Decimal(str(sent))
    if t == "real":
        return got is not None and float(got) == float(sent)
    if t == "enum":
        return isinstance(got, str) and got == str(sent).lower()
    if t == "timestamp":
        return got is not None and h.parse_ts(got) == h.parse_ts(sent)
    return got == sent


# ---------------------------------------------------------------- rows

class Factory:
    """Makes rows of any table for one client; rows made only to be referenced
    are cached per table."""

    def __init__(self, client):
        self.c = client
        self.cache = {}
        self.used = {}
        self.spare = {}
        self.counts = {}
        self.n = 0
        self.writes = 0     # rows this factory asked for; any may have side effects
        self.seen = {}      # table -> (writes, ids) as last listed

    def salt(self, key=None):
        """A unique string whose tail is a counter per key (a column), so
        that even a two-character unique column does not repeat."""
        self.n += 1
        k = self.counts[key] = self.counts.get(key, 0) + 1
        tail = ""
        while True:
            k, d = divmod(k, 36)
            tail = "0123456789abcdefghijklmnopqrstuvwxyz"[d] + tail
            if not k:
                break
        return h.uniq("")[:8] + tail

    def ref(self, table):
        """The id of a row of table that other rows may point at (of a
        read-only table, one the server made)."""
        if table not in self.cache and SCHEMA[table]["read_only"]:
            rows = h.page(self.c, table, {"limit": "1"})["data"]
            assert rows, f"no {table} row to refer to"
            self.cache[table] = rows[0]
        if table not in self.cache:
            self.cache[table] = self.make(table)
        return self.cache[table]["id"]

    def fresh(self, table):
        """The id of a row of table no other row made here points at."""
        if not SCHEMA[table]["read_only"]:
            return self.make(table)["id"]
        used = self.used.setdefault(table, set())
        for row in h.list_all(self.c, table):
            if row["id"] not in used:
                used.add(row["id"])
                return row["id"]
        raise AssertionError(f"every {table} row is used")

    def unique_ref_cols(self, table):
        """Unique columns and those of a unique index: a reference among them
        needs its own target for each new row."""
        cols = {c["name"] for c in SCHEMA[table]["columns"] if c.get("unique")}
        for ix in SCHEMA[table]["indexes"]:
            if ix["unique"]:
                cols.update(ix["columns"].split(","))
        return cols

    def body(self, table, refused=False):
        """A create body with every required column (and both sides of every
        check) filled from the declaration, plus EXTRAS. A body meant to be
        refused takes the same spare targets for its unique references every
        time: a refused request writes nothing, so they stay unused."""
        decl = SCHEMA[table]
        extra = EXTRAS.get(table, {})
        fresh = self.unique_ref_cols(table)
        need = {c["name"] for c in decl["columns"] if required(c)}
        # a record made from an upload names its file (the engine requires it)
        if decl.get("copy", {}).get("required"):
            need.add(decl["copy"]["reference"])
        for chk in decl.get("checks", []):
            need.update(n for n in (chk["left"], chk["right"]) if writable(col(table, n)))
        out = {}
        for c in decl["columns"]:
            name = c["name"]
            if name not in need or name in extra:
                continue
            if c["type"] == "reference" and name in fresh and refused:
                if (table, name) not in self.spare:
                    self.spare[(table, name)] = self.fresh(c["references"])
                out[name] = self.spare[(table, name)]
            elif c["type"] == "reference":
                out[name] = self.fresh(c["references"]) if name in fresh else self.ref(c["references"])
            else:
                out[name] = value_for(c, self.salt((table, name)))
        for chk in decl.get("checks", []):
            # a side the client cannot send holds its default: meet it there
            left, right = col(table, chk["left"]), col(table, chk["right"])
            if chk["op"] != "<>" and writable(left) != writable(right):
                if writable(left):
                    out[left["name"]] = _parse_default(right)
                else:
                    out[right["name"]] = _parse_default(left)
        for chk in decl.get("checks", []):
            if chk["op"] == "<>" and out.get(chk["left"]) == out.get(chk["right"]):
                c = col(table, chk["left"])
                if c["type"] == "reference":
                    out[chk["left"]] = self.fresh(c["references"])
                else:
                    out[chk["left"]] = value_for(c, self.salt((table, chk["left"])))
        for k, v in extra.items():
            out[k] = v(self) if callable(v) else v
        return out

    def make(self, table, **fields):
        if SCHEMA[table].get("upload"):
            # rows of upload tables are made by uploading content: a small unique PDF
            self.writes += 1
            content = b"%PDF-1.4\n" + self.salt(table).encode() + b"\n%%EOF\n"
            return h.ok(self.c.post(f"/api/v1/{table}", files={"file": ("f.pdf", content, "application/pdf")},
                                    data={k: str(v) for k, v in fields.items()}), 201)
        body = self.body(table)
        body.update(fields)
        self.writes += 1
        row = h.create(self.c, table, body)
        for k in REVEALED_ON_CREATE.get(table, ()):
            row.pop(k)  # shown once, never read back
        return row

    def ids(self, table, fresh=False):
        """The ids of table's rows; listed again only when a row was made since
        the last listing (a refused request must leave the listing as it was)."""
        last = self.seen.get(table)
        if fresh or not last or last[0] != self.writes:
            last = (self.writes, {r["id"] for r in h.list_all(self.c, table)})
            self.seen[table] = last
        return last[1]


# ---------------------------------------------------------------- refusals

BAD_ENUM = "no_such_value_zz"
# A value of the wrong JSON type (or an unreadable one) for each column type.
WRONG_TYPE = {"integer": "1", "decimal": "abc", "real": "abc", "boolean": "yes", "date": "2026-13-45",
              "timestamp": "yesterday", "reference": 17}


def _pick(cols, n=1):
    """Prefer required columns, then declaration order."""
    return sorted(cols, key=lambda c: not required(c))[:n]


def _too_small(c):
    lo = c["min"]
    if c.get("min_exclusive"):
        v = lo
    elif c["type"] == "integer":
        v = lo - 1
    else:
        v = decimal.Decimal(str(lo)) - decimal.Decimal(1).scaleb(-c.get("scale", 2))
    if c["type"] == "integer":
        return int(v)
    if c["type"] == "decimal":
        return dec_str(v, c.get("scale", 2))
    return float(v)


def _too_big(c):
    hi = c["max"]
    if c["type"] == "integer":
        return int(hi) + 1
    if c["type"] == "decimal":
        return dec_str(decimal.Decimal(str(hi)) + decimal.Decimal(1).scaleb(-c.get("scale", 2)),
                       c.get("scale", 2))
    return float(hi) + 1


def _violate(c_left, left_val, right_val, op):
    """A left value that breaks `left op right`, given a valid pair."""
    if op == "<>":
        return right_val
    t = c_left["type"]
    step = -1 if op == ">=" or op == ">" else 1
    if t == "date":
        return (datetime.date.fromisoformat(right_val) + datetime.timedelta(days=step)).isoformat()
    if t == "timestamp":
        return h.fmt_ts(h.parse_ts(right_val) + datetime.timedelta(hours=step))
    if t == "integer":
        return int(right_val) + step
    if t == "decimal":
        return dec_str(decimal.Decimal(str(right_val)) + step, c_left.get("scale", 2))
    if t == "real":
        return float(right_val) + step
    raise AssertionError(f"cannot violate {op} on {t}")


def _parse_default(c):
    """The declared default of a column the client cannot send."""
    d = c["default"]
    return int(d) if c["type"] == "integer" else d


def refusal_kinds(table):
    """[(kind, detail)] of the constraints the table declares, one or two
    representative columns per kind."""
    decl = SCHEMA[table]
    cols = [c for c in decl["columns"] if writable(c)]
    extra = EXTRAS.get(table, {})
    out = []
    for c in _pick([c for c in cols if required(c) and c["name"] not in extra], 2):
        out.append(("required", c["name"]))
    for c in _pick([c for c in cols if c["type"] == "text" and c.get("max_length")]):
        out.append(("too_long", c["name"]))
    for c in _pick([c for c in cols if c["type"] == "text" and required(c) and c["name"] not in extra]):
        out.append(("empty", c["name"]))
    for c in _pick([c for c in cols if c["type"] in ("integer", "decimal", "real") and "min" in c]):
        out.append(("below_min", c["name"]))
    for c in _pick([c for c in cols if c["type"] in ("integer", "decimal", "real") and "max" in c]):
        out.append(("above_max", c["name"]))
    for c in _pick([c for c in cols if c["type"] == "decimal" and c.get("scale") is not None]):
        out.append(("bad_scale", c["name"]))
    for c in _pick([c for c in cols if c["type"] in WRONG_TYPE]):
        out.append(("wrong_type", c["name"]))
    for c in _pick([c for c in cols if c["type"] == "enum"]):
        out.append(("bad_enum", c["name"]))
    for c in _pick([c for c in cols if c.get("unique")]):
        out.append(("unique", c["name"]))
    for ix in decl["indexes"]:
        # partial indexes (with a where clause) are left to the tables' own tests
        # a dedupe index answers a repeat with the stored row (test_cargo_milestones.py)
        if ix["unique"] and not ix.get("where") and ix["columns"] != decl.get("dedupe"):
            out.append(("unique_index", ix["columns"]))
    for c in _pick([c for c in cols if c["type"] == "reference" and c["name"] not in extra], 2):
        out.append(("missing_ref", c["name"]))
    for chk in decl.get("checks", []):
        # a check over server-set columns (ledger balances) is the server's to keep
        if all(writable(col(table, chk[k])) for k in ("left", "right")):
            out.append(("check", chk["name"]))
    # secret columns are not shown to clients at all: naming one is unknown_field
    server = [c for c in decl["columns"]
              if c.get("server_set") and not c.get("implicit") and not c.get("secret")]
    out.append(("readonly", (server[0] if server else col(table, "created_at"))["name"]))
    out.append(("unknown", "no_such_field_zz"))
    return out


def refusal(f, table, kind, detail):
    """(body, status, code, field) for one refusal; f is a Factory."""
    body = f.body(table, refused=True)
    if kind == "required":
        body.pop(detail, None)
        return body, 400, "validation_failed", detail
    if kind == "empty":
        body[detail] = ""
        return body, 400, "validation_failed", detail
    if kind == "unknown":
        body[detail] = "x"
        return body, 400, "unknown_field", detail
    c = col(table, detail) if kind != "check" else None
    if kind == "too_long":
        body[detail] = "x" * (c["max_length"] + 1)
        return body, 400, "validation_failed", detail
    if kind == "below_min":
        body[detail] = _too_small(c)
        return body, 400, "validation_failed", detail
    if kind == "above_max":
        body[detail] = _too_big(c)
        return body, 400, "validation_failed", detail
    if kind == "bad_scale":
        # in bounds, one fraction digit too many: min + 0.001 for scale 2
        body[detail] = f"{int(c.get('min', 0))}." + "0" * c["scale"] + "1"
        return body, 400, "validation_failed", detail
    if kind == "wrong_type":
        body[detail] = WRONG_TYPE[c["type"]]
        return body, 400, "validation_failed", detail
    if kind == "bad_enum":
        body[detail] = BAD_ENUM
        return body, 400, "validation_failed", detail
    if kind == "missing_ref":
        body[detail] = h.MISSING_ID
        return body, 422, "unprocessable", detail
    if kind == "readonly":
        body[detail] = value_for(c, f.salt()) if c["type"] != "reference" else f.ref(c["references"])
        return body, 400, "readonly_field", detail
    if kind == "check":
        chk = next(k for k in SCHEMA[table]["checks"] if k["name"] == detail)
        left, right = col(table, chk["left"]), col(table, chk["right"])
        rval = body[chk["right"]] if writable(right) else _parse_default(right)
        body[chk["left"]] = _violate(left, body.get(chk["left"]), rval, chk["op"])
        return body, 400, "validation_failed", None
    raise AssertionError(kind)
