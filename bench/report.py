#!/usr/bin/python3
"""Turn one benchmark run (OUT/runs.tsv, OUT/metrics.tsv, OUT/machine.txt,
OUT/peer.txt) into bench/results.md: medians with min and max, ratios to the
ceiling and the peer measured in the same run, and the issue's goals.

Everything from the line "## Analysis" on is kept from the existing file: it is
written by hand after looking at a run (profiles, causes, fixes).

usage: report.py OUT RESULTS_MD
"""
import os
import statistics
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "workflows"))
from wfreport import section as workflows_section  # noqa: E402  (bench/workflows/wfreport.py)

ANALYSIS = "## Analysis"

# opsbase case -> (ceiling case, peer case) it is compared with
COMPARE = {
    "get": ("ceiling_get", "peer_get"),
    "list": ("ceiling_list", "peer_list"),
    "list_nofilter": ("ceiling_list", "peer_list"),
    "list_deep": ("ceiling_list", None),
    "search": ("ceiling_list", "peer_search"),
    "create": ("ceiling_insert", "peer_create"),
    "create_normal": ("ceiling_insert_normal", "peer_create"),
    "patch": ("ceiling_insert", "peer_patch"),
    "ticket": ("ceiling_insert", None),
    "mix100": ("ceiling_mix", None),
}
LABEL = {
    "get": "get by id",
    "list": "list 50, status=active, sort -created_at",
    "list_nofilter": "list 50, sort -created_at, no filter",
    "list_deep": "list 50, page 50 through the cursor",
    "search": "search q=garcia (1% of rows), 50",
    "create": "create customer + audit (synchronous=FULL)",
    "create_normal": "create customer + audit (synchronous=NORMAL)",
    "patch": "patch with If-Match + audit",
    "ticket": "ticket create (SLA + assignment + audit)",
    "mix100": "50/50 get/create across 100 tenants",
    "ceiling_fixed": "fixed 200-byte body",
    "ceiling_get": "primary-key lookup",
    "ceiling_list": "indexed 50-row list",
    "ceiling_insert": "insert (synchronous=FULL)",
    "ceiling_insert_normal": "insert (synchronous=NORMAL)",
    "peer_get": "get by id",
    "peer_list": "list 50, status=active, sort -created_at",
    "peer_search": "search (Directus `search=`)",
    "peer_create": "create",
    "peer_patch": "patch",
}


def load(out):
    runs, metrics = {}, {}
    with open(os.path.join(out, "runs.tsv")) as f:
        for line in f:
            p = line.rstrip("\n").split("\t")
            if len(p) < 9:
                continue
            key = (p[0], p[1])
            runs.setdefault(key, []).append({"rps": float(p[3]), "p50": int(p[4]), "p99": int(p[5]),
                                             "non2xx": int(p[6]), "sock": int(p[7]), "req": int(p[8])})
    if os.path.exists(os.path.join(out, "metrics.tsv")):
        with open(os.path.join(out, "metrics.tsv")) as f:
            for line in f:
                p = line.rstrip("\n").split("\t")
                if len(p) == 4:
                    metrics.setdefault(p[0], {"unit": p[3], "v": []})["v"].append(float(p[2]))
    return runs, metrics


def med(vals):
    return statistics.median(vals) if vals else None


def fmt_n(x):
    if x is None:
        return "-"
    if x >= 100:
        return "{:,.0f}".format(x)
    if x >= 10:
        return "%.1f" % x
    return "%.2f" % x


def fmt_ms(us):
    return "-" if us is None else ("%.2f" % (us / 1000.0) if us < 10000 else "%.0f" % (us / 1000.0))


def spread(vals, f=fmt_n):
    if not vals:
        return "-"
    if len(vals) == 1:
        return f(vals[0])
    return "%s (%s-%s)" % (f(med(vals)), f(min(vals)), f(max(vals)))


def rps(runs, case, variant="pinned"):
    r = runs.get((case, variant))
    return med([x["rps"] for x in r]) if r else None


def p99(runs, case, variant="pinned"):
    r = runs.get((case, variant))
    return med([x["p99"] for x in r]) if r else None


def ratio(a, b):
    return None if a is None or b in (None, 0) else a / b


def fmt_ratio(x):
    return "-" if x is None else ("%.2fx" % x if x < 10 else "%.0fx" % x)


def throughput_table(runs, cases, variant, with_compare=True):
    head = "| case | req/s median (min-max) | p50 ms | p99 ms |"
    sep = "|---|---|---|---|"
    if with_compare:
        head += " / ceiling | / Directus |"
        sep += "---|---|"
    rows = [head, sep]
    for c in cases:
        r = runs.get((c, variant))
        if not r:
            continue
        line = "| %s | %s | %s | %s |" % (LABEL.get(c, c), spread([x["rps"] for x in r]),
                                          fmt_ms(med([x["p50"] for x in r])), fmt_ms(med([x["p99"] for x in r])))
        if with_compare:
            ceil, peer = COMPARE.get(c, (None, None))
            cv = ceiling_value(runs, ceil, variant)
            pv = rps(runs, peer, "unpinned") if peer else None
            line += " %s | %s |" % (fmt_ratio(ratio(rps(runs, c, variant), cv)), fmt_ratio(ratio(rps(runs, c, variant), pv)))
        rows.append(line)
    return "\n".join(rows)


def ceiling_value(runs, ceil, variant):
    if ceil == "ceiling_mix":
        g, i = rps(runs, "ceiling_get", variant), rps(runs, "ceiling_insert", variant)
        return 2 / (1 / g + 1 / i) if g and i else None
    return rps(runs, ceil, variant) if ceil else None


def metric(metrics, name):
    m = metrics.get(name)
    return (med(m["v"]), m) if m else (None, None)


def goals(runs, metrics):
    out = []

    def add(text, value, target, ok):
        out.append("| %s | %s | %s | %s |" % (text, value, target,
                                              "n/a" if ok is None else ("**met**" if ok else "**missed**")))

    for c, ceil, need in (("get", "ceiling_get", 0.6), ("list", "ceiling_list", 0.6),
                          ("create", "ceiling_insert", 0.5), ("create_normal", "ceiling_insert_normal", 0.5)):
        r = ratio(rps(runs, c), rps(runs, ceil))
        add("%s / ceiling (pinned)" % LABEL[c], fmt_ratio(r), ">= %.1fx" % need, None if r is None else r >= need)
    r = ratio(rps(runs, "write_tenants_8"), rps(runs, "write_tenants_1"))
    add("creates across 8 tenants / 1 tenant", fmt_ratio(r), ">= 1.6x", None if r is None else r >= 1.6)
    for c, p, need in (("get", "peer_get", 100), ("list", "peer_list", 25), ("create", "peer_create", 25)):
        r = ratio(rps(runs, c), rps(runs, p, "unpinned"))
        add("%s / Directus" % LABEL[c], fmt_ratio(r), ">= %dx" % need, None if r is None else r >= need)
    # the PostgreSQL probes run unpinned: the database server is a process of its own
    for eng, pre, var in (("", "scale_", "pinned"), (" (PostgreSQL)", "scale_pg_", "unpinned")):
        for kind in ("list", "search"):
            a, b = p99(runs, "%s%s_1M" % (pre, kind), var), p99(runs, "%s%s_10k" % (pre, kind), var)
            r = ratio(a, b)
            add("%s p99 at 1M rows / at 10k rows%s" % (kind, eng),
                "%s (%s ms / %s ms)" % (fmt_ratio(r), fmt_ms(a), fmt_ms(b)), "<= 1.5x", None if r is None else r <= 1.5)
    v, _ = metric(metrics, "rss_idle")
    add("idle RSS", "-" if v is None else "%.1f MB" % (v / 1024), "<= 15 MB", None if v is None else v / 1024 <= 15)
    # bench/mix.sh in run.sh: each mix on a fresh server after the same mix
    # on one tenant, VmHWM of the mix alone; the smoke run's figures are for
    # 5 and 20 tenants.
    ns = sorted(int(k[len("mix_tenants_"):]) for k in metrics if k.startswith("mix_tenants_"))
    for n, need, mb in zip(ns, (0.5, 0.3), (64, 128)):
        a, _ = metric(metrics, "mix_tenants_%d" % n)
        b, _ = metric(metrics, "mix_one_tenant_with_%d" % n)
        r = ratio(a, b)
        add("{:,}-tenant mix / the same mix on one tenant".format(n),
            "%s (%s / %s req/s)" % (fmt_ratio(r), "-" if a is None else "%.0f" % a, "-" if b is None else "%.0f" % b),
            ">= %.1fx" % need, None if r is None else r >= need)
        v, _ = metric(metrics, "rss_mix_%d" % n)
        add("peak RSS under the {:,}-tenant mix".format(n), "-" if v is None else "%.1f MB" % (v / 1024),
            "<= %d MB" % mb, None if v is None else v / 1024 <= mb)
    v, _ = metric(metrics, "cold_start_100_tenants")
    add("cold start to first 200, 100 tenants", "-" if v is None else "%.0f ms" % v, "<= 50 ms",
        None if v is None else v <= 50)
    v, _ = metric(metrics, "cold_start_many_tenants")
    n, _ = metric(metrics, "cold_start_many_tenants_n")
    add("cold start to first 200, %s tenants" % ("-" if n is None else "{:,.0f}".format(n)),
        "-" if v is None else "%.0f ms" % v, "<= 50 ms", None if v is None else v <= 50)
    v, _ = metric(metrics, "first_readyz_many_tenants")
    add("first /readyz of a fresh server, %s tenants" % ("-" if n is None else "{:,.0f}".format(n)),
        "-" if v is None else "%.0f ms" % v, "<= 1,000 ms (a probe's timeout)", None if v is None else v <= 1000)
    mb, _ = metric(metrics, "backup_tenant_db_mb")
    for name, label in (("backup_tenant_s", "backup"), ("restore_tenant_s", "restore")):
        v, _ = metric(metrics, name)
        add("%s of one tenant (%s MB database)" % (label, "-" if mb is None else "%.0f" % mb),
            "-" if v is None else "%.0f s" % v, "<= 4 h (RTO)", None if v is None else v <= 4 * 3600)
    return "\n".join(["| goal | measured | target | |", "|---|---|---|---|"] + out)


def main():
    out, md = sys.argv[1], sys.argv[2]
    runs, metrics = load(out)
    machine = open(os.path.join(out, "machine.txt")).read().strip()
    peer = open(os.path.join(out, "peer.txt")).read().strip() if os.path.exists(os.path.join(out, "peer.txt")) else ""
    kept = ""
    if os.path.exists(md):
        text = open(md).read()
        i = text.find("\n" + ANALYSIS)
        if i >= 0:
            kept = text[i + 1:]
    bad = [(k, x) for k, v in runs.items() for x in v if x["non2xx"] or x["sock"] or not x["req"]]
    s = []
    s.append("# opsbase benchmark results\n")
    s.append("The last full run of `make bench` (bench/run.sh); how to read and reproduce it: "
             "[README.md](README.md). Every figure is the median of the runs, with min-max; ratios compare "
             "medians measured in this same run. Latencies are wrk's (`--latency`), in milliseconds.\n")
    s.append("## Machine\n\n```\n%s\n```\n" % machine)
    wf_text, wf_goals = workflows_section(out, runs)
    s.append("## Goals (issue #20: performance)\n\n" + goals(runs, metrics) + "".join(
        "\n| %s | %s | %s | %s |" % (t, v, w, "n/a" if ok is None else ("**met**" if ok else "**missed**"))
        for t, v, w, ok in wf_goals) + "\n")
    opsc = ["get", "list", "list_nofilter", "list_deep", "search", "create", "create_normal", "patch", "ticket",
            "mix100"]
    s.append("## opsbase, server and wrk pinned to separate cores\n\n" + throughput_table(runs, opsc, "pinned") + "\n")
    s.append("## opsbase, unpinned\n\n" + throughput_table(runs, opsc, "unpinned") + "\n")
    if wf_text:
        s.append(wf_text)
    cc = ["ceiling_fixed", "ceiling_get", "ceiling_list", "ceiling_insert", "ceiling_insert_normal"]
    s.append("## Ceiling (bench/ceiling: libmicrohttpd + SQLite, no auth, no audit)\n\npinned:\n\n" +
             throughput_table(runs, cc, "pinned", False) + "\n\nunpinned:\n\n" +
             throughput_table(runs, cc, "unpinned", False) + "\n")
    rows = ["| engine | rows | list p50 / p99 ms | list without filter p50 / p99 ms | search p50 / p99 ms |",
            "|---|---|---|---|---|"]
    for eng, pre, var, n in [(e, p, v, n) for e, p, v in (("SQLite", "scale_", "pinned"),
                                                          ("PostgreSQL", "scale_pg_", "unpinned"))
                             for n in ("10k", "100k", "1M")]:
        cells = []
        for k in (pre + "list_", pre + "list_nofilter_", pre + "search_"):
            r = runs.get((k + n, var))
            cells.append("-" if not r else "%s / %s" % (fmt_ms(med([x["p50"] for x in r])),
                                                       fmt_ms(med([x["p99"] for x in r]))))
        rows.append("| %s | %s | %s |" % (eng, n, " | ".join(cells)))
    s.append("## Scaling (SQLite pinned, PostgreSQL unpinned; one client, keep-alive: up to 200 requests or 5 s per run)\n\n" + "\n".join(rows) + "\n")
    rows = ["| tenants written | creates/s median (min-max) | p99 ms | / one tenant |", "|---|---|---|---|"]
    one = rps(runs, "write_tenants_1")
    for n in (1, 2, 8):
        r = runs.get(("write_tenants_%d" % n, "pinned"))
        if r:
            rows.append("| %d | %s | %s | %s |" % (n, spread([x["rps"] for x in r]), fmt_ms(med([x["p99"] for x in r])),
                                               fmt_ratio(ratio(rps(runs, "write_tenants_%d" % n), one))))
    s.append("## Writes across tenants (pinned, synchronous=FULL)\n\n" + "\n".join(rows) + "\n")
    rows = ["| figure | median (min-max) |", "|---|---|"]
    for name, m in metrics.items():
        if m["unit"] == "kB":
            rows.append("| %s | %s MB |" % (name, spread([v / 1024 for v in m["v"]])))
        elif m["unit"] == "bytes":
            rows.append("| %s | %s KB |" % (name, spread([v / 1024 for v in m["v"]])))
        else:
            rows.append("| %s | %s %s |" % (name, spread(m["v"]), m["unit"]))
    s.append("## Resources\n\n" + "\n".join(rows) + "\n")
    pc = ["peer_get", "peer_list", "peer_search", "peer_create", "peer_patch"]
    ptab = throughput_table(runs, pc, "unpinned", False)
    pm = ["| figure | median (min-max) |", "|---|---|"]
    for name in ("peer_rss_idle", "peer_cold_start"):
        m = metrics.get(name)
        if m:
            pm.append("| %s | %s %s |" % (name, spread([v / 1024 for v in m["v"]] if m["unit"] == "kB" else m["v"]),
                                          "MB" if m["unit"] == "kB" else m["unit"]))
    s.append("## Peer: Directus on SQLite (unpinned)\n\n%s\n\n%s\n\n%s\n" % (peer or "measured", ptab, "\n".join(pm)))
    import report_pg
    s.append(report_pg.section(runs, out))
    if bad:
        s.append("**Failed requests in this run:** " + ", ".join("%s/%s" % k for k, _ in bad) + "\n")
    text = "\n".join(s)
    if kept:
        text += "\n" + kept
    else:
        text += "\n%s\n\n(not written yet)\n" % ANALYSIS
    with open(md, "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
