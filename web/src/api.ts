// The console's one way to the server: same-origin fetch with the session
// cookie, the CSRF token on every write, JSON in and out, and API errors as
// ApiError (status, code, the per-field messages of validation_failed).

export class ApiError extends Error {
  status: number;
  code: string;
  field?: string;
  fields: Record<string, string>;
  constructor(status: number, body: any) {
    const e = body && body.error ? body.error : {};
    super(e.message || `request failed (${status})`);
    this.status = status;
    this.code = e.code || "error";
    this.field = e.field;
    this.fields = { ...(e.fields || {}) };
    if (e.field && !this.fields[e.field]) this.fields[e.field] = e.message;
  }
}

let csrf = "";
export function setCsrf(token: string) {
  csrf = token;
}

// Renews the session's token (main.tsx): called when a request is refused
// as unauthenticated, since a tab that slept past the token's expiry has
// missed its timer; true when there is a new token to retry with.
let renewer: (() => Promise<boolean>) | null = null;
export function setRenewer(fn: (() => Promise<boolean>) | null) {
  renewer = fn;
}

export interface Reply<T = any> {
  data: T;
  etag: string | null;
  date: number; // the server's clock at the answer (its Date header), ms
}

export async function api<T = any>(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
  retry = true,
): Promise<Reply<T>> {
  const h: Record<string, string> = { Accept: "application/json", ...headers };
  if (body !== undefined) h["Content-Type"] = "application/json";
  if (method !== "GET") h["X-CSRF-Token"] = csrf;
  const r = await fetch(path, {
    method,
    headers: h,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  const text = await r.text();
  let data: any = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (r.status === 401 && retry && renewer && !path.startsWith("/api/v1/console/session")) {
    if (await renewer()) return api<T>(method, path, body, headers, false);
  }
  if (!r.ok) throw new ApiError(r.status, data);
  const date = Date.parse(r.headers.get("Date") || "");
  return { data: data as T, etag: r.headers.get("ETag"), date: Number.isNaN(date) ? Date.now() : date };
}

export function qs(params: Record<string, string | undefined>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") u.append(k, v);
  const s = u.toString();
  return s ? `?${s}` : "";
}

// The session's CSRF token, for the one write that is not JSON (a multipart upload, files.tsx).
export const csrfToken = () => csrf;
