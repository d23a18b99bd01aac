// A table's list: declared filters, sort on sortable columns, q= search where
// the table has searchable columns, keyset cursor pages, a column chooser and
// saved views (kept in this browser).
import { useEffect, useMemo, useState } from "preact/hooks";
import { api, ApiError, qs } from "./api";
import { Cell } from "./fields";
import { href } from "./router";
import { can, Column, labelColumn, singular, Table, title } from "./schema";
import type { Ctx } from "./shell";

interface Filter {
  col: string;
  op: string;
  value: string;
}
interface View {
  name: string;
  filters: Filter[];
  sort: string;
  q: string;
  cols: string[];
}

const OPS = ["eq", "ne", "gt", "gte", "lt", "lte", "like", "in", "null"];
const SIZES = [10, 25, 50, 100];

function defaultCols(t: Table): string[] {
  const out: string[] = [];
  const add = (c?: Column) => c && !out.includes(c.name) && out.push(c.name);
  add(t.columns.find((c) => c.number_prefix));
  const l = labelColumn(t);
  add(t.columns.find((c) => c.name === l));
  add(t.columns.find((c) => c.name === t.state_machine?.column));
  for (const c of t.columns) {
    if (out.length >= 6) break;
    if (c.implicit || c.secret || c.type === "json" || c.type === "id") continue;
    if (c.type === "enum" || c.type === "decimal" || c.type === "reference" || c.type === "text") add(c);
  }
  add(t.columns.find((c) => c.name === "created_at"));
  return out;
}

function load<T>(key: string, dflt: T): T {
  try {
    const v = localStorage.getItem(key);
    return v ? (JSON.parse(v) as T) : dflt;
  } catch {
    return dflt;
  }
}

export function ListPage(props: { ctx: Ctx; table: Table }) {
  const { ctx, table: t } = props;
  const colByName = useMemo(() => new Map(t.columns.map((c) => [c.name, c])), [t]);
  const searchable = t.columns.some((c) => c.searchable);
  const [cols, setCols] = useState<string[]>(() => load(`ob.cols.${t.name}`, defaultCols(t)));
  const [views, setViews] = useState<View[]>(() => load(`ob.views.${t.name}`, []));
  const [filters, setFilters] = useState<Filter[]>([]);
  const [sort, setSort] = useState("-created_at");
  const [q, setQ] = useState("");
  const [qInput, setQInput] = useState("");
  const [cursors, setCursors] = useState<string[]>([""]); // the cursor of each page seen
  const [rows, setRows] = useState<Record<string, any>[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [nf, setNf] = useState<Filter>({ col: t.columns.find((c) => !c.implicit)?.name || "id", op: "eq", value: "" });
  const [viewName, setViewName] = useState("");
  const [limit, setLimit] = useState(25);
  const cursor = cursors[cursors.length - 1];

  useEffect(() => localStorage.setItem(`ob.cols.${t.name}`, JSON.stringify(cols)), [cols]);
  useEffect(() => localStorage.setItem(`ob.views.${t.name}`, JSON.stringify(views)), [views]);
  useEffect(() => {
    const params = new URLSearchParams(qs({ limit: String(limit), sort, q: q || undefined, cursor: cursor || undefined }).slice(1));
    for (const f of filters) params.append(f.op === "eq" ? f.col : `${f.col}.${f.op}`, f.value);
    setError(null);
    // answers can arrive out of order: only the latest request's may show
    let current = true;
    api("GET", `/api/v1/${t.name}?${params}`)
      .then((r) => {
        if (!current) return;
        setRows(r.data.data);
        setNext(r.data.next_cursor);
      })
      .catch((e: ApiError) => {
        if (!current) return;
        setRows([]);
        setNext(null);
        setError(e.message);
      });
    return () => {
      current = false;
    };
  }, [filters, sort, q, cursor, limit]);

  const restart = () => setCursors([""]);
  const sortBy = (c: string) => {
    setSort(sort === c ? `-${c}` : c);
    restart();
  };
  const addFilter = (e: Event) => {
    e.preventDefault();
    setFilters([...filters, nf]);
    setNf({ ...nf, value: "" });
    restart();
  };
  const saveView = (e: Event) => {
    e.preventDefault();
    if (!viewName.trim()) return;
    setViews([...views.filter((v) => v.name !== viewName), { name: viewName.trim(), filters, sort, q, cols }]);
    setViewName("");
  };
  const applyView = (name: string) => {
    const v = views.find((x) => x.name === name);
    if (!v) return;
    setFilters(v.filters);
    setSort(v.sort);
    setQ(v.q);
    setQInput(v.q);
    setCols(v.cols);
    restart();
  };
  const filterable = t.columns.filter((c) => !c.secret && c.type !== "json");
  const creatable = t.methods?.collection.includes("POST") && can(ctx.me, t.permissions.create);

  return (
    <section class="list">
      <div class="titlebar">
        <h1>{title(t.name)}</h1>
        {creatable && (
          <a class="button primary" href={href({ kind: "new", table: t.name })}>New {singular(t.name)}</a>
        )}
      </div>
      <p class="muted">{t.doc}</p>
      <div class="tools">
        {searchable && (
          <form role="search" onSubmit={(e) => { e.preventDefault(); setQ(qInput); restart(); }}>
            <label for="list-q" class="sr">Search {title(t.name)}</label>
            <input id="list-q" type="search" placeholder="Search…" value={qInput}
              onInput={(e) => setQInput((e.target as HTMLInputElement).value)} />
            <button type="submit">Search</button>
          </form>
        )}
        <details>
          <summary>Filter</summary>
          <form class="filter" onSubmit={addFilter}>
            <label for="nf-col">Field</label>
            <select id="nf-col" value={nf.col} onChange={(e) => setNf({ ...nf, col: (e.target as HTMLSelectElement).value })}>
              {filterable.map((c) => <option key={c.name} value={c.name}>{title(c.name)}</option>)}
            </select>
            <label for="nf-op">Operator</label>
            <select id="nf-op" value={nf.op} onChange={(e) => setNf({ ...nf, op: (e.target as HTMLSelectElement).value })}>
              {OPS.map((o) => <option key={o} value={o}>{o}</option>)}
            </select>
            <label for="nf-value">Value</label>
            {colByName.get(nf.col)?.values ? (
              <select id="nf-value" value={nf.value} onChange={(e) => setNf({ ...nf, value: (e.target as HTMLSelectElement).value })}>
                <option value="">—</option>
                {colByName.get(nf.col)!.values!.map((v) => <option key={v} value={v}>{v}</option>)}
              </select>
            ) : (
              <input id="nf-value" value={nf.value} placeholder={nf.op === "null" ? "true or false" : ""}
                onInput={(e) => setNf({ ...nf, value: (e.target as HTMLInputElement).value })} />
            )}
            <button type="submit">Add filter</button>
          </form>
        </details>
        <details>
          <summary>Columns</summary>
          <fieldset class="chooser">
            <legend class="sr">Columns shown</legend>
            {t.columns.filter((c) => !c.secret).map((c) => (
              <label key={c.name}>
                <input type="checkbox" checked={cols.includes(c.name)}
                  onChange={(e) => setCols((e.target as HTMLInputElement).checked
                    ? t.columns.map((x) => x.name).filter((n) => n === c.name || cols.includes(n))
                    : cols.filter((n) => n !== c.name))} />
                {title(c.name)}
              </label>
            ))}
          </fieldset>
        </details>
        <details>
          <summary>Views</summary>
          <form class="views" onSubmit={saveView}>
            {views.length > 0 && (
              <>
                <label for="view-pick">Saved view</label>
                <select id="view-pick" value="" onChange={(e) => applyView((e.target as HTMLSelectElement).value)}>
                  <option value="">choose…</option>
                  {views.map((v) => <option key={v.name} value={v.name}>{v.name}</option>)}
                </select>
              </>
            )}
            <label for="view-name">Save this view as</label>
            <input id="view-name" value={viewName} onInput={(e) => setViewName((e.target as HTMLInputElement).value)} />
            <button type="submit">Save view</button>
          </form>
        </details>
      </div>
      {(filters.length > 0 || q) && (
        <ul class="chips" aria-label="Active filters">
          {q && <li>search: “{q}” <button type="button" aria-label="Remove search" onClick={() => { setQ(""); setQInput(""); restart(); }}>×</button></li>}
          {filters.map((f, i) => (
            <li key={i}>
              {title(f.col)} {f.op} {f.value}{" "}
              <button type="button" aria-label={`Remove filter on ${f.col}`}
                onClick={() => { setFilters(filters.filter((_, j) => j !== i)); restart(); }}>×</button>
            </li>
          ))}
        </ul>
      )}
      {error && <p class="banner error" role="alert">{error}</p>}
      <div class="scroll">
        <table>
          <thead>
            <tr>
              {cols.map((n) => {
                const c = colByName.get(n);
                const dir = sort === n ? "ascending" : sort === `-${n}` ? "descending" : undefined;
                return (
                  <th key={n} scope="col" aria-sort={dir}>
                    {c?.sortable ? (
                      <button type="button" class="link" onClick={() => sortBy(n)}>
                        {title(n)} {dir === "ascending" ? "▲" : dir === "descending" ? "▼" : ""}
                      </button>
                    ) : (
                      title(n)
                    )}
                  </th>
                );
              })}
              <th scope="col"><span class="sr">Open</span></th>
            </tr>
          </thead>
          <tbody aria-busy={rows === null}>
            {rows?.map((r) => (
              <tr key={r.id}>
                {cols.map((n) => (
                  <td key={n}><Cell ctx={ctx} col={colByName.get(n)} value={r[n]} /></td>
                ))}
                <td><a href={href({ kind: "record", table: t.name, id: r.id })} aria-label={`Open ${r.id}`}>Open</a></td>
              </tr>
            ))}
            {rows?.length === 0 && (
              <tr><td colSpan={cols.length + 1} class="muted">Nothing here.</td></tr>
            )}
          </tbody>
        </table>
      </div>
      <nav class="pager" aria-label="Pages">
        <button type="button" disabled={cursors.length < 2} onClick={() => setCursors(cursors.slice(0, -1))}>Previous</button>
        <span>Page {cursors.length}</span>
        <button type="button" disabled={!next} onClick={() => next && setCursors([...cursors, next])}>Next</button>
        <label for="list-limit" class="inline">Rows per page</label>
        <select id="list-limit" value={String(limit)}
          onChange={(e) => { setLimit(Number((e.target as HTMLSelectElement).value)); restart(); }}>
          {SIZES.map((n) => <option key={n} value={String(n)}>{n}</option>)}
        </select>
      </nav>
    </section>
  );
}
