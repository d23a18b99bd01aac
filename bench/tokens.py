#!/usr/bin/python3
"""Sign in to many tenants and write one line per tenant for wrk's scripts:
"token id id ..." (IDS customer ids read from the tenant's file, read-only) or
"token" when IDS is 0. The same as signing in with curl tenant by tenant, but
one process for all of them and PARALLEL (default 4) sign-ins at once (each costs an
argon2id hash in the server), so a 1,000-tenant mix is ready in a minute or two
rather than ten.

usage: tokens.py PORT FIRST LAST FORMAT IDS DATA OUT [PARALLEL [PASSWORD]]
(FORMAT % i for i = FIRST..LAST is the slug; the owner is owner@SLUG.test, the
password PASSWORD, by default the benchmark's owner password.)
"""
import json
import sqlite3
import sys
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor


def one(port, slug, ids, data, password):
    body = json.dumps({"tenant": slug, "email": "owner@%s.test" % slug, "password": password}).encode()
    req = urllib.request.Request("http://127.0.0.1:%d/api/v1/auth/login" % port, data=body,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            token = json.load(r)["token"]
    except urllib.error.HTTPError as e:
        raise RuntimeError("signing in to %s: HTTP %d %s" % (slug, e.code, e.read()[:200].decode("utf-8", "replace")))
    if ids <= 0:
        return token
    db = sqlite3.connect("file:%s/tenants/%s.db?mode=ro" % (data, slug), uri=True)
    try:
        rows = db.execute("SELECT id FROM customers ORDER BY random() LIMIT ?", (ids,)).fetchall()
    finally:
        db.close()
    return " ".join([token] + [r[0] for r in rows])


def main():
    port, first, last, fmt, ids, data, out = (int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4],
                                              int(sys.argv[5]), sys.argv[6], sys.argv[7])
    par = int(sys.argv[8]) if len(sys.argv) > 8 else 4
    password = sys.argv[9] if len(sys.argv) > 9 else "bench-owner-pass-1"
    slugs = [fmt % i for i in range(first, last + 1)]
    with ThreadPoolExecutor(max_workers=par) as ex:
        lines = list(ex.map(lambda s: one(port, s, ids, data, password), slugs))
    with open(out, "w") as f:
        for line in lines:
            f.write(line + "\n")


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # one line the calling script can show
        sys.stderr.write("tokens.py: %s\n" % e)
        sys.exit(1)
