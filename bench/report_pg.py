#!/usr/bin/python3
"""The PostgreSQL part of a benchmark run (bench/pg.sh) as markdown: opsbase on
PostgreSQL against the libpq ceiling (bench/ceiling/pg/) and Directus on
PostgreSQL, all measured in the same run, and the issue's PostgreSQL goals with
met/missed. report.py appends it to results.md; run alone (BENCH_ONLY=pg) it
prints it.

usage: report_pg.py OUT
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report import fmt_ms, fmt_ratio, load, med, ratio, rps, spread  # noqa: E402

# opsbase case -> (label, ceiling case, Directus case)
CASES = (
    ("pg_get", "get by id", "pg_ceiling_get", "pg_peer_get"),
    ("pg_list", "list 50, status=active, sort -created_at", "pg_ceiling_list", "pg_peer_list"),
    ("pg_create", "create customer + audit", "pg_ceiling_insert", "pg_peer_create"),
    ("pg_patch", "patch with If-Match + audit", "pg_ceiling_insert", "pg_peer_patch"),
    ("pg_mix100", "50/50 get/create across 100 tenants", "pg_ceiling_mix", None),
)
CEILING = (
    ("pg_ceiling_get", "primary-key lookup"),
    ("pg_ceiling_list", "indexed 50-row list"),
    ("pg_ceiling_insert", "insert ... RETURNING * (autocommit)"),
)
PEER = (
    ("pg_peer_get", "get by id"),
    ("pg_peer_list", "list 50, status=active, sort -created_at"),
    ("pg_peer_create", "create"),
    ("pg_peer_patch", "patch"),
)
# (opsbase case, against, target, label); against is a ceiling or Directus case
GOALS = (
    ("pg_get", "pg_ceiling_get", 0.6, "get by id / libpq ceiling (pinned)"),
    ("pg_get", "pg_peer_get", 50, "get by id / Directus on PostgreSQL"),
    ("pg_list", "pg_peer_list", 20, "list 50 / Directus on PostgreSQL"),
    ("pg_create", "pg_peer_create", 20, "create / Directus on PostgreSQL"),
)


def ceiling_of(runs, case, variant):
    if case == "pg_ceiling_mix":
        g, i = rps(runs, "pg_ceiling_get", variant), rps(runs, "pg_ceiling_insert", variant)
        return 2 / (1 / g + 1 / i) if g and i else None
    return rps(runs, case, variant)


def row(runs, case, label, variant):
    r = runs.get((case, variant))
    if not r:
        return None
    return "| %s | %s | %s | %s |" % (label, spread([x["rps"] for x in r]), fmt_ms(med([x["p50"] for x in r])),
                                      fmt_ms(med([x["p99"] for x in r])))


def section(runs, out):
    why = ""
    p = os.path.join(out, "pg.txt")
    if os.path.exists(p):
        why = open(p).read().strip()
    s = ["## PostgreSQL (bench/pg.sh)\n"]
    if why:
        s.append(why + "\n")
        return "\n".join(s)
    if not any(k[0].startswith("pg_") for k in runs):
        s.append("not measured in this run\n")
        return "\n".join(s)
    s.append("PostgreSQL 15 on 127.0.0.1, fsync and synchronous_commit on (every commit waits for its WAL "
             "flush, as SQLite's synchronous=FULL). The ceiling and opsbase alternate run by run; Directus "
             "runs after them, unpinned.\n")
    rows = ["| goal | measured | target | |", "|---|---|---|---|"]
    for case, against, need, label in GOALS:
        variant = "unpinned" if against.startswith("pg_peer") else "pinned"
        r = ratio(rps(runs, case), rps(runs, against, variant))
        verdict = "n/a" if r is None else ("**met**" if r >= need else "**missed**")
        rows.append("| %s | %s | >= %s | %s |" % (label, fmt_ratio(r), fmt_ratio(need), verdict))
    s.append("### Goals\n\n" + "\n".join(rows) + "\n")
    for variant in ("pinned", "unpinned"):
        rows = ["| case | req/s median (min-max) | p50 ms | p99 ms | / ceiling | / Directus |",
                "|---|---|---|---|---|---|"]
        for case, label, ceil, peer in CASES:
            line = row(runs, case, label, variant)
            if not line:
                continue
            mine = rps(runs, case, variant)
            pv = rps(runs, peer, "unpinned") if peer else None
            rows.append(line + " %s | %s |" % (fmt_ratio(ratio(mine, ceiling_of(runs, ceil, variant))),
                                                fmt_ratio(ratio(mine, pv))))
        if len(rows) > 2:
            s.append("### opsbase on PostgreSQL, %s\n\n%s\n" % (
                "server and wrk pinned to separate cores" if variant == "pinned" else variant, "\n".join(rows)))
    for title, cases, variants in (("libpq ceiling (bench/ceiling/pg: libmicrohttpd + libpq, a connection per "
                                    "thread, prepared statements; no auth, no audit)", CEILING,
                                    ("pinned", "unpinned")),
                                   ("Directus on PostgreSQL (unpinned)", PEER, ("unpinned",))):
        for variant in variants:
            rows = ["| case | req/s median (min-max) | p50 ms | p99 ms |", "|---|---|---|---|"]
            rows += [x for x in (row(runs, c, label, variant) for c, label in cases) if x]
            if len(rows) > 2:
                s.append("### %s, %s\n\n%s\n" % (title, variant, "\n".join(rows)))
    peer = os.path.join(out, "pg_peer.txt")
    if os.path.exists(peer) and open(peer).read().strip():
        s.append("Directus on PostgreSQL: %s\n" % open(peer).read().strip())
    return "\n".join(s)


def main():
    out = sys.argv[1]
    runs, _ = load(out)
    machine = os.path.join(out, "machine.txt")
    if os.path.exists(machine):
        print("```\n%s\n```\n" % open(machine).read().strip())
    print(section(runs, out))


if __name__ == "__main__":
    main()
