#!/usr/bin/python3
"""Many tenants quickly, for the start-up and memory cases: N copies of one
tenant made by `opsbase tenant create` (its SQLite file copied, its control rows
copied with a new id and slug). Creating 1,000 tenants through the command
takes 8 minutes on a quiet machine and over half an hour on a busy one (the
owner's password hash and the schema's DDL each time); a start only needs them
to exist. The copies share the template's rows, users and sessions; their
sealed values are sealed for the template's slug, so a request that opens one
fails on a copy. With --sign-in the owner's e-mail owner@TEMPLATE.test becomes
owner@SLUG.test in each copy, so a copy can be signed in to with the template's
owner password and serve rows without sealed values (the multi-tenant mix: gets
and creates of customers). The server must not be running.

usage: clone_tenants.py DATA TEMPLATE_SLUG COUNT PREFIX [--first N] [--format FMT] [--sign-in]
makes PREFIX0001 .. PREFIX<COUNT> (skipping those that exist); with --format
the slugs are FMT % i for i = FIRST .. FIRST + COUNT - 1 (e.g. 'm%03d' from 101:
m101 .. m1000), PREFIX unused.
"""
import argparse
import os
import shutil
import sqlite3
import sys
import time
import uuid


def uuid7():
    ms = int(time.time() * 1000)
    r = uuid.uuid4().int
    v = (ms << 80) | (0x7 << 76) | ((r >> 64) & 0x0FFF) << 64 | (0b10 << 62) | (r & ((1 << 62) - 1))
    return str(uuid.UUID(int=v))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("template")
    ap.add_argument("count", type=int)
    ap.add_argument("prefix")
    ap.add_argument("--first", type=int, default=1)
    ap.add_argument("--format")
    ap.add_argument("--sign-in", action="store_true")
    a = ap.parse_args()
    data, template, count, prefix = a.data, a.template, a.count, a.prefix
    fmt = a.format or (prefix.replace("%", "%%") + "%04d")
    src = os.path.join(data, "tenants", template + ".db")
    db = sqlite3.connect(os.path.join(data, "control.db"))
    try:
        # the template's file is copied whole: fold its WAL in first
        with sqlite3.connect(src) as t:
            t.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        t.close()
        cols = [r[1] for r in db.execute("PRAGMA table_info(tenants)")]
        scols = [r[1] for r in db.execute("PRAGMA table_info(subscriptions)")]
        trow = dict(zip(cols, db.execute("SELECT * FROM tenants WHERE slug = ?", (template,)).fetchone()))
        srow = dict(zip(scols, db.execute("SELECT * FROM subscriptions WHERE tenant_id = ?",
                                          (trow["id"],)).fetchone()))
        made = 0
        for i in range(a.first, a.first + count):
            slug = fmt % i
            dst = os.path.join(data, "tenants", slug + ".db")
            if os.path.exists(dst):
                continue
            shutil.copyfile(src, dst)
            os.chmod(dst, 0o600)
            if a.sign_in:
                with sqlite3.connect(dst) as t:
                    t.execute("UPDATE users SET email = ? WHERE email = ?",
                              ("owner@%s.test" % slug, "owner@%s.test" % template))
                t.close()
            t = dict(trow, id=uuid7(), slug=slug, name=slug, schema_name="tenant_" + slug)
            s = dict(srow, id=uuid7(), tenant_id=t["id"])
            db.execute("INSERT INTO tenants (%s) VALUES (%s)" % (",".join(cols), ",".join("?" * len(cols))),
                       [t[c] for c in cols])
            db.execute("INSERT INTO subscriptions (%s) VALUES (%s)" % (",".join(scols), ",".join("?" * len(scols))),
                       [s[c] for c in scols])
            made += 1
        db.commit()
    finally:
        db.close()
    print("%d tenants made" % made)


if __name__ == "__main__":
    main()
