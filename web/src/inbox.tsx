// The ticket inbox: an agent's queue (mine, unassigned, every active
// ticket) with the SLA clocks of each ticket counting down, and beside it
// the ticket chosen: its thread, a reply or an internal note, the
// knowledge-base documents that may answer it, its state-machine events as
// buttons and the customer's satisfaction rating once given. Every write is
// the API's own (ticket_messages, the ticket's events, its rate action).
import { useEffect, useState } from "preact/hooks";
import { api, ApiError, qs } from "./api";
import { formatTime } from "./fields";
import { href } from "./router";
import { can } from "./schema";
import { useRun } from "./run";
import type { Ctx } from "./shell";
import "./screens-b.css";

type Row = Record<string, any>;
const ACTIVE = "open,in_progress,waiting_customer,waiting_internal";
const TABS: [string, string][] = [
  ["mine", "My queue"],
  ["unassigned", "Unassigned"],
  ["all", "All open"],
];

// The server's clock, ticking: the browser's own clock may be wrong, so the
// distance between them is taken from the Date header of a reply.
function useServerNow(skew: number): number {
  const [now, setNow] = useState(Date.now() + skew);
  useEffect(() => {
    setNow(Date.now() + skew);
    const t = setInterval(() => setNow(Date.now() + skew), 15000);
    return () => clearInterval(t);
  }, [skew]);
  return now;
}

function span(ms: number): string {
  const m = Math.round(Math.abs(ms) / 60000);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  return h < 48 ? `${h} h ${m % 60} min` : `${Math.floor(h / 24)} d ${h % 24} h`;
}

// One SLA clock: met when done, else due in ... or breached ... ago; a
// ticket waiting for its customer has its clock paused.
export function SlaClock(props: { label: string; due?: string; done?: string; paused?: string; now: number }) {
  const { label, due, done, paused, now } = props;
  if (!due) return null;
  const at = Date.parse(due);
  let text: string, state: string;
  if (done) {
    const late = Date.parse(done) > at;
    text = late ? `met late (${formatTime(done)})` : "met";
    state = late ? "late" : "met";
  } else if (paused) {
    text = "paused";
    state = "paused";
  } else if (now > at) {
    text = `breached ${span(now - at)} ago`;
    state = "late";
  } else {
    text = `due in ${span(at - now)}`;
    state = at - now < 15 * 60000 ? "soon" : "ok";
  }
  return (
    <span class={`sla ${state}`} data-sla={label} title={`${label} due ${formatTime(due)}`}>
      <span class="sr">{label}: </span>
      {text}
    </span>
  );
}

export function InboxScreen(props: { ctx: Ctx }) {
  const { ctx } = props;
  const me = ctx.me.user.id as string;
  const [tab, setTab] = useState("mine");
  const [rows, setRows] = useState<Row[] | null>(null);
  const [skew, setSkew] = useState(0);
  const [chosen, setChosen] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [version, setVersion] = useState(0);
  const now = useServerNow(skew);
  useEffect(() => {
    const params: Record<string, string> = { "status.in": ACTIVE, sort: "sla_due_date", limit: "100" };
    if (tab === "mine") params.assigned_agent_id = me;
    if (tab === "unassigned") params["assigned_agent_id.null"] = "true";
    setRows(null);
    api<{ data: Row[] }>("GET", `/api/v1/tickets${qs(params)}`)
      .then((r) => {
        setSkew(r.date - Date.now());
        setRows(r.data.data);
      })
      .catch((e: ApiError) => setError(e.message));
  }, [tab, version]);
  return (
    <section class="inbox">
      <h1>Ticket inbox</h1>
      <div role="tablist" aria-label="Queues" class="tabs">
        {TABS.map(([k, label]) => (
          <button type="button" role="tab" key={k} aria-selected={tab === k} onClick={() => { setTab(k); setRows(null); }}>
            {label}
          </button>
        ))}
      </div>
      {error && <p class="banner error" role="alert">{error}</p>}
      <div class="split">
        <div class="tablebox">
          <table aria-label="Tickets">
            <thead>
              <tr>
                <th scope="col">Ticket</th>
                <th scope="col">Status</th>
                <th scope="col">Priority</th>
                <th scope="col">First response</th>
                <th scope="col">Resolution</th>
              </tr>
            </thead>
            <tbody aria-busy={rows === null}>
              {rows && !rows.length && (
                <tr><td colSpan={5} class="muted">No tickets here.</td></tr>
              )}
              {(rows || []).map((t) => (
                <tr key={t.id} data-ticket={t.ticket_number} aria-selected={chosen === t.id} class={chosen === t.id ? "chosen" : ""}>
                  <td>
                    <button type="button" class="link" onClick={() => setChosen(t.id)}>
                      {t.ticket_number} · {t.title}
                    </button>
                  </td>
                  <td>{String(t.status).replace(/_/g, " ")}</td>
                  <td>{t.priority}</td>
                  <td><SlaClock label="First response" due={t.response_due_at} done={t.first_response_at} paused={t.sla_paused_at} now={now} /></td>
                  <td><SlaClock label="Resolution" due={t.sla_due_date} done={t.resolved_at} paused={t.sla_paused_at} now={now} /></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {chosen && <TicketPanel key={chosen} ctx={ctx} id={chosen} now={now} onChanged={() => setVersion((v) => v + 1)} />}
      </div>
    </section>
  );
}

function TicketPanel(props: { ctx: Ctx; id: string; now: number; onChanged: () => void }) {
  const { ctx, id, now } = props;
  const [t, setT] = useState<Row | null>(null);
  const [msgs, setMsgs] = useState<Row[]>([]);
  const [kb, setKb] = useState<Row[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [text, setText] = useState("");
  const [internal, setInternal] = useState(false);
  const [asking, setAsking] = useState<string | null>(null); // an event that takes fields
  const [notes, setNotes] = useState("");
  const [rating, setRating] = useState("5");
  const [comment, setComment] = useState("");
  const { busy, run } = useRun(props.onChanged, setError);
  const tt = ctx.tables.get("tickets");
  const path = `/api/v1/tickets/${encodeURIComponent(id)}`;
  const loadThread = () =>
    api<{ data: Row[] }>("GET", `/api/v1/ticket_messages${qs({ ticket_id: id, sort: "created_at", limit: "200" })}`)
      .then((r) => setMsgs(r.data.data));
  useEffect(() => {
    api<Row>("GET", path).then((r) => setT(r.data)).catch((e: ApiError) => setError(e.message));
    loadThread().catch((e: ApiError) => setError(e.message));
    api<{ documents: Row[] }>("GET", `${path}/suggestions?limit=5`)
      .then((r) => setKb(r.data.documents))
      .catch(() => setKb([]));
  }, [id]);
  if (!t) return <section class="panel">{error ? <p class="banner error" role="alert">{error}</p> : <p class="muted">Loading…</p>}</section>;
  const send = (e: Event) => {
    e.preventDefault();
    run(async () => {
      await api("POST", "/api/v1/ticket_messages", { ticket_id: id, content: text, is_internal: internal }, { "Idempotency-Key": crypto.randomUUID() });
      setText("");
      await loadThread();
      setT((await api<Row>("GET", path)).data); // a first reply stamps first_response_at
    });
  };
  const fire = (event: string, body: Row = {}) =>
    run(async () => {
      setT((await api<Row>("POST", `${path}/${event}`, body)).data);
      setAsking(null);
    });
  const events = (tt?.state_machine?.transitions || []).filter(
    (e) => e.from.split(",").includes(t.status) && can(ctx.me, e.permission),
  );
  const rate = (e: Event) => {
    e.preventDefault();
    run(async () => {
      setT((await api<Row>("POST", `${path}/rate`, { rating: Number(rating), comment: comment || undefined })).data);
    });
  };
  return (
    <section class="panel" aria-labelledby="ticket-title">
      <h2 id="ticket-title">
        <a href={href({ kind: "record", table: "tickets", id })}>{t.ticket_number}</a> {t.title}
      </h2>
      <p class="muted">
        <span data-status>{String(t.status).replace(/_/g, " ")}</span> · {t.priority} · opened {formatTime(t.created_at)}
      </p>
      <p class="slas">
        First response <SlaClock label="First response" due={t.response_due_at} done={t.first_response_at} paused={t.sla_paused_at} now={now} />
        {" · "}Resolution <SlaClock label="Resolution" due={t.sla_due_date} done={t.resolved_at} paused={t.sla_paused_at} now={now} />
        {t.sla_breached_at && <span class="sla late"> · breach recorded {formatTime(t.sla_breached_at)}</span>}
      </p>
      {t.customer_satisfaction != null && (
        <p class="csat" aria-label="Customer satisfaction">
          <span aria-hidden="true">{"★".repeat(t.customer_satisfaction)}{"☆".repeat(5 - t.customer_satisfaction)}</span>{" "}
          <strong>{t.customer_satisfaction}/5</strong>
          {t.satisfaction_feedback && <> · “{t.satisfaction_feedback}”</>}
        </p>
      )}
      {error && <p class="banner error" role="alert">{error}</p>}
      <p class="buttons">
        {events.map((e) => (
          <button type="button" key={e.event} disabled={busy}
            onClick={() => (e.fields ? setAsking(e.event) : fire(e.event))}>
            {e.event.replace(/_/g, " ")}
          </button>
        ))}
      </p>
      {asking && (
        <form class="stack" onSubmit={(e) => { e.preventDefault(); fire(asking, { resolution_notes: notes }); }}>
          <label for="ev-notes">Resolution notes</label>
          <textarea id="ev-notes" value={notes} onInput={(e) => setNotes((e.target as HTMLTextAreaElement).value)} required />
          <button type="submit" class="primary" disabled={busy}>Confirm {asking.replace(/_/g, " ")}</button>
        </form>
      )}
      <blockquote class="description">{t.description}</blockquote>
      <ol class="thread" aria-label="Conversation">
        {msgs.map((m) => (
          <li key={m.id} class={m.is_internal ? "internal" : m.sender_type}>
            <span class="muted">
              {m.is_internal ? "Internal note" : m.is_auto_response ? "Automatic reply" : m.sender_type} · {formatTime(m.created_at)}
            </span>
            <p>{m.content}</p>
          </li>
        ))}
      </ol>
      {can(ctx.me, "tickets.edit") && (
        <form class="stack" onSubmit={send} aria-label="Reply">
          <label for="reply-text">{internal ? "Internal note (not shown to the customer)" : "Reply to the customer"}</label>
          <textarea id="reply-text" value={text} required onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} />
          <label class="check">
            <input type="checkbox" checked={internal} onChange={(e) => setInternal((e.target as HTMLInputElement).checked)} />
            Internal note
          </label>
          <button type="submit" class="primary" disabled={busy || !text.trim()}>{internal ? "Add note" : "Send reply"}</button>
        </form>
      )}
      {(t.status === "resolved" || t.status === "closed") && t.customer_satisfaction == null && can(ctx.me, "tickets.rate") && (
        <form class="stack" onSubmit={rate} aria-label="Rating">
          <label for="csat-rating">Customer's rating</label>
          <select id="csat-rating" value={rating} onChange={(e) => setRating((e.target as HTMLSelectElement).value)}>
            {["5", "4", "3", "2", "1"].map((v) => <option key={v} value={v}>{v}</option>)}
          </select>
          <label for="csat-comment">Comment</label>
          <input id="csat-comment" value={comment} onInput={(e) => setComment((e.target as HTMLInputElement).value)} />
          <button type="submit" disabled={busy}>Record rating</button>
        </form>
      )}
      <section aria-labelledby="kb-title" class="kb">
        <h3 id="kb-title">Knowledge base suggestions</h3>
        {kb === null ? <p class="muted">Looking…</p> : !kb.length ? <p class="muted">No matching article.</p> : (
          <ul aria-label="Suggested articles">
            {kb.map((d) => (
              <li key={d.id}>
                {ctx.tables.has("documents") ? <a href={href({ kind: "record", table: "documents", id: d.id })}>{d.title}</a> : d.title}
                {!d.is_public && <span class="muted"> (internal)</span>}
              </li>
            ))}
          </ul>
        )}
      </section>
    </section>
  );
}
