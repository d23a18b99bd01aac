"""Sign-in alerts (issue #17, seed 003 security alerts): a sign-in from a
device (User-Agent) or an address the user has not signed in from before
raises a security_alerts row, and an e-mail to the user when the tenant has
a "security_alert" template."""
import httpx

import helpers as h
from test_jobs import _wait
from test_notify import notify_server  # noqa: F401  (the server mailing to a sink)

API = "/api/v1"


def sign_in(base, tenant, email, password=h.USER_PASSWORD, ua="opsbase-tests/1", local=None):
    transport = httpx.HTTPTransport(local_address=local) if local else None
    with httpx.Client(base_url=base, timeout=h.HTTP_TIMEOUT, transport=transport,
                      headers={"User-Agent": ua}) as c:
        r = c.post(f"{API}/auth/login", json={"tenant": tenant, "email": email, "password": password})
    return h.ok(r)


def alerts(owner):
    return sorted(h.list_all(owner, "security_alerts"), key=lambda a: a["created_at"])


def test_new_device_and_new_address_raise_alerts(server, new_tenant):
    t = new_tenant(agents=1)
    before = len(alerts(t.owner))
    uid = sign_in(server.url, t.slug, t.agents[0])["user"]["id"]   # first sign-in: nothing to differ from
    sign_in(server.url, t.slug, t.agents[0])                       # same device, same address
    assert len(alerts(t.owner)) == before
    sign_in(server.url, t.slug, t.agents[0], ua="OtherBrowser/2.0")
    sign_in(server.url, t.slug, t.agents[0], local="127.0.0.2")
    sign_in(server.url, t.slug, t.agents[0], ua="ThirdBrowser/3.0", local="127.0.0.3")
    sign_in(server.url, t.slug, t.agents[0], ua="OtherBrowser/2.0", local="127.0.0.2")  # both seen now
    got = [a for a in alerts(t.owner) if a["user_id"] == uid]
    assert [a["alert_type"] for a in got] == ["new_device_login", "new_address_login", "new_device_login"]
    assert [a["ip_address"] for a in got] == ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
    assert got[2]["description"] == "sign-in from a new device and a new address"
    assert all(a["severity"] == "medium" and a["status"] == "open" for a in got)
    assert h.as_obj(got[1]["additional_data"]) == {"new_device": False, "new_address": True}
    # a failed sign-in from a new device raises nothing
    r = h.login_raw(server.url, t.slug, t.agents[0], "Wrong-pass-1!")
    assert r.status_code == 401
    assert len([a for a in alerts(t.owner) if a["user_id"] == uid]) == 3


def test_alert_is_mailed_with_the_tenants_template(notify_server):  # noqa: F811
    c, sink, base, _ = notify_server
    sign_in(base, "jk", "agent@jk.test")
    # without a template the alert is only listed
    sign_in(base, "jk", "agent@jk.test", ua="Phone/1")
    assert [a["alert_type"] for a in h.list_all(c, "security_alerts")] == ["new_device_login"]
    h.ok(c.post(f"{API}/notification_templates", json={
        "name": "New sign-in", "code": "security_alert", "type": "email", "subject": "New sign-in to your account",
        "body": "We saw a {{alert_type}}: {{description}} ({{ip_address}}).",
        "variables": ["alert_type", "description", "ip_address"]}), 201)
    sign_in(base, "jk", "agent@jk.test", ua="Tablet/1")
    m = _wait(lambda: sink.messages() and sink.messages()[0], 20, "the alert mailed")
    assert m["to"] == ["<agent@jk.test>"]
    assert "Subject: New sign-in to your account" in m["data"]
    assert "We saw a new_device_login: sign-in from a new device (127.0.0.1)." in m["data"]
    assert len(h.list_all(c, "security_alerts")) == 2
