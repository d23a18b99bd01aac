// The signed-in user's own security: two-step sign-in (TOTP) enrolment with
// the authenticator's QR code, its recovery codes, and turning it off. The
// secret is shown once, by the server's enrolment answer; the console keeps
// it only while this page is open.
import qrcode from "qrcode-generator";
import { useMemo, useState } from "preact/hooks";
import { api, ApiError } from "./api";
import { Me } from "./schema";

interface Enrolment {
  secret: string;
  otpauth_uri: string;
}

// The otpauth:// URI as a QR code image (a data: URL, which the page's CSP allows).
export function qrDataUrl(text: string): string {
  const qr = qrcode(0, "M"); // 0: the smallest version that holds the text
  qr.addData(text);
  qr.make();
  return qr.createDataURL(5, 4);
}

function Err(props: { error: ApiError | null }) {
  return props.error ? <p class="banner error" role="alert">{props.error.message}</p> : null;
}

export function AccountPage(props: { me: Me }) {
  const [enabled, setEnabled] = useState<boolean>(!!props.me.user.mfa_enabled);
  const [password, setPassword] = useState("");
  const [code, setCode] = useState("");
  const [enrol, setEnrol] = useState<Enrolment | null>(null);
  const [recovery, setRecovery] = useState<string[] | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const qr = useMemo(() => (enrol ? qrDataUrl(enrol.otpauth_uri) : ""), [enrol]);
  const run = (step: () => Promise<void>) => async (e: Event) => {
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
  const start = run(async () => {
    const r = await api<Enrolment>("POST", "/api/v1/auth/mfa/enroll", { password });
    setPassword("");
    setEnrol(r.data);
  });
  const confirm = run(async () => {
    const r = await api<{ recovery_codes: string[] }>("POST", "/api/v1/auth/mfa/confirm", { code: code.replace(/\s/g, "") });
    setCode("");
    setEnrol(null);
    setRecovery(r.data.recovery_codes);
    setEnabled(true);
  });
  const disable = run(async () => {
    await api("POST", "/api/v1/auth/mfa/disable", { code: code.replace(/\s/g, "") });
    setCode("");
    setRecovery(null);
    setEnabled(false);
  });
  const codeInput = (label: string) => (
    <>
      <label for="mfa-code">{label}</label>
      <input id="mfa-code" value={code} inputMode="numeric" autocomplete="one-time-code" required
        onInput={(e) => setCode((e.target as HTMLInputElement).value)} />
    </>
  );
  return (
    <section class="account">
      <h1>My account</h1>
      <p class="muted">{props.me.user.email}</p>
      <h2 id="mfa-heading">Two-step sign-in</h2>
      <p role="status">
        Two-step sign-in is <strong>{enabled ? "on" : "off"}</strong>
        {enabled ? ": signing in asks for a code from your authenticator app." : "."}
      </p>
      <Err error={error} />
      {recovery && (
        <div class="card">
          <h3>Recovery codes</h3>
          <p>Each code signs you in once if you lose your phone. They are shown only now: keep them somewhere safe.</p>
          <ul class="codes" aria-label="Recovery codes">
            {recovery.map((c) => <li key={c}><code>{c}</code></li>)}
          </ul>
        </div>
      )}
      {!enabled && !enrol && (
        <form onSubmit={start} class="narrow" aria-labelledby="mfa-heading">
          <label for="mfa-password">Your password</label>
          <input id="mfa-password" type="password" autocomplete="current-password" value={password} required
            onInput={(e) => setPassword((e.target as HTMLInputElement).value)} />
          <button type="submit" class="primary" disabled={busy}>Set up two-step sign-in</button>
        </form>
      )}
      {!enabled && enrol && (
        <form onSubmit={confirm} class="narrow" aria-labelledby="mfa-heading">
          <p>Scan this code with your authenticator app, then enter the six digits it shows.</p>
          <img class="qr" src={qr} alt="QR code for your authenticator app" width={200} height={200} />
          <p>
            Or type this key: <code data-secret>{enrol.secret}</code>
          </p>
          {codeInput("Code from the app")}
          <button type="submit" class="primary" disabled={busy}>Turn on</button>
        </form>
      )}
      {enabled && (
        <form onSubmit={disable} class="narrow" aria-labelledby="mfa-heading">
          {codeInput("Code from the app")}
          <button type="submit" class="danger" disabled={busy}>Turn off two-step sign-in</button>
        </form>
      )}
    </section>
  );
}
