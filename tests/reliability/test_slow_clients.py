"""Slow clients: while slowhttptest (Debian package slowhttptest) holds up to
1,000 slow-header connections from 127.0.0.1, a second client (from
127.0.0.2, so the per-address connection limit of the first does not apply to
it) gets 100 of 100 health checks, each within a second. Without
slowhttptest, a small Python slow-loris does the same job."""
import os
import shutil
import signal
import socket
import subprocess
import threading
import time

import rel

SLOW_CONNS = 1000


def _health(url, timeout=1.0):
    host, port = url.split("//", 1)[1].split(":")
    t0 = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=timeout, source_address=("127.0.0.2", 0)) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    return data.startswith(b"HTTP/1.1 200"), time.monotonic() - t0


class PyLoris:
    """Hold n connections open, sending one header line every few seconds."""

    def __init__(self, url, n):
        host, port = url.split("//", 1)[1].split(":")
        self.socks, self.stop = [], threading.Event()
        for _ in range(n):
            try:
                s = socket.create_connection((host, int(port)), timeout=2)
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
                self.socks.append(s)
            except OSError:
                break
        self.t = threading.Thread(target=self._drip, daemon=True)
        self.t.start()

    def _drip(self):
        while not self.stop.wait(3):
            for s in self.socks:
                try:
                    s.sendall(b"X-a: b\r\n")
                except OSError:
                    pass

    def close(self):
        self.stop.set()
        for s in self.socks:
            s.close()


def test_health_under_slow_clients(server):
    pid = server.proc.pid
    fds0 = rel.fd_count(pid)
    tool = shutil.which("slowhttptest")
    if tool:
        proc = subprocess.Popen([tool, "-H", "-c", str(SLOW_CONNS), "-r", "500", "-i", "5", "-l", "40", "-x", "24",
                                 "-p", "3", "-u", server.url + "/healthz"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        loris = None
    else:
        proc, loris = None, PyLoris(server.url, SLOW_CONNS)
    try:
        time.sleep(5)  # let the slow connections pile up
        held = rel.fd_count(pid) - fds0
        results = [_health(server.url) for _ in range(100)]
        ok = sum(1 for good, took in results if good and took < 1.0)
        worst = max(took for _, took in results)
        print(f"\nslow clients: {'slowhttptest' if tool else 'python slow-loris'} held {held} connections; "
              f"{ok}/100 health checks under 1 s (worst {worst:.3f} s)")
        assert ok == 100, f"only {ok}/100 health checks within a second (worst {worst:.3f} s)"
    finally:
        if proc:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
        if loris:
            loris.close()
