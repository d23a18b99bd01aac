// The service-centre queue board, on a centre's record page: today's open
// tokens in three columns (waiting, called, serving), "Call next" (the
// centre's call_next action) and each token's allowed events as buttons. It
// stays current through the realtime stream (GET /api/v1/stream): a token
// issued or moved anywhere shows up here without a reload.
import { useEffect, useState } from "preact/hooks";
import { api, ApiError, qs } from "./api";
import { can } from "./schema";
import type { Ctx } from "./shell";

interface Token {
  id: string;
  queue_number: string;
  service_center_id: string;
  service_type?: string;
  status: string;
  estimated_wait_minutes?: number;
  created_at: string;
  called_at?: string;
}

const COLUMNS: [string, string][] = [
  ["waiting", "Waiting"],
  ["called", "Called"],
  ["serving", "Serving"],
];
const OPEN = new Set(COLUMNS.map(([s]) => s));

export function QueueBoard(props: { ctx: Ctx; centre: Record<string, any> }) {
  const { ctx, centre } = props;
  const [tokens, setTokens] = useState<Map<string, Token>>(new Map());
  const [error, setError] = useState<string | null>(null);
  const [live, setLive] = useState(false);
  const [busy, setBusy] = useState(false);
  const qt = ctx.tables.get("queue_numbers");
  useEffect(() => {
    if (!qt) return;
    let closed = false;
    const put = (t: Token) =>
      setTokens((m) => {
        const next = new Map(m);
        if (OPEN.has(t.status)) next.set(t.id, t);
        else next.delete(t.id);
        return next;
      });
    api<{ data: Token[] }>("GET", `/api/v1/queue_numbers${qs({ service_center_id: centre.id, "status.in": "waiting,called,serving", sort: "created_at", limit: "200" })}`)
      .then((r) => !closed && setTokens(new Map(r.data.data.map((t) => [t.id, t]))))
      .catch((e: ApiError) => setError(e.message));
    // the stream sends every change of a token this user may see; this board keeps its centre's
    const es = new EventSource("/api/v1/stream?tables=queue_numbers");
    const on = (e: MessageEvent) => {
      const t = JSON.parse(e.data) as Token & { deleted?: boolean };
      if (t.deleted) setTokens((m) => { const n = new Map(m); n.delete(t.id); return n; });
      else if (t.service_center_id === centre.id) put(t);
    };
    for (const kind of ["created", "updated", "deleted"]) es.addEventListener(`queue_numbers.${kind}`, on as EventListener);
    es.onopen = () => setLive(true);
    es.onerror = () => setLive(false);
    return () => {
      closed = true;
      es.close();
    };
  }, [centre.id]);
  if (!qt) return null;
  const run = (path: string) => async () => {
    setBusy(true);
    setError(null);
    try {
      const r = await api<Token>("POST", path, {});
      if (r.data && r.data.id) setTokens((m) => new Map(m).set(r.data.id, r.data));
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  const events = qt.state_machine?.transitions || [];
  const sorted = [...tokens.values()].sort((a, b) => (a.created_at < b.created_at ? -1 : 1));
  return (
    <section class="queue" aria-labelledby="queue-title">
      <h2 id="queue-title">Queue board</h2>
      <p class="muted">
        <span role="status">{live ? "Live" : "Connecting…"}</span>
        {can(ctx.me, "services.edit") && (
          <>
            {" "}
            <button type="button" class="primary" disabled={busy || !sorted.some((t) => t.status === "waiting")}
              onClick={run(`/api/v1/service_centers/${encodeURIComponent(centre.id)}/call_next`)}>Call next</button>
          </>
        )}
      </p>
      {error && <p class="banner error" role="alert">{error}</p>}
      <div class="board">
        {COLUMNS.map(([status, label]) => {
          const ts = sorted.filter((t) => t.status === status);
          return (
            <section key={status} class={`col ${status}`} aria-label={label}>
              <h3>{label} <span class="muted">({ts.length})</span></h3>
              <ul>
                {ts.map((t) => (
                  <li key={t.id} data-token={t.queue_number}>
                    <strong class="number">{t.queue_number}</strong>
                    {t.service_type && <span class="muted"> · {t.service_type}</span>}
                    {status === "waiting" && t.estimated_wait_minutes != null && (
                      <span class="muted"> · ~{t.estimated_wait_minutes} min</span>
                    )}
                    <span class="buttons">
                      {events
                        .filter((e) => e.from.split(",").includes(status) && can(ctx.me, e.permission))
                        .map((e) => (
                          <button type="button" key={e.event} disabled={busy}
                            aria-label={`${e.event.replace(/_/g, " ")} ${t.queue_number}`}
                            onClick={run(`/api/v1/queue_numbers/${encodeURIComponent(t.id)}/${e.event}`)}>
                            {e.event.replace(/_/g, " ")}
                          </button>
                        ))}
                    </span>
                  </li>
                ))}
              </ul>
            </section>
          );
        })}
      </div>
    </section>
  );
}
