// The NDR workbench (Orders and fulfilment): failed-delivery cases oldest
// first with filters, and on the chosen case its one-click work as the
// engine declares it: the assign, act and reattempt actions, the rto and
// resolve events (only those its state and the user's permissions allow),
// the actions taken so far and its remarks (append-only: added, never edited).
import { useEffect, useState } from "preact/hooks";
import { api, ApiError, qs } from "./api";
import { href } from "./router";
import { can, Table, Transition } from "./schema";
import type { Ctx } from "./shell";
import "./screens_a.css";

type Row = Record<string, any>;

const OPEN = "open,in_progress,reattempt_scheduled";
const DAY = 86400000;

function message(e: unknown): string {
  return e instanceof ApiError ? e.message + Object.values(e.fields).map((m) => ` (${m})`).join("") : String(e);
}

function age(ndrDate: string | null, now: number): string {
  if (!ndrDate) return "—";
  const d = Math.floor((now - Date.parse(ndrDate)) / DAY);
  return d <= 0 ? "today" : d === 1 ? "1 day" : `${d} days`;
}

const words = (s: string | null | undefined) => (s ? s.replace(/_/g, " ") : "—");

function enumOf(t: Table | undefined, col: string): string[] {
  return t?.columns.find((c) => c.name === col)?.values || [];
}

export function NdrWorkbench(props: { ctx: Ctx }) {
  const { ctx } = props;
  const t = ctx.tables.get("ndr_records");
  const [status, setStatus] = useState(OPEN);
  const [priority, setPriority] = useState("");
  const [mine, setMine] = useState(false);
  const [cases, setCases] = useState<Row[] | null>(null);
  const [chosen, setChosen] = useState<Row | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [now] = useState(Date.now());
  const load = async () => {
    setError(null);
    try {
      const r = await api<{ data: Row[] }>("GET", `/api/v1/ndr_records${qs({
        "status.in": status || undefined, priority: priority || undefined,
        assigned_to: mine ? ctx.me.user.id : undefined, sort: "ndr_date", limit: "100",
      })}`);
      setCases(r.data.data);
    } catch (e) {
      setError(message(e));
    }
  };
  useEffect(() => {
    load();
  }, [status, priority, mine]);
  if (!t) return <p class="banner error" role="alert">You may not see NDR cases.</p>;
  const changed = (row: Row) => {
    setChosen(row);
    load();
  };
  return (
    <section>
      <h1>NDR workbench</h1>
      <form class="inline" aria-label="Filters" onSubmit={(e) => e.preventDefault()}>
        <div><label for="ndr-status">Status</label>
          <select id="ndr-status" value={status} onChange={(e) => setStatus((e.target as HTMLSelectElement).value)}>
            <option value={OPEN}>open cases</option>
            {enumOf(t, "status").map((s) => <option key={s} value={s}>{words(s)}</option>)}
            <option value="">all</option>
          </select></div>
        <div><label for="ndr-priority">Priority</label>
          <select id="ndr-priority" value={priority} onChange={(e) => setPriority((e.target as HTMLSelectElement).value)}>
            <option value="">any</option>
            {enumOf(t, "priority").map((s) => <option key={s} value={s}>{s}</option>)}
          </select></div>
        <label class="check"><input type="checkbox" checked={mine} onChange={(e) => setMine((e.target as HTMLInputElement).checked)} /> Assigned to me</label>
      </form>
      {error && <p class="banner error" role="alert">{error}</p>}
      {cases && cases.length === 0 && <p class="muted">No cases.</p>}
      {cases && cases.length > 0 && (
        <div class="scroll">
          <table class="lines" aria-label="Cases">
            <thead><tr>
              <th scope="col">Case</th><th scope="col">Buyer</th><th scope="col">Reason</th>
              <th scope="col" class="num">Attempts</th><th scope="col">Age</th><th scope="col">Priority</th>
              <th scope="col">Status</th><th scope="col">Due</th>
            </tr></thead>
            <tbody>
              {cases.map((c) => (
                <tr key={c.id} data-case={c.ndr_number} aria-selected={chosen?.id === c.id}>
                  <td><button type="button" class="link" onClick={() => setChosen(c)}>{c.ndr_number}</button></td>
                  <td>{c.customer_name || "—"}</td>
                  <td>{words(c.reason_code)}</td>
                  <td class="num">{c.attempt_count}</td>
                  <td data-age>{age(c.ndr_date, now)}</td>
                  <td>{c.priority}</td>
                  <td><span class={`status s-${c.status}`}>{words(c.status)}</span></td>
                  <td>{c.due_date || "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {chosen && <Case key={chosen.id + chosen.version} ctx={ctx} table={t} row={chosen} onChange={changed} />}
    </section>
  );
}

function Case(props: { ctx: Ctx; table: Table; row: Row; onChange: (r: Row) => void }) {
  const { ctx, table: t, row } = props;
  const [error, setError] = useState<string | null>(null);
  const [actions, setActions] = useState<Row[]>([]);
  const [users, setUsers] = useState<Row[]>([]);
  const open = OPEN.split(",").includes(row.status);
  useEffect(() => {
    api<{ data: Row[] }>("GET", `/api/v1/ndr_actions${qs({ ndr_id: row.id, sort: "created_at", limit: "100" })}`)
      .then((r) => setActions(r.data.data))
      .catch(() => setActions([]));
    if (can(ctx.me, "team.view"))
      api<{ data: Row[] }>("GET", `/api/v1/users${qs({ sort: "email", limit: "100" })}`)
        .then((r) => setUsers(r.data.data))
        .catch(() => setUsers([]));
  }, [row.id, row.version]);
  const post = async (path: string, body: Row) => {
    setError(null);
    try {
      const r = await api<Row>("POST", `/api/v1/ndr_records/${encodeURIComponent(row.id)}/${path}`, body);
      props.onChange(r.data);
    } catch (e) {
      setError(message(e));
    }
  };
  const allowed = (ev: string) => {
    const tr = t.state_machine?.transitions.find((x: Transition) => x.event === ev);
    return !!tr && tr.from.split(",").includes(row.status) && can(ctx.me, tr.permission);
  };
  const verb = (v: string) => t.actions?.find((a) => a.verb === v && can(ctx.me, a.permission));
  const form = (fn: (f: FormData) => Row, path: string) => (e: Event) => {
    e.preventDefault();
    const body = fn(new FormData(e.target as HTMLFormElement));
    for (const k of Object.keys(body)) if (body[k] === "" || body[k] === null) delete body[k];
    post(path, body);
  };
  const assignee = users.find((u) => u.id === row.assigned_to);
  return (
    <section class="panel" aria-labelledby="case-title">
      <h2 id="case-title">
        Case <a href={href({ kind: "record", table: "ndr_records", id: row.id })}>{row.ndr_number}</a>{" "}
        <span class={`status s-${row.status}`} data-status>{words(row.status)}</span>
      </h2>
      <dl class="facts">
        <dt>Buyer</dt><dd>{row.customer_name || "—"} {row.customer_phone && <span class="muted">· {row.customer_phone}</span>}</dd>
        <dt>Reason</dt><dd>{words(row.reason_code)}{row.reason_description && <span class="muted"> · {row.reason_description}</span>}</dd>
        <dt>Attempts</dt><dd>{row.attempt_count}</dd>
        <dt>Assigned</dt><dd data-assigned>{row.assigned_to ? (assignee ? assignee.email : row.assigned_to === ctx.me.user.id ? ctx.me.user.email : "someone") : "nobody"}</dd>
        <dt>Shipment</dt><dd>{row.shipment_id ? <a href={href({ kind: "record", table: "shipments", id: row.shipment_id })}>open</a> : "—"}</dd>
        <dt>Resolution</dt><dd>{words(row.resolution)}</dd>
      </dl>
      {error && <p class="banner error" role="alert">{error}</p>}
      {open && (
        <div class="case-actions" role="group" aria-label="Case actions">
          {verb("assign") && (
            <>
              <button type="button" onClick={() => post("assign", { user_id: ctx.me.user.id })}
                disabled={row.assigned_to === ctx.me.user.id}>Assign to me</button>
              {users.length > 0 && (
                <details><summary>Assign to…</summary>
                  <form onSubmit={form((f) => ({ user_id: f.get("user_id") }), "assign")}>
                    <label for="ndr-assignee">Team member</label>
                    <select id="ndr-assignee" name="user_id">
                      {users.map((u) => <option key={u.id} value={u.id}>{u.full_name || u.email}</option>)}
                    </select>
                    <button type="submit">Assign</button>
                  </form>
                </details>
              )}
            </>
          )}
          {verb("act") && (
            <details><summary>Record contact</summary>
              <form onSubmit={form((f) => ({ action_type: f.get("action_type"), call_status: f.get("call_status"),
                outcome: f.get("outcome"), outcome_notes: f.get("outcome_notes") }), "act")}>
                <label for="act-type">Contact by</label>
                <select id="act-type" name="action_type">
                  {["call", "whatsapp", "sms", "email"].map((x) => <option key={x} value={x}>{x}</option>)}
                </select>
                <label for="act-call">Call status</label>
                <select id="act-call" name="call_status">
                  <option value="">—</option>
                  {["connected", "not_answered", "busy", "switched_off", "invalid_number"].map((x) => <option key={x} value={x}>{words(x)}</option>)}
                </select>
                <label for="act-outcome">Outcome</label>
                <select id="act-outcome" name="outcome">
                  <option value="">—</option>
                  {["will_accept", "wrong_address", "reschedule", "refuse", "not_reachable"].map((x) => <option key={x} value={x}>{words(x)}</option>)}
                </select>
                <label for="act-notes">Notes</label>
                <textarea id="act-notes" name="outcome_notes" rows={2} />
                <button type="submit">Save contact</button>
              </form>
            </details>
          )}
          {verb("reattempt") && (
            <details><summary>Reattempt</summary>
              <form onSubmit={form((f) => {
                const line1 = String(f.get("line1") || "").trim();
                const body: Row = { date: f.get("date"), new_phone: f.get("new_phone") };
                if (line1) body.new_address = { line1, city: String(f.get("city") || "").trim() || undefined,
                  pincode: String(f.get("pincode") || "").trim() || undefined };
                return body;
              }, "reattempt")}>
                <label for="re-date">Deliver on</label>
                <input id="re-date" name="date" type="date" required />
                <label for="re-line1">New address line</label>
                <input id="re-line1" name="line1" />
                <label for="re-city">City</label>
                <input id="re-city" name="city" />
                <label for="re-pin">PIN code</label>
                <input id="re-pin" name="pincode" inputMode="numeric" />
                <label for="re-phone">New phone</label>
                <input id="re-phone" name="new_phone" type="tel" />
                <button type="submit">Ask the courier</button>
              </form>
            </details>
          )}
          {allowed("rto") && <button type="button" class="danger" onClick={() => post("rto", {})}>Return to origin</button>}
          {allowed("resolve") && (
            <details><summary>Resolve</summary>
              <form onSubmit={form((f) => ({ resolution: f.get("resolution") }), "resolve")}>
                <label for="res-how">Resolution</label>
                <select id="res-how" name="resolution">
                  {enumOf(t, "resolution").map((x) => <option key={x} value={x}>{x}</option>)}
                </select>
                <button type="submit">Resolve case</button>
              </form>
            </details>
          )}
        </div>
      )}
      <h3>Actions taken</h3>
      {actions.length === 0 ? <p class="muted">None yet.</p> : (
        <ol class="remarks" aria-label="Actions taken">
          {actions.map((a) => (
            <li key={a.id}>
              <strong>{words(a.action_type)}</strong>{a.call_status && <> · {words(a.call_status)}</>}
              {a.outcome && <> · {words(a.outcome)}</>}{a.reattempt_date && <> · on {a.reattempt_date}</>}
              {a.outcome_notes && <span class="muted"> · {a.outcome_notes}</span>}
              {" "}<time class="muted" dateTime={a.created_at}>{new Date(a.created_at).toLocaleString()}</time>
            </li>
          ))}
        </ol>
      )}
      <Remarks ctx={ctx} ndrId={row.id} />
    </section>
  );
}

function Remarks(props: { ctx: Ctx; ndrId: string }) {
  const [rows, setRows] = useState<Row[]>([]);
  const [text, setText] = useState("");
  const [internal, setInternal] = useState(true);
  const [error, setError] = useState<ApiError | null>(null);
  const load = () =>
    api<{ data: Row[] }>("GET", `/api/v1/ndr_remarks${qs({ ndr_id: props.ndrId, sort: "created_at", limit: "200" })}`)
      .then((r) => setRows(r.data.data))
      .catch(() => setRows([]));
  useEffect(() => {
    load();
  }, [props.ndrId]);
  const add = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      await api("POST", "/api/v1/ndr_remarks", { ndr_id: props.ndrId, remark: text, is_internal: internal },
        { "Idempotency-Key": crypto.randomUUID() });
      setText("");
      load();
    } catch (err) {
      setError(err as ApiError);
    }
  };
  return (
    <section aria-labelledby="remarks-title">
      <h3 id="remarks-title">Remarks</h3>
      {rows.length === 0 ? <p class="muted">No remarks.</p> : (
        <ol class="remarks" aria-label="Remarks">
          {rows.map((r) => (
            <li key={r.id}>
              {r.remark} <span class="muted">· {r.is_internal ? "internal" : "shared"} ·{" "}
                <time dateTime={r.created_at}>{new Date(r.created_at).toLocaleString()}</time></span>
            </li>
          ))}
        </ol>
      )}
      {can(props.ctx.me, "ndr.create") && (
        <form novalidate onSubmit={add}>
          <label for="remark-text">Add a remark</label>
          <textarea id="remark-text" rows={2} value={text} aria-invalid={!!error?.fields.remark}
            onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} />
          {error?.fields.remark && <span class="err" role="alert">{error.fields.remark}</span>}
          <label class="check"><input type="checkbox" checked={internal}
            onChange={(e) => setInternal((e.target as HTMLInputElement).checked)} /> Internal</label>
          <button type="submit" disabled={!text.trim()}>Add remark</button>
          {error && !Object.keys(error.fields).length && <p class="banner error" role="alert">{error.message}</p>}
        </form>
      )}
    </section>
  );
}
