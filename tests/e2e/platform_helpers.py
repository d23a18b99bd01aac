"""Helpers of the platform (super-admin) tests: TOTP codes computed here from
the secret the server hands out (RFC 6238, HMAC-SHA1, 6 digits, 30 s), super
admins made with the command line, and a signed-in platform client."""
import base64
import hashlib
import hmac
import struct
import subprocess
import time

import httpx
import pytest

import helpers as h

PLATFORM = "/api/v1/platform"
ADMIN_PASSWORD = "Platform-pass-123!"


def totp(secret_b32, step=None):
    """The code of a step (default: now's)."""
    if step is None:
        step = int(time.time()) // 30
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    n = (struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 1_000_000
    return f"{n:06d}"


def now_step():
    return int(time.time()) // 30


def create_admin(cli, email=None, password=ADMIN_PASSWORD):
    email = email or f"{h.uniq('admin')}@platform.test"
    cli.run("admin", "create-super-admin", "--email", email, "--password", password, "--name", "Platform Admin")
    return email


def enrol(base_url, email, password=ADMIN_PASSWORD):
    """First sign-in of a new admin: enrol with a code of now's step.
    Returns (token, secret, step used)."""
    with httpx.Client(base_url=base_url, timeout=h.HTTP_TIMEOUT) as c:
        r = c.post(f"{PLATFORM}/auth/login", json={"email": email, "password": password})
        body = h.ok(r)
        assert body["mfa_required"] is True and body["mfa_enrolment"] is True, body
        step = now_step()
        r = c.post(f"{PLATFORM}/auth/mfa/verify", json={"challenge": body["challenge"], "code": totp(body["secret"], step)})
        return h.ok(r)["token"], body["secret"], step


def client(base_url, token):
    return httpx.Client(base_url=base_url, timeout=h.HTTP_TIMEOUT, headers={"Authorization": f"Bearer {token}"})


def control_rows(server, sql):
    """Rows of one SELECT on the control database (text values)."""
    if server.db_url:
        r = subprocess.run(["psql", server.db_url, "-v", "ON_ERROR_STOP=1", "-AtF", "\t", "-c", sql],
                           check=True, capture_output=True, text=True)
        return [tuple(line.split("\t")) for line in r.stdout.splitlines() if line]
    with h.sqlite_db(server.data / "control.db") as c:
        return [tuple("" if v is None else str(v) for v in row) for row in c.execute(sql)]


@pytest.fixture(scope="module")
def platform_admin(server):
    """A signed-in super admin: (httpx client, email)."""
    email = create_admin(server.cli)
    token, _, _ = enrol(server.url, email)
    with client(server.url, token) as c:
        yield c
