"""Schema version 9 made SQLite's full text one table per database (ob_fts)
instead of one FTS5 table per searchable table: a tenant file made at version
8, with rows in several searchable tables, finds the same rows by q= after
`opsbase migrate`, and the new table keeps up with writes afterwards. The
version-8 layout is written back by hand here (the old DDL text, the old
tables filled by FTS5's own 'rebuild'), as test_enum_widening does for its
CHECKs. On PostgreSQL version 9 changes nothing (its GIN indexes stay): the
same searches give the same rows after version 9 is applied again. Schema
version 11 made PostgreSQL's full text a stored tsvector column with a GIN
index (SQLite: no change): a tenant put back to version 10's expression index
finds the same rows after the upgrade. Also: q= words with FTS5 syntax in them
are matched as words, never as syntax. (test_migrations.py runs on SQLite
files only, so the upgrades of both engines are tested here.)"""
import json
import sqlite3
import subprocess

import helpers as h

OLD_VERSION = 8


def _ids(rows):
    return sorted(r["id"] for r in rows)


def _searchable(cli):
    schema = json.loads(cli.run("schema", "--json", data=False).stdout)
    return {t["name"]: [c["name"] for c in t["columns"] if c.get("searchable")]
            for t in schema["tables"] if t["database"] == "tenant" and any(c.get("searchable") for c in t["columns"])}


def _to_version_8(path, searchable):
    """The full-text layout of schema version 8: <t>_fts external-content
    tables, their three triggers, no ob_fts."""
    db = sqlite3.connect(path)
    try:
        names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%_fts_a_'")]
        for n in names:
            db.execute(f'DROP TRIGGER "{n}"')
        db.execute("DROP TABLE ob_fts")
        for t, cols in searchable.items():
            c = ", ".join(f'"{x}"' for x in cols)
            new = ", ".join(f'new."{x}"' for x in cols)
            old = ", ".join(f'old."{x}"' for x in cols)
            db.executescript(
                f'CREATE VIRTUAL TABLE "{t}_fts" USING fts5({c}, content=\'{t}\', content_rowid=\'rowid\', '
                f"tokenize='unicode61 remove_diacritics 2');\n"
                f'CREATE TRIGGER "{t}_fts_ai" AFTER INSERT ON "{t}" BEGIN '
                f'INSERT INTO "{t}_fts"(rowid, {c}) VALUES (new.rowid, {new}); END;\n'
                f'CREATE TRIGGER "{t}_fts_ad" AFTER DELETE ON "{t}" BEGIN '
                f'INSERT INTO "{t}_fts"("{t}_fts", rowid, {c}) VALUES (\'delete\', old.rowid, {old}); END;\n'
                f'CREATE TRIGGER "{t}_fts_au" AFTER UPDATE ON "{t}" BEGIN '
                f'INSERT INTO "{t}_fts"("{t}_fts", rowid, {c}) VALUES (\'delete\', old.rowid, {old}); '
                f'INSERT INTO "{t}_fts"(rowid, {c}) VALUES (new.rowid, {new}); END;\n'
                f'INSERT INTO "{t}_fts"("{t}_fts") VALUES (\'rebuild\');\n')
        db.execute("DELETE FROM schema_migrations WHERE version > ?", (OLD_VERSION,))
        db.execute(f"PRAGMA user_version = {OLD_VERSION}")
        db.commit()
    finally:
        db.close()


def _layout(path):
    with h.sqlite_db(path) as db:
        fts = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '%fts%'")]
        version = db.execute("SELECT MAX(version) FROM schema_migrations").fetchone()[0]
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    return sorted(fts), version


def test_a_version_8_file_finds_the_same_rows_after_the_upgrade(server, cli, new_tenant):
    t = new_tenant()
    c = t.owner
    want = json.loads(cli.run("schema", "--json", data=False).stdout)["version"]
    assert want > OLD_VERSION
    w, shared = h.word(), h.word()
    cust = [h.create_customer(c, company_name=f"Acme {w} {i}", notes=f"{shared} notes") for i in range(3)]
    h.create_customer(c, company_name="Acme without the word")
    docs = [h.create_document(c, title=f"Guide {w}", content=f"body {shared} {i}") for i in range(4)]
    tick = [h.create_ticket(c, cust[0]["id"], description=f"broken {w} {shared}")]
    cats = [h.create_category(c, name=f"Cat {w}")]
    tables = {"customers": cust, "documents": docs, "tickets": tick, "categories": cats}
    probes = [w, shared, f"{w} {shared}", w.upper(), "Acme"]

    def searches():
        return {(tb, q): _ids(h.list_all(c, tb, {"q": q}, limit=2)) for tb in tables for q in probes}

    before = searches()
    assert before[("customers", w)] == _ids(cust)
    assert before[("documents", f"{w} {shared}")] == _ids(docs)
    assert before[("tickets", shared)] == _ids(tick)
    assert before[("customers", shared)] == _ids(cust)
    assert before[("categories", w)] == _ids(cats)
    assert before[("documents", "Acme")] == []

    path = server.data / "tenants" / f"{t.slug}.db" if not server.db_url else None
    if path:
        searchable = _searchable(cli)
        assert len(searchable) >= 40
        _to_version_8(path, searchable)
        fts, version = _layout(path)
        assert version == OLD_VERSION and "ob_fts" not in fts and "customers_fts" in fts
    else:
        h.tenant_sql(server, t.slug, f"DELETE FROM schema_migrations WHERE version > {OLD_VERSION}")

    out = cli.run("migrate").stdout
    assert f"schema version {want}" in out
    if path:
        fts, version = _layout(path)
        assert version == want
        # the one table and its shadow tables, nothing of the old layout
        assert fts == ["ob_fts", "ob_fts_config", "ob_fts_data", "ob_fts_idx"], fts
        with h.sqlite_db(path) as db:
            triggers = db.execute("SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND "
                                  "sql LIKE '%ob_fts%'").fetchone()[0]
            assert triggers == 3 * len(searchable)
            # version 10 on the way: audit_logs' sequence is unique (test_index_fix.py)
            seq = [r for r in db.execute("PRAGMA index_list(audit_logs)") if r[1] == "ix_audit_logs_seq"]
            assert len(seq) == 1 and seq[0][2] == 1
    assert searches() == before

    # the migrated table follows creates, updates and deletes
    extra = h.create_document(c, title=f"Late {w}")
    assert _ids(h.list_all(c, "documents", {"q": w})) == _ids(docs + [extra])
    h.ok(c.patch(f"/api/v1/documents/{docs[0]['id']}", json={"title": "Renamed"}))
    assert _ids(h.list_all(c, "documents", {"q": w})) == _ids(docs[1:] + [extra])
    assert _ids(h.list_all(c, "documents", {"q": "renamed"})) == [docs[0]["id"]]
    assert c.delete(f"/api/v1/documents/{extra['id']}").status_code in (200, 204)
    assert _ids(h.list_all(c, "documents", {"q": w})) == _ids(docs[1:])
    # other tables' rows never leak into a table's results (one table, rowid ranges)
    assert h.list_all(c, "categories", {"q": shared}) == []


def test_search_words_are_never_fts_syntax(new_tenant):
    """Each word of q= is one quoted term, all of them required: quotes, *,
    -, NEAR, OR, parentheses and column-like words are matched as text (or
    find nothing), never parsed, and never fail the request."""
    t = new_tenant()
    c = t.owner
    w = h.word()
    d1 = h.create_document(c, title=f"{w} alpha", content="title:x near(beta) said \"hi\"")
    d2 = h.create_document(c, title=f"{w} gamma", content="c0:delta")
    both = sorted([d1["id"], d2["id"]])
    for q, want in [
        (w, both),
        (f"{w} alpha", [d1["id"]]),
        (f"{w} OR gamma", []),            # OR is a word, absent from both
        (f"{w} NEAR alpha", [d1["id"]]),  # near is a word of d1's content
        (f"{w} NEAR gamma", []),
        (f"{w} -alpha", [d1["id"]]),      # "-alpha" is the term alpha, not a negation
        (f"{w}*", both),                  # * is no operator: the word itself
        (f"{w[:6]}*", []),                # and no prefix query
        (f'"{w}" "alpha', [d1["id"]]),
        ('title:x', [d1["id"]]),          # the phrase "title x", not a column filter
        ('c0:delta', [d2["id"]]),         # the internal column names are no filter either
        ('near(beta)', [d1["id"]]),
        (f'{w} ("', both),
        ('content:delta', []),
        (')(*', []),
    ]:
        r = c.get("/api/v1/documents", params={"q": q})
        assert r.status_code == 200, (q, r.status_code, r.text)
        assert sorted(x["id"] for x in r.json()["data"]) == want, q


TSV_VERSION = 11  # PostgreSQL's full text became a stored tsvector column (ddl.c pg_tsv_def)


def _pg_rows(server, slug, sql):
    schema = "tenant_" + slug.replace("-", "_")
    r = subprocess.run(["psql", server.db_url, "-v", "ON_ERROR_STOP=1", "-Atc", f'SET search_path TO "{schema}"; {sql}'],
                       check=True, capture_output=True, text=True)
    return [line for line in r.stdout.splitlines() if line and line != "SET"]


def _to_version_10(server, slug, searchable):
    """PostgreSQL's full text before version 11: an expression GIN index, no
    tsvector column. SQLite: version 11 changed nothing, only the record."""
    if server.db_url:
        ddl = []
        for t, cols in searchable.items():
            expr = " || ' ' || ".join(f"coalesce(\"{c}\", '')" for c in cols)
            ddl.append(f'DROP INDEX "ix_{t}_fts"; ALTER TABLE "{t}" DROP COLUMN ob_tsv; '
                       f'CREATE INDEX "ix_{t}_fts" ON "{t}" USING GIN (to_tsvector(\'simple\', {expr}));')
        h.tenant_sql(server, slug, " ".join(ddl) + f" DELETE FROM schema_migrations WHERE version >= {TSV_VERSION};")
    else:
        with h.sqlite_db(server.data / "tenants" / f"{slug}.db") as c:
            c.execute("DELETE FROM schema_migrations WHERE version >= ?", (TSV_VERSION,))
            c.execute(f"PRAGMA user_version = {TSV_VERSION - 1}")
            c.commit()


def _tsv_layout(server, slug):
    """{table: (has the ob_tsv column, what its ix_<t>_fts index indexes)} on PostgreSQL."""
    cols = set(_pg_rows(server, slug, "SELECT table_name FROM information_schema.columns WHERE "
                                      "table_schema = current_schema() AND column_name = 'ob_tsv'"))
    idx = dict(r.split("|", 1) for r in _pg_rows(server, slug, "SELECT tablename, indexdef FROM pg_indexes WHERE "
                                                                "schemaname = current_schema() AND indexname LIKE 'ix_%_fts'"))
    return {t: (t in cols, idx.get(t, "")) for t in set(cols) | set(idx)}


def test_version_11_upgrade_finds_the_same_rows(server, cli, new_tenant):
    """A tenant at version 10 (on PostgreSQL the expression GIN index, put back
    by hand) finds the same rows by q= after `opsbase migrate` to 11, which
    gives every searchable table the stored tsvector column and its GIN index;
    the column follows writes afterwards and never shows in a row."""
    want = json.loads(cli.run("schema", "--json", data=False).stdout)["version"]
    assert want >= TSV_VERSION
    t = new_tenant()
    c = t.owner
    w, shared = h.word(), h.word()
    cust = [h.create_customer(c, company_name=f"Acme {w} {i}", notes=f"{shared} notes") for i in range(5)]
    other = h.create_customer(c, company_name="Acme without the word")
    docs = [h.create_document(c, title=f"Guide {w}", content=f"body {shared} {i}") for i in range(3)]
    tables = {"customers": cust, "documents": docs}
    probes = [w, shared, f"{w} {shared}", w.upper(), "Acme", "nothing-matches-this"]

    def searches():
        # limit=2: every answer is read through its cursors
        return {(tb, q): [r["id"] for r in h.list_all(c, tb, {"q": q}, limit=2)] for tb in tables for q in probes}

    before = searches()
    assert sorted(before[("customers", w)]) == sorted(x["id"] for x in cust)
    # newest first, across pages
    assert before[("customers", "Acme")] == [other["id"]] + [x["id"] for x in reversed(cust)]
    assert sorted(before[("documents", f"{w} {shared}")]) == sorted(x["id"] for x in docs)

    searchable = _searchable(cli)
    _to_version_10(server, t.slug, searchable)
    if server.db_url:
        old = _tsv_layout(server, t.slug)
        assert len(old) == len(searchable) and all(not has and "to_tsvector" in d for has, d in old.values()), old
    out = cli.run("migrate").stdout
    assert f"schema version {want}" in out
    if server.db_url:
        new = _tsv_layout(server, t.slug)
        assert set(new) == set(searchable)
        assert all(has and d.endswith("USING gin (ob_tsv)") for has, d in new.values()), new
    assert searches() == before

    # the column follows creates and updates, and no row or export names it
    extra = h.create_customer(c, company_name=f"Late {w}")
    assert "ob_tsv" not in extra
    assert sorted(r["id"] for r in h.list_all(c, "customers", {"q": w})) == sorted(x["id"] for x in cust + [extra])
    h.ok(c.patch(f"/api/v1/customers/{cust[0]['id']}", json={"company_name": "Renamed"}))
    assert [r["id"] for r in h.list_all(c, "customers", {"q": "renamed"})] == [cust[0]["id"]]
    got = h.ok(c.get(f"/api/v1/customers/{cust[1]['id']}"))
    assert "ob_tsv" not in json.dumps(got)
