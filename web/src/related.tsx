// Related records: the rows of other tables that point at this record by a
// reference column (an order's lines, its shipments, its status history),
// one folded section per table and column, read only when opened, so a
// record page costs no extra requests until someone looks.
import { useState } from "preact/hooks";
import { api, ApiError, qs } from "./api";
import { href } from "./router";
import { rowLabel, Table, title } from "./schema";
import type { Ctx } from "./shell";

type Row = Record<string, any>;
const LIMIT = 25;

function Section(props: { table: Table; column: string; target: string; id: string }) {
  const { table: t, column, id } = props;
  const [rows, setRows] = useState<Row[] | null>(null);
  const [more, setMore] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const sm = t.state_machine;
  const load = (e: Event) => {
    if (!(e.currentTarget as HTMLDetailsElement).open || rows) return;
    api<{ data: Row[]; next_cursor?: string }>("GET", `/api/v1/${t.name}${qs({ [column]: id, limit: String(LIMIT) })}`)
      .then((r) => {
        setRows(r.data.data);
        setMore(!!r.data.next_cursor);
      })
      .catch((err) => setError(err instanceof ApiError ? err.message : String(err)));
  };
  const many = t.columns.filter((c) => c.references && c.references === props.target).length > 1;
  return (
    <details data-related={`${t.name}.${column}`} onToggle={load}>
      <summary>{title(t.name)}{many && ` (${title(column).toLowerCase()})`}</summary>
      {error && <p class="banner error" role="alert">{error}</p>}
      {rows && !rows.length && <p class="muted">None.</p>}
      {rows && rows.length > 0 && (
        <ul aria-label={title(t.name)}>
          {rows.map((r) => (
            <li key={r.id}>
              <a href={href({ kind: "record", table: t.name, id: r.id })}>{rowLabel(t, r)}</a>
              {sm && <> <span class={`badge s-${r[sm.column]}`}>{String(r[sm.column]).replace(/_/g, " ")}</span></>}
            </li>
          ))}
        </ul>
      )}
      {more && (
        <p class="muted">The first {LIMIT}; <a href={href({ kind: "list", table: t.name })}>the list</a> filters by {title(column).toLowerCase()}.</p>
      )}
    </details>
  );
}

export function RelatedRecords(props: { ctx: Ctx; table: Table; id: string }) {
  const refs: [Table, string][] = [];
  for (const t of props.ctx.tables.values()) {
    if (t.name === "audit_logs" || t.name === "files") continue; // shown by History and Attached files
    for (const c of t.columns) if (c.type === "reference" && c.references === props.table.name) refs.push([t, c.name]);
  }
  if (!refs.length) return null;
  return (
    <section class="related" aria-labelledby="related-title">
      <h2 id="related-title">Related records</h2>
      {refs.map(([t, c]) => <Section key={`${t.name}.${c}`} table={t} column={c} target={props.table.name} id={props.id} />)}
    </section>
  );
}
