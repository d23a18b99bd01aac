#!/usr/bin/env python3
"""Backup and restore speed: a tenant grown to BENCH_BACKUP_ROWS customers
(written straight into its SQLite file, with text of about 480 bytes a row;
with the table's indexes and full-text index a row takes about 1.8 kB, so
550,000 rows make about 1 GB of database), then `opsbase backup` of it and
`opsbase restore` into an empty store, each timed. Prints rows, database and
backup sizes, seconds and rows/s.

usage: bench/backup.py OPSBASE_BINARY   (env BENCH_BACKUP_ROWS, default 200000;
       BENCH_WORK, default build-release/bench-backup)
bench/run.sh (550,000 rows, about 1 GB) and bench/smoke.sh (5,000 rows) run it
and read the METRIC lines it prints last: name, value, unit."""
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid

ROWS = int(os.environ.get("BENCH_BACKUP_ROWS", "200000"))
binary = os.path.abspath(sys.argv[1])
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
work = os.environ.get("BENCH_WORK", os.path.join(root, "build-release", "bench-backup"))
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
data, out, back = (os.path.join(work, d) for d in ("data", "backup", "restored"))


def run(*argv):
    t = time.monotonic()
    subprocess.run([binary, *argv], check=True, capture_output=True, timeout=7200)
    return time.monotonic() - t


run("tenant", "create", "big", "--plan", "business", "--owner-email", "o@big.test", "--owner-password",
    "Bench-pass-123!", "--data", data)
db = sqlite3.connect(os.path.join(data, "tenants", "big.db"))
now = "2026-01-01T00:00:00.000Z"
notes = "x" * 400
with db:
    for start in range(0, ROWS, 10000):
        db.executemany(
            "INSERT INTO customers (id, created_at, updated_at, version, customer_code, name, email, notes) "
            "VALUES (?, ?, ?, 1, ?, ?, ?, ?)",
            ((str(uuid.uuid4()), now, now, f"B{i:09d}", f"Customer {i}", f"c{i}@big.test", notes)
             for i in range(start, min(start + 10000, ROWS))))
db.close()
size = os.path.getsize(os.path.join(data, "tenants", "big.db"))
t_backup = run("backup", "--out", out, "--data", data)
packed = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(out) for f in fs)
t_restore = run("restore", "--from", out, "--data", back)
print(f"BACKUP rows {ROWS} database_mb {size / 1e6:.1f} backup_mb {packed / 1e6:.1f} "
      f"backup_s {t_backup:.2f} ({ROWS / t_backup:,.0f} rows/s) "
      f"restore_s {t_restore:.2f} ({ROWS / t_restore:,.0f} rows/s)")
print(f"METRIC backup_tenant_db_mb {size / 1e6:.1f} MB")
print(f"METRIC backup_tenant_s {t_backup:.2f} s")
print(f"METRIC restore_tenant_s {t_restore:.2f} s")
shutil.rmtree(work, ignore_errors=True)  # a gigabyte or two: not kept
