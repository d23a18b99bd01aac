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

export interface Reply<T = any> {
  data: T;
  etag: string | null;
}

export async function api<T = any>(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
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
  if (!r.ok) throw new ApiError(r.status, data);
  return { data: data as T, etag: r.headers.get("ETag") };
}

export function qs(params: Record<string, string | undefined>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") u.append(k, v);
  const s = u.toString();
  return s ? `?${s}` : "";
}
