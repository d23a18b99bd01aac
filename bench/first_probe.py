#!/usr/bin/python3
"""The first /readyz of a fresh server on many tenants: what an orchestrator's
first readiness probe waits for (its timeout is often 1 s). The job figures of
the probe must not cost a visit of every tenant. Several binaries are run
alternately, run by run, so machine noise hits each alike.

usage: first_probe.py DATA PORT RUNS OPSBASE [OPSBASE ...]
prints one line per run: the binary's index, the run, the milliseconds of the
first /readyz after the first 200 of /healthz, of a second one at once, and of
one LATER seconds after the first (BENCH_PROBE_LATER, default 5.5: past the
5 s for which job counts used to be kept, while the job sweep's first pass is
visiting every tenant).
"""
import os
import signal
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from idle import start  # noqa: E402


def get_ms(port, path):
    t0 = time.monotonic()
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=120) as r:
            r.read()
    except urllib.error.HTTPError as e:  # 503 is an answer too
        e.read()
    return (time.monotonic() - t0) * 1000


def one(binary, data, port, later):
    p = start(binary, data, port, "first_probe.py")
    try:
        t1 = time.monotonic()
        first = get_ms(port, "/readyz")
        second = get_ms(port, "/readyz")
        time.sleep(max(0.0, later - (time.monotonic() - t1)))
        third = get_ms(port, "/readyz")
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=60)
        return first, second, third
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def main():
    data, port, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    later = float(os.environ.get("BENCH_PROBE_LATER", "5.5"))
    for r in range(1, runs + 1):
        for i, binary in enumerate(sys.argv[4:]):
            first, second, third = one(binary, data, port, later)
            print("%d %d %.1f %.1f %.1f" % (i, r, first, second, third), flush=True)


if __name__ == "__main__":
    main()
