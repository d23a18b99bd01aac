// A record: its fields by type, an edit form that sends only what changed
// with If-Match (a 412 shows what changed meanwhile), the state-machine
// events allowed now, the table's actions with their declared inputs, and
// the record's history from the audit trail. The create form shares the fields.
import { useEffect, useMemo, useState } from "preact/hooks";
import { api, ApiError } from "./api";
import { Cell, Draft, DraftError, draftOf, Field, formatCell, valueOf } from "./fields";
import { go, href } from "./router";
import { can, Column, required, rowLabel, singular, Table, title, Transition, writable } from "./schema";
import type { Ctx } from "./shell";
import { ShipmentTimeline } from "./timeline";
import { QueueBoard } from "./queue";
import { AttachedFiles } from "./files";
import { RelatedRecords } from "./related";
import { ReportRuns } from "./reportruns";

function newKey(): string {
  return crypto.randomUUID();
}

// The body of the given columns' drafts; a JSON draft that does not parse
// is reported on its field before anything is sent.
function bodyOf(cols: Column[], draft: Draft, only?: Set<string>): Record<string, any> {
  const body: Record<string, any> = {};
  for (const c of cols) {
    if (only && !only.has(c.name)) continue;
    if (!(c.name in draft)) continue;
    const v = valueOf(c, draft[c.name]);
    if (v !== undefined) body[c.name] = v;
  }
  return body;
}

// A create form starts from the declared default where it is a plain value
// ("today" and other server-side defaults stay with the server).
function initial(c: Column): string | boolean {
  const d = c.default;
  if (c.type === "boolean") return d === "true";
  if (d === undefined) return "";
  if (c.type === "enum") return c.values?.includes(d) ? d : "";
  if (["integer", "decimal", "real", "text"].includes(c.type)) return d;
  return "";
}

// After a refused submit the first field in error gets the focus, so the
// message is on screen and read out.
function useFocusInvalid(error: unknown) {
  useEffect(() => {
    if (!error) return;
    const el = document.querySelector<HTMLElement>('[aria-invalid="true"], .banner.error');
    el?.scrollIntoView({ block: "center" });
    if (el?.matches("input, select, textarea")) el.focus();
  }, [error]);
}

function Errors(props: { error: ApiError | null; shown: string[] }) {
  const e = props.error;
  if (!e) return null;
  const unshown = Object.entries(e.fields).filter(([f]) => !props.shown.includes(f));
  return (
    <div class="banner error" role="alert">
      <strong>{e.message}</strong>
      {unshown.length > 0 && (
        <ul>{unshown.map(([f, m]) => <li key={f}>{title(f)}: {m}</li>)}</ul>
      )}
    </div>
  );
}

export function CreatePage(props: { ctx: Ctx; table: Table }) {
  const { ctx, table: t } = props;
  const cols = t.columns.filter(writable);
  const [draft, setDraft] = useState<Draft>(() => Object.fromEntries(cols.map((c) => [c.name, initial(c)])));
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const [key] = useState(newKey); // one form, one Idempotency-Key: a retry cannot create twice
  useFocusInvalid(error);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const r = await api("POST", `/api/v1/${t.name}`, bodyOf(cols, draft), { "Idempotency-Key": key });
      go({ kind: "record", table: t.name, id: r.data.id });
    } catch (err) {
      if (err instanceof DraftError) {
        const a = new ApiError(400, { error: { code: "validation_failed", message: "some fields need attention" } });
        a.fields[err.field] = err.message;
        setError(a);
      } else setError(err as ApiError);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section>
      <p class="crumbs"><a href={href({ kind: "list", table: t.name })}>{title(t.name)}</a></p>
      <h1>New {singular(t.name)}</h1>
      <form onSubmit={submit} novalidate class="record-form">
        <Errors error={error} shown={cols.map((c) => c.name)} />
        <div class="grid">
          {cols.map((c) => (
            <Field key={c.name} ctx={ctx} col={c} value={draft[c.name]} required={required(c)}
              error={error?.fields[c.name]} onChange={(v) => setDraft({ ...draft, [c.name]: v })} />
          ))}
        </div>
        <div class="buttons">
          <button type="submit" class="primary" disabled={busy}>{busy ? "Creating…" : "Create"}</button>
          <a class="button" href={href({ kind: "list", table: t.name })}>Cancel</a>
        </div>
      </form>
    </section>
  );
}

function shown(c: Column | undefined, v: any): string {
  const s = formatCell(c, v);
  return s === "" ? "(empty)" : `“${s}”`;
}

interface Conflict {
  current: Record<string, any>;
  etag: string | null;
  changed: [string, any, any][]; // field, what you had, what it is now
}

export function RecordPage(props: { ctx: Ctx; table: Table; id: string }) {
  const { ctx, table: t, id } = props;
  const [row, setRow] = useState<Record<string, any> | null>(null);
  const [etag, setEtag] = useState<string | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [draft, setDraft] = useState<Draft>({});
  const [error, setError] = useState<ApiError | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [conflict, setConflict] = useState<Conflict | null>(null);
  const [historyKey, setHistoryKey] = useState(0);
  useFocusInvalid(error);
  useEffect(() => {
    // the conflict is the one thing to read now: bring it on screen with its way out
    if (!conflict) return;
    document.querySelector(".banner.warn")?.scrollIntoView({ block: "start" });
    document.querySelector<HTMLElement>(".banner.warn button")?.focus();
  }, [conflict]);
  const sm = t.state_machine;
  const editable = useMemo(
    () => t.columns.filter((c) => writable(c) && !c.immutable && c.name !== sm?.column),
    [t],
  );
  const canEdit = !t.read_only && t.methods?.record.includes("PATCH") && can(ctx.me, t.permissions.edit);
  const canDelete = t.methods?.record.includes("DELETE") && can(ctx.me, t.permissions.delete);

  const show = (r: Record<string, any>, tag: string | null) => {
    setRow(r);
    setEtag(tag);
    setDraft(Object.fromEntries(editable.map((c) => [c.name, draftOf(c, r[c.name])])));
    setHistoryKey((k) => k + 1);
  };
  useEffect(() => {
    api("GET", `/api/v1/${t.name}/${encodeURIComponent(id)}`)
      .then((r) => show(r.data, r.etag))
      .catch((e: ApiError) => setLoadError(e.message));
  }, []);

  if (loadError) return <p class="banner error" role="alert">{loadError}</p>;
  if (!row) return <p class="loading" aria-busy="true">Loading…</p>;

  const changed = () => new Set(editable.filter((c) => draft[c.name] !== draftOf(c, row[c.name])).map((c) => c.name));
  const save = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setNotice(null);
    const only = changed();
    if (!only.size) return setNotice("Nothing changed.");
    try {
      const body = bodyOf(editable, draft, only);
      const r = await api("PATCH", `/api/v1/${t.name}/${row.id}`, body, etag ? { "If-Match": etag } : {});
      show(r.data, r.etag);
      setNotice("Saved.");
    } catch (err) {
      if (err instanceof DraftError) {
        const a = new ApiError(400, { error: { message: "some fields need attention" } });
        a.fields[err.field] = err.message;
        return setError(a);
      }
      const ae = err as ApiError;
      if (ae.status === 412) {
        const cur = await api("GET", `/api/v1/${t.name}/${row.id}`);
        const diff: [string, any, any][] = t.columns
          .filter((c) => !c.implicit && JSON.stringify(cur.data[c.name]) !== JSON.stringify(row[c.name]))
          .map((c) => [c.name, row[c.name], cur.data[c.name]]);
        setConflict({ current: cur.data, etag: cur.etag, changed: diff });
      } else setError(ae);
    }
  };
  const remove = async () => {
    if (!confirm(`Delete this ${singular(t.name)}?`)) return;
    try {
      await api("DELETE", `/api/v1/${t.name}/${row.id}`, undefined, etag ? { "If-Match": etag } : {});
      go({ kind: "list", table: t.name });
    } catch (err) {
      setError(err as ApiError);
    }
  };
  const colByName = new Map(t.columns.map((c) => [c.name, c]));
  const status = sm ? row[sm.column] : null;

  return (
    <section class="record">
      <p class="crumbs"><a href={href({ kind: "list", table: t.name })}>{title(t.name)}</a></p>
      <div class="titlebar">
        <h1>{rowLabel(t, row)}</h1>
        {sm && <span class={`badge s-${status}`} aria-label={`Status: ${status}`}>{String(status).replace(/_/g, " ")}</span>}
      </div>
      {notice && <p class="banner ok" role="status">{notice}</p>}
      {conflict && (
        <div class="banner warn" role="alert">
          <strong>Someone else changed this record since you opened it.</strong>
          <ul>
            {conflict.changed.map(([f, was, now]) => (
              <li key={f}>{title(f)}: {shown(colByName.get(f), was)} → {shown(colByName.get(f), now)}</li>
            ))}
          </ul>
          <button type="button" onClick={() => { show(conflict.current, conflict.etag); setConflict(null); }}>
            Load the current version
          </button>
        </div>
      )}
      {sm && <Events ctx={ctx} table={t} row={row} onDone={show} />}
      {(t.actions || []).filter((a) => can(ctx.me, a.permission)).length > 0 && (
        <Actions ctx={ctx} table={t} row={row} onDone={show} />
      )}
      <form onSubmit={save} novalidate class="record-form" aria-label="Record">
        <Errors error={error} shown={editable.map((c) => c.name)} />
        <div class="grid">
          {t.columns.map((c) =>
            editable.includes(c) && canEdit ? (
              <Field key={c.name} ctx={ctx} col={c} value={draft[c.name]} required={!c.nullable}
                error={error?.fields[c.name]} onChange={(v) => setDraft({ ...draft, [c.name]: v })} />
            ) : (
              <div class="field readonly" key={c.name}>
                <span class="label">{title(c.name)}</span>
                <span class="value" data-field={c.name}><Cell ctx={ctx} col={c} value={row[c.name]} /></span>
              </div>
            ),
          )}
        </div>
        <div class="buttons">
          {canEdit && <button type="submit" class="primary">Save</button>}
          {canDelete && <button type="button" class="danger" onClick={remove}>Delete</button>}
        </div>
      </form>
      {t.name === "shipments" && <ShipmentTimeline ctx={ctx} shipment={row} />}
      {t.name === "service_centers" && <QueueBoard ctx={ctx} centre={row} />}
      {t.name === "custom_reports" && ctx.tables.has("report_runs") && <ReportRuns key={historyKey} ctx={ctx} report={row} />}
      {ctx.tables.has("files") && t.name !== "files" && <AttachedFiles ctx={ctx} table={t} row={row} />}
      <RelatedRecords ctx={ctx} table={t} id={row.id} />
      {can(ctx.me, "audit.view") && <History key={historyKey} ctx={ctx} table={t} id={row.id} />}
    </section>
  );
}

function Events(props: { ctx: Ctx; table: Table; row: Record<string, any>; onDone: (r: any, etag: string | null) => void }) {
  const { ctx, table: t, row } = props;
  const sm = t.state_machine!;
  const [open, setOpen] = useState<Transition | null>(null);
  const [draft, setDraft] = useState<Draft>({});
  const [error, setError] = useState<ApiError | null>(null);
  const allowed = sm.transitions.filter((tr) => tr.from.split(",").includes(row[sm.column]) && can(ctx.me, tr.permission));
  const fieldsOf = (tr: Transition) =>
    (tr.fields || "").split(",").filter(Boolean).map((f) => t.columns.find((c) => c.name === f)!).filter(Boolean);
  const fire = async (tr: Transition, body: Record<string, any>) => {
    setError(null);
    try {
      const r = await api("POST", `/api/v1/${t.name}/${row.id}/${tr.event}`, body);
      setOpen(null);
      setDraft({});
      props.onDone(r.data, r.etag);
    } catch (err) {
      setError(err as ApiError);
    }
  };
  if (!allowed.length) return null;
  return (
    <div class="events" role="group" aria-label="Status changes">
      {allowed.map((tr) => (
        <button type="button" key={tr.event} data-event={tr.event}
          onClick={() => (fieldsOf(tr).length ? setOpen(tr) : fire(tr, {}))}>
          {title(tr.event)}
        </button>
      ))}
      {open && (
        <form class="event-form" novalidate onSubmit={(e) => { e.preventDefault(); fire(open, bodyOf(fieldsOf(open), draft)); }}>
          {fieldsOf(open).map((c) => (
            <Field key={c.name} ctx={ctx} col={c} idPrefix="ev" value={draft[c.name] ?? ""} error={error?.fields[c.name]}
              onChange={(v) => setDraft({ ...draft, [c.name]: v })} />
          ))}
          <button type="submit" class="primary">Confirm {title(open.event).toLowerCase()}</button>
          <button type="button" onClick={() => setOpen(null)}>Cancel</button>
        </form>
      )}
      {error && !Object.keys(error.fields).length && <p class="banner error" role="alert">{error.message}</p>}
    </div>
  );
}

function Actions(props: { ctx: Ctx; table: Table; row: Record<string, any>; onDone: (r: any, etag: string | null) => void }) {
  const { ctx, table: t, row } = props;
  const [draft, setDraft] = useState<Record<string, Draft>>({});
  const [error, setError] = useState<{ verb: string; e: ApiError } | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const run = async (verb: string, input: Column[]) => {
    setError(null);
    setDone(null);
    try {
      const r = await api("POST", `/api/v1/${t.name}/${row.id}/${verb}`, bodyOf(input, draft[verb] || {}));
      if (r.data?.id === row.id) return props.onDone(r.data, r.etag);
      // the action answered something else (a report's run): this record is read again
      const cur = await api("GET", `/api/v1/${t.name}/${row.id}`);
      props.onDone(cur.data, cur.etag);
      setDone(`${title(verb)}: done.`);
    } catch (err) {
      setError({ verb, e: err as ApiError });
    }
  };
  return (
    <div class="actions">
      {done && <p class="banner ok" role="status">{done}</p>}
      {(t.actions || []).filter((a) => can(ctx.me, a.permission)).map((a) => (
        <details key={a.verb}>
          <summary>{title(a.verb)}</summary>
          <form novalidate onSubmit={(e) => { e.preventDefault(); run(a.verb, a.input); }}>
            {a.doc && <p class="muted">{a.doc}</p>}
            {a.input.map((c) => (
              <Field key={c.name} ctx={ctx} col={c} idPrefix={`act-${a.verb}`} value={(draft[a.verb] || {})[c.name] ?? ""}
                required={!c.nullable} error={error?.verb === a.verb ? error.e.fields[c.name] : undefined}
                onChange={(v) => setDraft({ ...draft, [a.verb]: { ...(draft[a.verb] || {}), [c.name]: v } })} />
            ))}
            <button type="submit">{title(a.verb)}</button>
            {error?.verb === a.verb && <p class="banner error" role="alert">{error.e.message}</p>}
          </form>
        </details>
      ))}
    </div>
  );
}

function History(props: { ctx: Ctx; table: Table; id: string }) {
  const [rows, setRows] = useState<Record<string, any>[] | null>(null);
  useEffect(() => {
    // the record's changes: audited reads of a personal record (who looked) stay in the audit log
    api("GET", `/api/v1/audit_logs?entity_type=${props.table.name}&entity_id=${props.id}&action.ne=read&sort=-created_at&limit=50`)
      .then((r) => setRows(r.data.data))
      .catch(() => setRows([]));
  }, []);
  const users = props.ctx.schema.tables.find((x) => x.name === "audit_logs")?.columns.find((c) => c.name === "user_id");
  return (
    <section class="history" aria-labelledby="history-title">
      <h2 id="history-title">History</h2>
      {rows === null ? (
        <p class="loading">Loading…</p>
      ) : (
        <ol>
          {rows.map((r) => (
            <li key={r.id}>
              <time dateTime={r.created_at}>{new Date(r.created_at).toLocaleString()}</time>{" "}
              <strong>{r.action}</strong>{" "}
              {r.user_id && <>by <Cell ctx={props.ctx} col={users} value={r.user_id} /></>}{" "}
              {Array.isArray(r.changed_fields) && r.changed_fields.length > 0 && (
                <span class="muted">({r.changed_fields.join(", ")})</span>
              )}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
