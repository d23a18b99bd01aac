#!/usr/bin/python3
"""The rows of bench/gen_data.py for a PostgreSQL tenant schema, as a psql
script on standard output (COPY ... FROM STDIN, then the `customers` counter in
`sequences`, then ANALYZE): the same generator, the same seed, so the
PostgreSQL tenant holds the rows the SQLite one would. Pipe it into psql while
no server writes to the schema; `opsbase tenant create --db` made the schema,
its constraints, indexes and full-text index, which apply to the COPY as to an
insert by the server.

The only conversion is of types the engines store differently (docs/postgres.md):
a decimal is an integer of minor units on SQLite and a numeric on PostgreSQL.

usage: pg_gen.py SCHEMA --customers N [--seed S]
"""
import argparse
import csv
import io
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_data  # noqa: E402

DECIMAL_COLUMNS = {"credit_limit"}


def quote(v):
    if v is None:
        return "NULL"
    if isinstance(v, (int, float)):
        return str(v)
    return "'" + str(v).replace("'", "''") + "'"


class Sink:
    """Takes gen_data's SQLite calls: the customers' batches become CSV for
    COPY, the counter's upsert becomes a statement; the counter starts at 0
    (a new tenant has made no customer)."""

    def __init__(self):
        self.cols = None
        self.csv = io.StringIO()
        self.writer = csv.writer(self.csv, lineterminator="\n")
        self.after = []

    def execute(self, sql, params=()):
        if sql.startswith("SELECT COALESCE(MAX(value), 0) FROM sequences"):
            return self
        if sql.startswith("INSERT INTO sequences"):
            self.after.append(sql.replace("?", "%s") % tuple(quote(p) for p in params))
            return self
        raise ValueError("pg_gen: unexpected statement from gen_data: " + sql[:60])

    def fetchone(self):
        return (0,)

    def executemany(self, sql, rows):
        head = sql[len("INSERT INTO customers ("):sql.index(")")]
        cols = [c.strip() for c in head.split(",")]
        self.cols = cols
        dec = [i for i, c in enumerate(cols) if c in DECIMAL_COLUMNS]
        for r in rows:
            r = list(r)
            for i in dec:
                r[i] = "%d.%02d" % divmod(r[i], 100)
            self.writer.writerow(["" if v is None else v for v in r])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("schema")
    ap.add_argument("--customers", type=int, required=True)
    ap.add_argument("--seed", type=int, default=5)
    a = ap.parse_args()
    sink = Sink()
    gen_data.gen_customers(sink, a.customers, int(time.time() * 1000) - 60000, random.Random(a.seed))
    out = sys.stdout
    out.write("SET search_path = %s;\nBEGIN;\n" % a.schema)
    out.write("COPY customers (%s) FROM STDIN WITH (FORMAT csv);\n" % ", ".join(sink.cols))
    out.write(sink.csv.getvalue())
    out.write("\\.\n")
    for s in sink.after:
        out.write(s + ";\n")
    out.write("COMMIT;\nANALYZE customers;\n")


if __name__ == "__main__":
    main()
