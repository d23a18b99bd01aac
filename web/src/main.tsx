// The console's entry: find out whether this browser holds a session, show
// the sign-in page or the console, and keep the session's CSRF token for the
// writes that follow.
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api, ApiError, setCsrf } from "./api";
import { Me, Schema } from "./schema";
import { Shell } from "./shell";
import "./style.css";

interface Session {
  me: Me;
  schema: Schema;
}

async function loadSession(): Promise<Session | null> {
  const s = await api<{ signed_in: boolean; csrf_token?: string }>("GET", "/api/v1/console/session");
  if (!s.data.signed_in) return null;
  setCsrf(s.data.csrf_token || "");
  const [me, schema] = await Promise.all([api<Me>("GET", "/api/v1/auth/me"), api<Schema>("GET", "/api/v1/schema")]);
  return { me: me.data, schema: schema.data };
}

function Login(props: { onDone: () => void }) {
  const [tenant, setTenant] = useState(localStorage.getItem("ob.tenant") || "");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const r = await api("POST", "/api/v1/console/session", { tenant, email, password });
      setCsrf(r.data.csrf_token);
      localStorage.setItem("ob.tenant", tenant);
      props.onDone();
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, null));
    } finally {
      setBusy(false);
    }
  };
  const fe = (f: string) => error?.fields[f];
  return (
    <main class="login">
      <form onSubmit={submit} aria-labelledby="login-title" novalidate>
        <h1 id="login-title">opsbase</h1>
        <p class="muted">Sign in to your organisation's console.</p>
        {error && !Object.keys(error.fields).length && (
          <p class="banner error" role="alert">
            {error.message}
          </p>
        )}
        <label for="login-tenant">Organisation</label>
        <input id="login-tenant" name="tenant" autocomplete="organization" value={tenant}
          onInput={(e) => setTenant((e.target as HTMLInputElement).value)} required />
        {fe("tenant") && <span class="err" role="alert">{fe("tenant")}</span>}
        <label for="login-email">E-mail</label>
        <input id="login-email" name="email" type="email" autocomplete="username" value={email}
          onInput={(e) => setEmail((e.target as HTMLInputElement).value)} required />
        {fe("email") && <span class="err" role="alert">{fe("email")}</span>}
        <label for="login-password">Password</label>
        <input id="login-password" name="password" type="password" autocomplete="current-password" value={password}
          onInput={(e) => setPassword((e.target as HTMLInputElement).value)} required />
        {fe("password") && <span class="err" role="alert">{fe("password")}</span>}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}

function App() {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [fatal, setFatal] = useState<string | null>(null);
  const refresh = () =>
    loadSession()
      .then(setSession)
      .catch((e) => setFatal(e.message));
  useEffect(() => {
    refresh();
  }, []);
  const signOut = async () => {
    try {
      await api("DELETE", "/api/v1/console/session");
    } finally {
      setCsrf("");
      setSession(null);
      location.hash = "#/";
    }
  };
  if (fatal) return <p class="banner error" role="alert">The console could not start: {fatal}</p>;
  if (session === undefined) return <p class="loading" aria-busy="true">Loading…</p>;
  if (session === null) return <Login onDone={refresh} />;
  return <Shell me={session.me} schema={session.schema} onSignOut={signOut} />;
}

render(<App />, document.getElementById("app")!);
