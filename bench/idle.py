#!/usr/bin/python3
"""An idle server: the CPU an `opsbase serve` with no requests uses over a
while, the files it holds open at the end, and how long it takes to stop on
SIGTERM. On a data directory of many tenants this is the job workers' sweep
(every tenant looked at for due work each --job-poll-ms). Several binaries are
run alternately, run by run, so machine noise hits each alike.

usage: idle.py DATA PORT SECONDS RUNS OPSBASE [OPSBASE ...]
prints one line per run: the binary's index, the run, the CPU milliseconds
(user + system, 10 ms ticks) used over SECONDS, the open file descriptors
then, and the milliseconds from SIGTERM to exit. The window starts
BENCH_IDLE_AFTER seconds (default 0) after the first 200 of /healthz: the
workers' first sweep opens every tenant once whatever they do later (about
10 s of CPU for 1,000 tenants here), and a window after it shows the steady
state.
"""
import os
import signal
import socket
import subprocess
import sys
import time


def healthy(port):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=1)
    except OSError:
        return False
    try:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        return s.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False
    finally:
        s.close()


def cpu_ms(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000.0 / os.sysconf("SC_CLK_TCK")


def start(binary, data, port, name="idle.py"):
    """`opsbase serve` of BINARY on DATA, once its /healthz answers 200."""
    p = subprocess.Popen([binary, "serve", "--data", data, "--listen", "127.0.0.1:%d" % port,
                          "--log-level", "error"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0 = time.monotonic()
    while not healthy(port):
        if p.poll() is not None or time.monotonic() - t0 > 30:
            if p.poll() is None:
                p.kill()
                p.wait()
            raise SystemExit("%s: %s did not start" % (name, binary))
        time.sleep(0.01)
    return p


def one(binary, data, port, seconds):
    p = start(binary, data, port)
    try:
        time.sleep(float(os.environ.get("BENCH_IDLE_AFTER", "0")))
        c0 = cpu_ms(p.pid)
        time.sleep(seconds)
        cpu = cpu_ms(p.pid) - c0
        fds = len(os.listdir("/proc/%d/fd" % p.pid))
        t1 = time.monotonic()
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=60)
        return cpu, fds, (time.monotonic() - t1) * 1000
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def main():
    data, port, seconds, runs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
    for r in range(1, runs + 1):
        for i, binary in enumerate(sys.argv[5:]):
            cpu, fds, stop = one(binary, data, port, seconds)
            print("%d %d %.0f %d %.0f" % (i, r, cpu, fds, stop), flush=True)


if __name__ == "__main__":
    main()
