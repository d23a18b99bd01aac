"""wfreport.py - the "Workflows" section of bench/results.md and its goal lines, from
OUT/workflows.tsv (bench/workflows/run.py) and the ticket case of OUT/runs.tsv
(bench/run.sh, wrk). Imported by bench/report.py."""
import os
import statistics

# case -> (label, what a run counts)
CASES = [
    ("confirm", "order confirm, 2-3 lines reserved", "orders/s"),
    ("reserve", "reserve 1 unit on one hot inventory row", "req/s"),
    ("tracking", "courier tracking webhook, signed (receipt)", "req/s"),
    ("invoice", "gold invoice of 5 lines, issue (journal posted)", "invoices/s"),
    ("delivery_creates", "customer creates with a webhook subscription", "req/s"),
    ("delivery", "webhook delivery to a local sink (burst)", "deliveries/s"),
]
BASELINE = {
    "confirm": "2-3 bare conditional UPDATEs in one transaction, transactions/s",
    "reserve": "bare conditional UPDATE of the same row, ops/s",
    "delivery": "plain POST of the same body to the sink, 2 connections",
}


def load(out):
    path = os.path.join(out, "workflows.tsv")
    runs, ceil, extra, checks = {}, {}, {}, []
    if not os.path.exists(path):
        return None
    with open(path) as f:
        for line in f:
            p = line.rstrip("\n").split("\t")
            if p[0] == "run" and len(p) == 8:
                runs.setdefault(p[1], []).append({"rate": float(p[3]), "p50": float(p[4]), "p99": float(p[5]),
                                                  "failed": int(p[6]), "n": int(p[7])})
            elif p[0] == "ceil" and len(p) == 4:
                ceil.setdefault(p[1], []).append(float(p[3]))
            elif p[0] == "extra" and len(p) == 5:
                extra.setdefault((p[1], p[3]), []).append(float(p[4]))
            elif p[0] == "check" and len(p) == 4:
                checks.append((p[1], p[2], p[3]))
    return runs, ceil, extra, checks


def _n(x):
    if x is None:
        return "-"
    return "{:,.0f}".format(x) if x >= 100 else ("%.1f" % x if x >= 10 else "%.2f" % x)


def _spread(v):
    if not v:
        return "-"
    if len(v) == 1:
        return _n(v[0])
    return "%s (%s-%s)" % (_n(statistics.median(v)), _n(min(v)), _n(max(v)))


def _med(v):
    return statistics.median(v) if v else None


def section(out, wrk_runs):
    """Markdown of the Workflows section and a list of goal rows
    (text, measured, target, ok or None), or None when the run had no workflows."""
    got = load(out)
    if got is None:
        return None, []
    runs, ceil, extra, checks = got
    rows = ["| workflow | figure, median (min-max) | p50 ms | p99 ms | baseline / ceiling, median | ratio | failed |",
            "|---|---|---|---|---|---|---|"]
    t = wrk_runs.get(("ticket", "pinned"))
    ci = wrk_runs.get(("ceiling_insert", "pinned"))
    if t:
        tr = _med([x["rps"] for x in t])
        cr = _med([x["rps"] for x in ci]) if ci else None
        rows.append("| ticket create: SLA, auto-assignment, audit (wrk, 32 conns, pinned) | %s req/s | %.2f | %.2f "
                    "| %s (ceiling insert, FULL) | %s | %d |" % (
                        _spread([x["rps"] for x in t]), _med([x["p50"] for x in t]) / 1000,
                        _med([x["p99"] for x in t]) / 1000, _n(cr), "%.2fx" % (tr / cr) if cr else "-",
                        sum(x["non2xx"] + x["sock"] for x in t)))
    ratios = {}
    for case, label, unit in CASES:
        r = runs.get(case)
        if not r:
            continue
        rate = _med([x["rate"] for x in r])
        base = _med(ceil.get(case, []))
        ratios[case] = rate / base if base else None
        rows.append("| %s | %s %s | %.2f | %.2f | %s | %s | %d |" % (
            label, _spread([x["rate"] for x in r]), unit, _med([x["p50"] for x in r]), _med([x["p99"] for x in r]),
            "%s (%s)" % (_n(base), BASELINE[case]) if base else "-",
            "%.2fx" % ratios[case] if ratios[case] else "-", sum(x["failed"] for x in r)))
        if case == "tracking" and extra.get(("tracking", "changed_per_s")):
            rows.append("| tracking webhook to the shipment's status change (job couriers.inbound) | %s shipments/s "
                        "| %.1f | %.1f | - | - | - |" % (
                            _spread(extra[("tracking", "changed_per_s")]),
                            _med(extra.get(("tracking", "apply_p50_ms"), [0])),
                            _med(extra.get(("tracking", "apply_p99_ms"), [0]))))
    prep = extra.get(("setup", "prepare_s"))
    text = ("## Workflows (bench/workflows: SQLite, synchronous=FULL, unpinned, 16 connections)\n\n"
            "Prepared records are consumed (each order confirmed once): a run is N of them, its figure N over the "
            "wall time; reserve runs for the wrk duration. Tracking latencies are receipt to applied "
            "(`inbound_webhooks.processed_at - created_at`), delivery latencies the change's commit to the sink's "
            "receipt.%s\n\n" % (" Preparation took %.0f s." % prep[0] if prep else "")
            + "\n".join(rows) + "\n\nChecks of the final state:\n\n"
            + "\n".join("- %s: **%s**, %s" % c for c in checks) + "\n")
    want = [c for c, _, _ in CASES]
    missing = [c for c in want if c not in runs]
    failed = sum(x["failed"] for r in runs.values() for x in r)
    bad_checks = [c for c in checks if c[1] != "ok"]
    ok = not missing and not failed and not bad_checks and bool(t)
    goals = [("workflows measured: ticket, confirm, reserve, tracking, invoice, delivery; every answer as expected, "
              "final state right",
              "%d failed requests, %d failed checks%s" % (failed, len(bad_checks),
                                                         ", missing: " + ", ".join(missing + ([] if t else ["ticket"]))
                                                         if missing or not t else ""),
              "0 and 0", ok)]
    for case, what in (("confirm", "order confirm / its 2-3 bare conditional UPDATEs in one transaction"),
                       ("reserve", "reserve on one hot row / bare conditional UPDATE"),
                       ("delivery", "webhook deliveries/s / plain POST to the sink")):
        r = ratios.get(case)
        goals.append((what, "-" if r is None else "%.2fx" % r, "no target (a regression shows as a ratio)", None))
    return text, goals
