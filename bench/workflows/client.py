"""A small keep-alive HTTP/1.1 load client for bench/workflows/run.py.

wrk cannot stop when a finite set of prepared requests is used up (each order
is confirmed once) nor tell which answer belongs to which request, and these
cases need both: every answer's status is checked against the one expected,
and a case ends when its last prepared request is answered. At the rates of
these workflows (hundreds a second, each a durable commit) the client's own
cost is a few percent of a core."""
import asyncio
import json
import time


class Req:
    """One prepared request: its bytes on the wire and the status it must get."""
    __slots__ = ("raw", "expect")

    def __init__(self, method, path, token=None, body=None, headers=None, expect=200):
        if body is not None and not isinstance(body, (bytes, bytearray)):
            body = json.dumps(body).encode()
        lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
        if token:
            lines.append(f"Authorization: Bearer {token}")
        for k, v in (headers or {}).items():
            lines.append(f"{k}: {v}")
        if body is not None:
            lines.append("Content-Type: application/json")
        lines.append(f"Content-Length: {len(body) if body is not None else 0}")
        self.raw = ("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b"")
        self.expect = expect


class Result:
    def __init__(self):
        self.lat = []        # seconds, answers with the expected status
        self.bodies = []     # (index, status, body) of every answer when keep_bodies
        self.bad = []        # (status, first bytes of the body) of unexpected answers
        self.elapsed = 0.0

    @property
    def ok(self):
        return len(self.lat)

    def rate(self):
        return self.ok / self.elapsed if self.elapsed > 0 else 0.0

    def pct(self, p):
        if not self.lat:
            return None
        v = sorted(self.lat)
        return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


async def _read_response(reader):
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("connection closed by the server")
    status = int(status_line.split()[1])
    length, chunked = 0, False
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        k, _, v = line.decode("latin-1").partition(":")
        k = k.strip().lower()
        if k == "content-length":
            length = int(v.strip())
        elif k == "transfer-encoding" and "chunked" in v.lower():
            chunked = True
    if not chunked:
        return status, await reader.readexactly(length)
    body = b""
    while True:
        size = int((await reader.readline()).split(b";")[0], 16)
        if size == 0:
            await reader.readline()
            return status, body
        body += await reader.readexactly(size)
        await reader.readline()


async def _drive(port, reqs, conns, seconds, keep_bodies):
    res = Result()
    it = iter(enumerate(reqs))
    deadline = None if seconds is None else time.monotonic() + seconds

    async def one_conn():
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while deadline is None or time.monotonic() < deadline:
                try:
                    i, r = next(it)
                except StopIteration:
                    return
                t = time.perf_counter()
                writer.write(r.raw)
                status, body = await _read_response(reader)
                dt = time.perf_counter() - t
                if status == r.expect:
                    res.lat.append(dt)
                else:
                    res.bad.append((status, body[:300]))
                if keep_bodies:
                    res.bodies.append((i, status, body))
        finally:
            writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(one_conn() for _ in range(conns)))
    res.elapsed = time.perf_counter() - t0
    res.bodies.sort(key=lambda x: x[0])
    return res


def drive(port, reqs, conns=16, seconds=None, keep_bodies=False):
    """Send reqs (an iterable of Req) over `conns` keep-alive connections, each
    waiting for its answer before the next, until reqs is used up or `seconds`
    have passed. Returns a Result (rate = expected answers / wall time)."""
    return asyncio.run(_drive(port, reqs, conns, seconds, keep_bodies))


def created(res):
    """The parsed bodies of a keep_bodies run, in request order; fails on any
    unexpected answer (preparation must not silently lose rows)."""
    if res.bad:
        raise SystemExit(f"workflows: preparation failed: {res.bad[0]}")
    return [json.loads(b) for _, _, b in res.bodies]
