// Exports under the tenant's rules: request one of a table this user may
// export; a small one comes back at once as a file, a large one (above the
// tenant's approval threshold) waits for an approver. Approvers see what
// waits and approve or reject it; an approved export is written by a job
// (its progress shown), then its requester downloads it once with the
// one-time token the request answered, kept for this tab only.
import { useEffect, useState } from "preact/hooks";
import { api, ApiError, qs } from "./api";
import { formatTime } from "./fields";
import { JobProgress } from "./progress";
import { can, title } from "./schema";
import type { Ctx } from "./shell";
import { names } from "./stock";
import "./screens-b.css";

type Row = Record<string, any>;
const FORMATS = ["csv", "xlsx", "json"];
const tokenKey = (id: string) => `ob.export.${id}`;

function saveFile(blob: Blob, name: string) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

export function ExportsScreen(props: { ctx: Ctx }) {
  const { ctx } = props;
  const me = ctx.me.user.id as string;
  const exportable = [...ctx.tables.values()].filter((t) => can(ctx.me, `${t.permission_module}.export`));
  const [table, setTable] = useState(exportable[0]?.name || "");
  const [format, setFormat] = useState("csv");
  const [mine, setMine] = useState<Row[] | null>(null);
  const [waiting, setWaiting] = useState<Row[]>([]);
  const [people, setPeople] = useState<Map<string, string>>(new Map());
  const [note, setNote] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [version, setVersion] = useState(0);
  const approver = can(ctx.me, "security.approve_exports");
  // the lists, and again every second while something is on its way
  useEffect(() => {
    let stop = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async () => {
      try {
        const m = await api<{ data: Row[] }>("GET", `/api/v1/export_logs${qs({ user_id: me, sort: "-created_at", limit: "20" })}`);
        let w: Row[] = [];
        if (approver) {
          w = (await api<{ data: Row[] }>("GET", `/api/v1/export_logs${qs({ status: "pending_approval", sort: "created_at", limit: "50" })}`)).data.data;
          const p = await names("users", w.map((x) => x.user_id), "email");
          if (!stop) setPeople(p);
        }
        if (stop) return;
        setMine(m.data.data);
        setWaiting(w);
        const moving = m.data.data.some((x) => x.status === "pending_approval" || x.status === "approved");
        if (moving) timer = setTimeout(load, 1000);
      } catch (e) {
        if (!stop) setError(e instanceof ApiError ? e.message : String(e));
      }
    };
    load();
    return () => {
      stop = true;
      clearTimeout(timer);
    };
  }, [version]);
  const act = async (step: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    setNote(null);
    try {
      await step();
      setVersion((v) => v + 1);
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  const request = (e: Event) => {
    e.preventDefault();
    act(async () => {
      // the export answers a file or, above the threshold, JSON: so not through api()
      const r = await fetch(`/api/v1/${encodeURIComponent(table)}/export${qs({ format })}`, { credentials: "same-origin" });
      if (r.status === 202) {
        const body = await r.json();
        sessionStorage.setItem(tokenKey(body.id), body.download_token);
        setNote(`${body.row_count} rows: waiting for approval.`);
      } else if (r.ok) {
        const blob = await r.blob();
        saveFile(blob, `${table}.${format}`);
        setNote(`Downloaded ${title(table)} (${blob.size} bytes).`);
      } else {
        throw new ApiError(r.status, await r.json().catch(() => null));
      }
    });
  };
  const download = (x: Row) =>
    act(async () => {
      const token = sessionStorage.getItem(tokenKey(x.id)) || "";
      const r = await fetch(`/api/v1/export_logs/${encodeURIComponent(x.id)}/download${qs({ token })}`, { credentials: "same-origin" });
      if (!r.ok) throw new ApiError(r.status, await r.json().catch(() => null));
      sessionStorage.removeItem(tokenKey(x.id)); // one download per token
      saveFile(await r.blob(), `${x.export_type}.${x.file_format}`);
      setNote(`Downloaded ${title(x.export_type)}.`);
    });
  const decide = (x: Row, event: string) =>
    act(async () => {
      await api("POST", `/api/v1/export_logs/${encodeURIComponent(x.id)}/${event}`, {});
    });
  return (
    <section class="exports">
      <h1>Exports</h1>
      {error && <p class="banner error" role="alert">{error}</p>}
      {note && <p class="banner ok" role="status">{note}</p>}
      {exportable.length > 0 && (
        <form class="tools" onSubmit={request} aria-label="Request an export">
          <span>
            <label for="exp-table">Table</label>
            <select id="exp-table" value={table} onChange={(e) => setTable((e.target as HTMLSelectElement).value)}>
              {exportable.map((t) => <option key={t.name} value={t.name}>{title(t.name)}</option>)}
            </select>
          </span>
          <span>
            <label for="exp-format">Format</label>
            <select id="exp-format" value={format} onChange={(e) => setFormat((e.target as HTMLSelectElement).value)}>
              {FORMATS.map((f) => <option key={f} value={f}>{f}</option>)}
            </select>
          </span>
          <button type="submit" class="primary" disabled={busy || !table}>Request export</button>
        </form>
      )}
      {approver && (
        <section aria-labelledby="exp-waiting">
          <h2 id="exp-waiting">Awaiting your approval</h2>
          {!waiting.length ? <p class="muted">Nothing waits.</p> : (
            <div class="tablebox">
              <table aria-label="Exports awaiting approval">
                <thead>
                  <tr><th scope="col">Requested</th><th scope="col">By</th><th scope="col">What</th><th scope="col" class="num">Rows</th><th scope="col">Decision</th></tr>
                </thead>
                <tbody>
                  {waiting.map((x) => (
                    <tr key={x.id} data-export={x.id}>
                      <td>{formatTime(x.created_at)}</td>
                      <td>{people.get(x.user_id) || x.user_id}</td>
                      <td>{title(x.export_type)} ({x.file_format})</td>
                      <td class="num">{x.row_count}</td>
                      <td>
                        <button type="button" disabled={busy} onClick={() => decide(x, "approve")}>Approve</button>{" "}
                        <button type="button" class="danger" disabled={busy} onClick={() => decide(x, "reject")}>Reject</button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </section>
      )}
      <section aria-labelledby="exp-mine">
        <h2 id="exp-mine">My exports</h2>
        {mine && !mine.length && <p class="muted">None yet.</p>}
        {mine && mine.length > 0 && (
          <div class="tablebox">
            <table aria-label="My exports">
              <thead>
                <tr><th scope="col">Requested</th><th scope="col">What</th><th scope="col" class="num">Rows</th><th scope="col">Status</th><th scope="col">File</th></tr>
              </thead>
              <tbody>
                {mine.map((x) => (
                  <tr key={x.id} data-export={x.id}>
                    <td>{formatTime(x.created_at)}</td>
                    <td>{title(x.export_type)} ({x.file_format})</td>
                    <td class="num">{x.row_count}</td>
                    <td data-col="status">{String(x.status).replace(/_/g, " ")}</td>
                    <td>
                      {x.status === "pending_approval" && <span class="muted">waiting for an approver</span>}
                      {x.status === "approved" && (
                        <JobProgress ctx={ctx} kind="exports.produce" match={(p) => p.export_id === x.id} label={`Writing ${title(x.export_type)}`} />
                      )}
                      {x.status === "completed" && sessionStorage.getItem(tokenKey(x.id)) && (
                        <button type="button" class="primary" disabled={busy} onClick={() => download(x)}>Download</button>
                      )}
                      {x.status === "completed" && !sessionStorage.getItem(tokenKey(x.id)) && (
                        <span class="muted">ready (download from the tab that asked for it)</span>
                      )}
                      {x.status === "completed" && x.download_expires_at && (
                        <span class="muted"> until {formatTime(x.download_expires_at)}</span>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </section>
  );
}
