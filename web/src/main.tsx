// The console's entry: find out whether this browser holds a session, show
// the sign-in page (password, then the authenticator's code when the account
// has MFA) or the console, keep the session's CSRF token for the writes that
// follow and renew its token before it expires (session.ts).
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api, ApiError, setCsrf } from "./api";
import { Me, Schema } from "./schema";
import { PlatformApp } from "./platform";
import { useRoute } from "./router";
import { keepAlive, stop } from "./session";
import { Shell } from "./shell";
import "./style.css";

interface Session {
  me: Me;
  schema: Schema;
  serverNow: number; // when /auth/me answered, by the server's clock
}

async function loadSession(): Promise<Session | null> {
  const s = await api<{ signed_in: boolean; csrf_token?: string }>("GET", "/api/v1/console/session");
  if (!s.data.signed_in) return null;
  setCsrf(s.data.csrf_token || "");
  const [me, schema] = await Promise.all([api<Me>("GET", "/api/v1/auth/me"), api<Schema>("GET", "/api/v1/schema")]);
  return { me: me.data, schema: schema.data, serverNow: me.date };
}

interface SignedIn {
  csrf_token: string;
  expires_at: string;
}
interface SignInReply extends Partial<SignedIn> {
  mfa_required?: boolean;
  challenge?: string;
}

function Login(props: { onDone: () => void }) {
  const [tenant, setTenant] = useState(localStorage.getItem("ob.tenant") || "");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [challenge, setChallenge] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const run = async (e: Event, step: () => Promise<void>) => {
    e.preventDefault();
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
  const signedIn = (r: SignedIn) => {
    setCsrf(r.csrf_token);
    localStorage.setItem("ob.tenant", tenant);
    props.onDone();
  };
  const submit = (e: Event) =>
    run(e, async () => {
      const r = await api<SignInReply>("POST", "/api/v1/console/session", { tenant, email, password });
      setPassword(""); // not kept once checked
      if (r.data.mfa_required) setChallenge(r.data.challenge!);
      else signedIn(r.data as SignedIn);
    });
  if (challenge)
    return <SecondFactor challenge={challenge} busy={busy} error={error} run={run} onDone={signedIn}
      onBack={() => { setChallenge(null); setError(null); }} />;
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

// The second step of a sign-in with MFA: the authenticator's six digits, or
// one of the recovery codes given at enrolment.
function SecondFactor(props: {
  challenge: string;
  busy: boolean;
  error: ApiError | null;
  run: (e: Event, step: () => Promise<void>) => Promise<void>;
  onDone: (r: SignedIn) => void;
  onBack: () => void;
}) {
  const [code, setCode] = useState("");
  const [recovery, setRecovery] = useState(false);
  const submit = (e: Event) =>
    props.run(e, async () => {
      const body = recovery ? { challenge: props.challenge, recovery_code: code.trim() }
        : { challenge: props.challenge, code: code.replace(/\s/g, "") };
      const r = await api<SignedIn>("POST", "/api/v1/console/session/mfa", body);
      props.onDone(r.data);
    });
  const label = recovery ? "Recovery code" : "Authentication code";
  return (
    <main class="login">
      <form onSubmit={submit} aria-labelledby="mfa-title" novalidate>
        <h1 id="mfa-title">Two-step sign-in</h1>
        <p class="muted">
          {recovery ? "Enter one of the recovery codes you saved when you set up two-step sign-in."
            : "Enter the six-digit code your authenticator app shows for opsbase."}
        </p>
        {props.error && (
          <p class="banner error" role="alert">
            {props.error.message}
          </p>
        )}
        <label for="mfa-code">{label}</label>
        <input id="mfa-code" name="code" value={code} autocomplete="one-time-code" required
          inputMode={recovery ? "text" : "numeric"} pattern={recovery ? undefined : "[0-9 ]*"}
          onInput={(e) => setCode((e.target as HTMLInputElement).value)} />
        <button type="submit" class="primary" disabled={props.busy}>
          {props.busy ? "Checking…" : "Verify"}
        </button>
        <p>
          <button type="button" class="link" onClick={() => { setRecovery(!recovery); setCode(""); }}>
            {recovery ? "Use the authenticator's code" : "Use a recovery code"}
          </button>{" "}
          · <button type="button" class="link" onClick={props.onBack}>Start again</button>
        </p>
      </form>
    </main>
  );
}

function App() {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [fatal, setFatal] = useState<string | null>(null);
  const refresh = () =>
    loadSession()
      .then((s) => {
        if (s) keepAlive(s.me.session?.token_expires_at, s.serverNow, () => setSession(null));
        setSession(s);
      })
      .catch((e) => setFatal(e.message));
  useEffect(() => {
    refresh();
  }, []);
  const signOut = async () => {
    try {
      await api("DELETE", "/api/v1/console/session");
    } finally {
      stop();
      setCsrf("");
      setSession(null);
      location.hash = "#/";
    }
  };
  const route = useRoute();
  // the super admins' console is another app on its own cookie (platform.tsx)
  if (route.kind === "platform") return <PlatformApp page={route.page} />;
  if (fatal) return <p class="banner error" role="alert">The console could not start: {fatal}</p>;
  if (session === undefined) return <p class="loading" aria-busy="true">Loading…</p>;
  if (session === null) return <Login onDone={refresh} />;
  return <Shell me={session.me} schema={session.schema} onSignOut={signOut} />;
}

render(<App />, document.getElementById("app")!);
