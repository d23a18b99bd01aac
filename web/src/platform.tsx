// The super admins' console (#/platform): its own sign-in (password, then a
// TOTP code; the first sign-in enrols, showing the secret as a QR code), the
// tenants with suspend and resume, and the platform's audit chain. It runs on
// the platform API (/api/v1/platform/...) with a cookie of its own that the
// tenants' console never sees.
import { useEffect, useState } from "preact/hooks";
import { api, ApiError, setCsrf } from "./api";
import { qrDataUrl } from "./account";

interface LoginReply {
  mfa_required: boolean;
  challenge: string;
  mfa_enrolment: boolean;
  secret?: string;
  otpauth_uri?: string;
}

function Err(props: { error: ApiError | null }) {
  return props.error ? <p class="banner error" role="alert">{props.error.message}</p> : null;
}

function useRunner() {
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const run = (step: () => Promise<void>) => async (e?: Event) => {
    e?.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await step();
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, null));
    } finally {
      setBusy(false);
    }
  };
  return { error, busy, run };
}

function PlatformLogin(props: { onDone: () => void }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [code, setCode] = useState("");
  const [step, setStep] = useState<LoginReply | null>(null);
  const { error, busy, run } = useRunner();
  const login = run(async () => {
    const r = await api<LoginReply>("POST", "/api/v1/platform/auth/login", { email, password });
    setPassword("");
    setStep(r.data);
  });
  const verify = run(async () => {
    const r = await api<{ csrf_token: string }>("POST", "/api/v1/console/platform/session/mfa",
      { challenge: step!.challenge, code: code.replace(/\s/g, "") });
    setCsrf(r.data.csrf_token);
    props.onDone();
  });
  return (
    <main class="login">
      {!step ? (
        <form onSubmit={login} aria-labelledby="pl-title" novalidate>
          <h1 id="pl-title">opsbase platform</h1>
          <p class="muted">Sign in as a platform administrator.</p>
          <Err error={error} />
          <label for="pl-email">E-mail</label>
          <input id="pl-email" type="email" autocomplete="username" value={email} required
            onInput={(e) => setEmail((e.target as HTMLInputElement).value)} />
          <label for="pl-password">Password</label>
          <input id="pl-password" type="password" autocomplete="current-password" value={password} required
            onInput={(e) => setPassword((e.target as HTMLInputElement).value)} />
          <button type="submit" class="primary" disabled={busy}>Continue</button>
        </form>
      ) : (
        <form onSubmit={verify} aria-labelledby="pl-title" novalidate>
          <h1 id="pl-title">Two-step sign-in</h1>
          {step.mfa_enrolment && step.otpauth_uri ? (
            <>
              <p>Platform administrators always sign in with a second factor. Scan this code with your
                authenticator app; its first code confirms it.</p>
              <img class="qr" src={qrDataUrl(step.otpauth_uri)} alt="QR code for your authenticator app"
                width={200} height={200} />
              <p>Or type this key: <code data-secret>{step.secret}</code></p>
            </>
          ) : (
            <p class="muted">Enter the six-digit code your authenticator app shows for the opsbase platform.</p>
          )}
          <Err error={error} />
          <label for="pl-code">Authentication code</label>
          <input id="pl-code" value={code} inputMode="numeric" autocomplete="one-time-code" required
            onInput={(e) => setCode((e.target as HTMLInputElement).value)} />
          <button type="submit" class="primary" disabled={busy}>Verify</button>
        </form>
      )}
    </main>
  );
}

interface Tenant {
  id: string;
  name: string;
  slug: string;
  status: string;
  created_at: string;
}

function Tenants() {
  const [rows, setRows] = useState<Tenant[] | null>(null);
  const { error, busy, run } = useRunner();
  const load = run(async () => {
    const r = await api<{ data: Tenant[] }>("GET", "/api/v1/platform/tenants?sort=slug&limit=100");
    setRows(r.data.data);
  });
  useEffect(() => {
    load();
  }, []);
  const act = (t: Tenant, verb: "suspend" | "resume") =>
    run(async () => {
      const r = await api<Tenant>("POST", `/api/v1/platform/tenants/${encodeURIComponent(t.id)}/${verb}`, {});
      setRows((rs) => rs && rs.map((x) => (x.id === t.id ? { ...x, ...r.data } : x)));
    });
  return (
    <section>
      <h1>Tenants</h1>
      <Err error={error} />
      {!rows ? (
        <p class="loading" aria-busy="true">Loading…</p>
      ) : (
        <div class="scroll">
          <table>
            <thead>
              <tr><th>Name</th><th>Slug</th><th>Status</th><th>Created</th><th><span class="sr">Actions</span></th></tr>
            </thead>
            <tbody>
              {rows.map((t) => (
                <tr key={t.id}>
                  <td>{t.name}</td>
                  <td><code>{t.slug}</code></td>
                  <td><span class={`pill ${t.status}`}>{t.status}</span></td>
                  <td>{new Date(t.created_at).toLocaleString()}</td>
                  <td>
                    {t.status === "active" && (
                      <button type="button" class="danger" disabled={busy} onClick={act(t, "suspend")}
                        aria-label={`Suspend ${t.name}`}>Suspend</button>
                    )}
                    {t.status === "suspended" && (
                      <button type="button" disabled={busy} onClick={act(t, "resume")}
                        aria-label={`Resume ${t.name}`}>Resume</button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

interface AuditRow {
  id: string;
  seq: number;
  created_at: string;
  super_admin_id?: string;
  action: string;
  entity_type: string;
  entity_id?: string;
  new_values?: unknown;
}

function Audit() {
  const [rows, setRows] = useState<AuditRow[] | null>(null);
  const [slugs, setSlugs] = useState<Map<string, string>>(new Map());
  const { error, run } = useRunner();
  useEffect(() => {
    run(async () => {
      const [r, ts] = await Promise.all([
        api<{ data: AuditRow[] }>("GET", "/api/v1/platform/platform_audit_logs?sort=-seq&limit=50"),
        api<{ data: Tenant[] }>("GET", "/api/v1/platform/tenants?limit=100"),
      ]);
      // a tenant is named by its slug, which people know, rather than its id
      setSlugs(new Map(ts.data.data.map((t) => [t.id, t.slug])));
      setRows(r.data.data);
    })();
  }, []);
  return (
    <section>
      <h1>Platform audit</h1>
      <p class="muted">Every change a platform administrator made, newest first, each row chained to the one before.</p>
      <Err error={error} />
      {!rows ? (
        <p class="loading" aria-busy="true">Loading…</p>
      ) : (
        <div class="scroll">
          <table>
            <thead>
              <tr><th>#</th><th>When</th><th>Action</th><th>On</th><th>Admin</th></tr>
            </thead>
            <tbody>
              {rows.map((a) => (
                <tr key={a.id}>
                  <td>{a.seq}</td>
                  <td>{new Date(a.created_at).toLocaleString()}</td>
                  <td>{a.action}</td>
                  <td>
                    {a.entity_type}{" "}
                    <code>{(a.entity_type === "tenants" && a.entity_id && slugs.get(a.entity_id)) || a.entity_id}</code>
                  </td>
                  <td><code>{a.super_admin_id}</code></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

export function PlatformApp(props: { page: string }) {
  const [state, setState] = useState<"loading" | "in" | "out">("loading");
  const [email, setEmail] = useState("");
  const check = async () => {
    const s = await api<{ signed_in: boolean; csrf_token?: string }>("GET", "/api/v1/console/platform/session");
    if (!s.data.signed_in) return setState("out");
    setCsrf(s.data.csrf_token || "");
    const me = await api<{ super_admin: { email: string } }>("GET", "/api/v1/platform/auth/me");
    setEmail(me.data.super_admin.email);
    setState("in");
  };
  useEffect(() => {
    check();
  }, []);
  const signOut = async () => {
    try {
      await api("DELETE", "/api/v1/console/platform/session");
    } finally {
      setCsrf("");
      setState("out");
    }
  };
  if (state === "loading") return <p class="loading" aria-busy="true">Loading…</p>;
  if (state === "out") return <PlatformLogin onDone={check} />;
  return (
    <div class="shell">
      <a class="skip" href="#main">Skip to content</a>
      <header class="top">
        <a class="brand" href="#/platform">opsbase platform</a>
        <span class="who"><span class="user">{email}</span></span>
        <button type="button" onClick={signOut}>Sign out</button>
      </header>
      <details class="nav" open>
        <summary>Menu</summary>
        <nav aria-label="Platform">
          <ul>
            <li><a href="#/platform" aria-current={props.page !== "audit" ? "page" : undefined}>Tenants</a></li>
            <li><a href="#/platform/audit" aria-current={props.page === "audit" ? "page" : undefined}>Platform audit</a></li>
          </ul>
        </nav>
      </details>
      <main id="main" tabIndex={-1}>{props.page === "audit" ? <Audit /> : <Tenants />}</main>
    </div>
  );
}
