#!/usr/bin/python3
"""Latency of one request shape, one client, one keep-alive connection: the
scaling curve (the same request on 10k, 100k and 1M rows). Sends the request
again and again until COUNT answers or BUDGET seconds have passed (at least
one answer, however long it takes, up to 300 s), then prints one line like
wrk's summary in bench.lua: "BENCH rps=.. requests=.. p50_us=.. p90_us=..
p99_us=.. max_us=.. non2xx=.. connect=0 read=0 write=0 timeout=0".

usage: latency.py HOST PORT PATH TOKEN COUNT BUDGET
"""
import http.client
import sys
import time


def pct(sorted_us, p):
    if not sorted_us:
        return 0
    i = min(len(sorted_us) - 1, max(0, int(round(p / 100.0 * len(sorted_us) + 0.5)) - 1))
    return sorted_us[i]


def main():
    host, port, path, token = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    count, budget = int(sys.argv[5]), float(sys.argv[6])
    conn = http.client.HTTPConnection(host, port, timeout=300)
    lat, bad = [], 0
    t0 = time.monotonic()
    while len(lat) < count and (not lat or time.monotonic() - t0 < budget):
        s = time.monotonic()
        conn.request("GET", path, headers={"Authorization": "Bearer " + token})
        r = conn.getresponse()
        r.read()
        lat.append(int((time.monotonic() - s) * 1e6))
        if r.status >= 400:
            bad += 1
    secs = time.monotonic() - t0
    conn.close()
    lat.sort()
    print("BENCH rps=%.1f requests=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d non2xx=%d connect=0 read=0 write=0 "
          "timeout=0" % (len(lat) / secs, len(lat), pct(lat, 50), pct(lat, 90), pct(lat, 99), lat[-1], bad))


if __name__ == "__main__":
    main()
