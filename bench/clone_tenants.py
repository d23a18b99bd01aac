#!/usr/bin/python3
"""Many tenants quickly, for the start-up and memory cases: N copies of one
tenant made by `opsbase tenant create` (its SQLite file copied, its control rows
copied with a new id and slug). Creating 1,000 tenants through the command
takes 8 minutes on a quiet machine and over half an hour on a busy one (the
owner's password hash and the schema's DDL each time); a start only needs them
to exist. The copies share the template's rows, users and sessions, so they are
for counting and opening, not for signing in (their sealed values are sealed
for the template's slug). The server must not be running.

usage: clone_tenants.py DATA TEMPLATE_SLUG COUNT PREFIX
makes PREFIX0001 .. PREFIX<COUNT> (skipping those that exist).
"""
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
    data, template, count, prefix = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
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
        for i in range(1, count + 1):
            slug = "%s%04d" % (prefix, i)
            dst = os.path.join(data, "tenants", slug + ".db")
            if os.path.exists(dst):
                continue
            shutil.copyfile(src, dst)
            os.chmod(dst, 0o600)
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
