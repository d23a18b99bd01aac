#!/usr/bin/python3
"""Cold start: milliseconds from exec of `opsbase serve` to the first 200 of an
authenticated request (GET /api/v1/customers?limit=1 with a bearer token of a
session made earlier: sessions live in the database, so the token survives a
restart). Polls every millisecond; the server is stopped after each run.

usage: coldstart.py OPSBASE DATA PORT TOKEN RUNS
prints one line per run: the milliseconds, and the CPU milliseconds (user +
system) the server had used by then, which a busy machine inflates far less
than the wall clock (10 ms ticks).
"""
import os
import signal
import socket
import subprocess
import sys
import time


def try_get(port, token):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=1)
    except OSError:
        return None
    try:
        s.sendall(("GET /api/v1/customers?limit=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   "Authorization: Bearer %s\r\nConnection: close\r\n\r\n" % token).encode())
        data = s.recv(64)
        return int(data.split()[1]) if data.startswith(b"HTTP/1.1 ") else None
    except (OSError, ValueError, IndexError):
        return None
    finally:
        s.close()


def cpu_ms(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) * 1000.0 / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def main():
    binary, data, port, token, runs = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
    for _ in range(runs):
        t0 = time.monotonic()
        p = subprocess.Popen([binary, "serve", "--data", data, "--listen", "127.0.0.1:%d" % port,
                              "--log-level", "error"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        status = None
        try:
            while time.monotonic() - t0 < 30:
                status = try_get(port, token)
                if status == 200:
                    break
                if p.poll() is not None:
                    break
                time.sleep(0.001)
            ms = (time.monotonic() - t0) * 1000
            cpu = cpu_ms(p.pid)
        finally:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if status != 200:
            sys.exit("coldstart: no 200 (last status %s)" % status)
        print("%.1f %.0f" % (ms, cpu), flush=True)
        time.sleep(0.2)


if __name__ == "__main__":
    main()
