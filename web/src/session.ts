// Keeps the console's session alive: the token in the HttpOnly cookie has an
// expiry the console knows (the sign-in's and /auth/me's token_expires_at),
// and a minute before it the console trades its refresh cookie for a new
// token (POST /api/v1/console/session/refresh, rotated as /auth/refresh is).
// Scripts never see either token; they learn only the next CSRF token. The
// wait is measured on the server's clock (its Date header), since the
// browser's may be wrong by any amount.
import { api, setCsrf, setRenewer } from "./api";

const MARGIN_MS = 60_000;
const MIN_DELAY_MS = 5_000;

let timer: ReturnType<typeof setTimeout> | undefined;
let inflight: Promise<boolean> | null = null;
let lost: () => void = () => {};

interface Renewed {
  csrf_token: string;
  expires_at: string;
}

function schedule(expiresAt: string, serverNow: number) {
  clearTimeout(timer);
  const at = Date.parse(expiresAt);
  if (Number.isNaN(at)) return;
  timer = setTimeout(() => void renew(), Math.max(MIN_DELAY_MS, at - serverNow - MARGIN_MS));
}

// One renewal at a time: a timer and a refused request may both ask, and a
// refresh token is good once (a second use would end the session as reuse).
export function renew(): Promise<boolean> {
  if (!inflight)
    inflight = api<Renewed>("POST", "/api/v1/console/session/refresh")
      .then((r) => {
        setCsrf(r.data.csrf_token);
        schedule(r.data.expires_at, r.date);
        return true;
      })
      .catch(() => {
        stop();
        lost();
        return false;
      })
      .finally(() => (inflight = null));
  return inflight;
}

// Start (or restart) after a sign-in or a reload; onLost shows the sign-in page.
export function keepAlive(expiresAt: string | undefined, serverNow: number, onLost: () => void) {
  lost = onLost;
  setRenewer(renew);
  if (expiresAt) schedule(expiresAt, serverNow);
}

export function stop() {
  clearTimeout(timer);
  setRenewer(null);
}
