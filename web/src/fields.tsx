// Fields by declared type. A draft value is always text (or a boolean), so
// decimals stay exact strings from the input to the request body; the body
// is built from the drafts by the column's type (toBody).
import { useEffect, useState } from "preact/hooks";
import { api, qs } from "./api";
import { href } from "./router";
import { Column, rowLabel, title } from "./schema";
import type { Ctx } from "./shell";
import "./screens-b.css";

export type Draft = Record<string, string | boolean>;

export function draftOf(c: Column, v: any): string | boolean {
  if (c.type === "boolean") return v === true;
  if (v === null || v === undefined) return "";
  if (c.type === "json") return JSON.stringify(v, null, 2);
  if (c.type === "timestamp") return localInput(String(v));
  return String(v);
}

// Timestamps are UTC on the wire and shown and edited in the tenant's time
// zone (timeZone() below), whatever the browser's own is.
function localInput(iso: string): string {
  const t = Date.parse(iso);
  if (isNaN(t)) return iso;
  return new Date(t + zoneOffset(t)).toISOString().slice(0, 16);
}

// How far the shown zone's wall clock is ahead of UTC at instant t, in ms.
function zoneOffset(t: number): number {
  const f = new Intl.DateTimeFormat("en-US", { timeZone: timeZone(), hourCycle: "h23", year: "numeric",
    month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" });
  const p: Record<string, number> = {};
  for (const x of f.formatToParts(new Date(t))) if (x.type !== "literal") p[x.type] = Number(x.value);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - Math.floor(t / 1000) * 1000;
}

// A wall-clock "YYYY-MM-DDTHH:MM" in the shown zone as a UTC instant; the
// offset is taken again at the first guess so a change of daylight saving
// between the two is followed.
export function zonedToUtc(local: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(local.trim());
  if (!m) return null;
  const wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] || 0));
  const first = wall - zoneOffset(wall);
  return new Date(wall - zoneOffset(first)).toISOString();
}

export class DraftError extends Error {
  field: string;
  constructor(field: string, msg: string) {
    super(msg);
    this.field = field;
  }
}

// The JSON value a draft sends; undefined leaves the field out.
export function valueOf(c: Column, d: string | boolean): any {
  if (c.type === "boolean") return d === true;
  const s = String(d);
  if (s.trim() === "") return c.nullable ? null : undefined;
  switch (c.type) {
    case "integer":
      return /^-?\d+$/.test(s.trim()) ? Number(s.trim()) : s; // the server names a wrong one
    case "real":
      return isNaN(Number(s)) ? s : Number(s);
    case "json":
      try {
        return JSON.parse(s);
      } catch {
        throw new DraftError(c.name, "is not valid JSON");
      }
    case "timestamp":
      return zonedToUtc(s) || s; // the server names a malformed one
    default:
      return s; // text, enum, reference, date, and decimals as exact strings
  }
}

// The zone times are shown in: the tenant's (GET /auth/me), else the browser's.
let zone: string | undefined;
export function setTimeZone(tz: string | undefined) {
  try {
    zone = tz ? Intl.DateTimeFormat(undefined, { timeZone: tz }).resolvedOptions().timeZone : undefined;
  } catch {
    zone = undefined; // a zone this browser does not know: its own
  }
}
export function timeZone(): string {
  return zone || Intl.DateTimeFormat().resolvedOptions().timeZone;
}

// A UTC instant as people read it, in the shown zone.
export function formatTime(v: string | null | undefined): string {
  if (!v) return "";
  const d = new Date(v);
  if (isNaN(d.getTime())) return String(v);
  return d.toLocaleString(undefined, { timeZone: zone, year: "numeric", month: "short", day: "numeric",
    hour: "2-digit", minute: "2-digit" });
}

export function formatCell(c: Column | undefined, v: any): string {
  if (v === null || v === undefined) return "";
  if (!c) return String(v);
  if (c.type === "boolean") return v ? "yes" : "no";
  if (c.type === "timestamp") return formatTime(String(v));
  if (c.type === "json") return JSON.stringify(v);
  if (c.type === "enum") return String(v).replace(/_/g, " ");
  return String(v);
}

export function Cell(props: { ctx: Ctx; col?: Column; value: any }) {
  const { col, value, ctx } = props;
  if (col?.type === "reference" && value && col.references && ctx.tables.has(col.references))
    return <a href={href({ kind: "record", table: col.references, id: value })}>{String(value).slice(-8)}</a>;
  return <>{formatCell(col, value)}</>;
}

interface FieldProps {
  ctx: Ctx;
  col: Column;
  value: string | boolean;
  onChange: (v: string | boolean) => void;
  error?: string;
  required?: boolean;
  disabled?: boolean;
  idPrefix?: string;
}

export function Field(p: FieldProps) {
  const { col } = p;
  const id = `${p.idPrefix || "f"}-${col.name}`;
  const errId = `${id}-err`;
  const common = {
    id,
    name: col.name,
    disabled: p.disabled,
    "aria-invalid": p.error ? true : undefined,
    "aria-describedby": p.error ? errId : col.doc ? `${id}-doc` : undefined,
    required: p.required,
  };
  const str = typeof p.value === "string" ? p.value : "";
  const onInput = (e: Event) => p.onChange((e.target as HTMLInputElement).value);
  let input;
  switch (col.type) {
    case "boolean":
      input = (
        <input {...common} type="checkbox" checked={p.value === true}
          onChange={(e) => p.onChange((e.target as HTMLInputElement).checked)} />
      );
      break;
    case "enum":
      input = (
        <select {...common} value={str} onChange={onInput}>
          {(col.nullable || !p.required || str === "") && <option value="">—</option>}
          {(col.values || []).map((v) => (
            <option key={v} value={v}>{v.replace(/_/g, " ")}</option>
          ))}
        </select>
      );
      break;
    case "reference":
      input = <RefPicker {...p} id={id} common={common} />;
      break;
    case "json":
      input = <JsonEditor id={id} common={common} value={str} onChange={p.onChange} disabled={p.disabled} label={title(col.name)} />;
      break;
    case "date":
      input = <input {...common} type="date" value={str} onInput={onInput} />;
      break;
    case "timestamp":
      input = (
        <span class="zoned">
          <input {...common} type="datetime-local" value={str} onInput={onInput} />
          <span class="muted" data-zone>{timeZone()}</span>
        </span>
      );
      break;
    case "integer":
    case "real":
      input = <input {...common} inputMode="numeric" value={str} onInput={onInput} />;
      break;
    case "decimal":
      input = (
        <input {...common} inputMode="decimal" value={str} onInput={onInput}
          placeholder={col.scale ? `0.${"0".repeat(col.scale)}` : undefined} />
      );
      break;
    default:
      input =
        (col.max_length || 0) > 255 ? (
          <textarea {...common} rows={3} value={str} onInput={onInput} maxLength={col.max_length} />
        ) : (
          <input {...common} type={col.secret ? "password" : "text"} value={str} onInput={onInput}
            maxLength={col.max_length} />
        );
  }
  return (
    <div class={`field type-${col.type}${p.error ? " invalid" : ""}`}>
      <label for={id}>
        {title(col.name)}
        {p.required && <span class="req" aria-hidden="true"> *</span>}
      </label>
      {input}
      {col.doc && !p.error && <small id={`${id}-doc`} class="muted">{col.doc}</small>}
      {p.error && <span id={errId} class="err" role="alert">{p.error}</span>}
    </div>
  );
}

// A reference: search the referenced table and pick a row, or paste an id.
function RefPicker(p: FieldProps & { id: string; common: Record<string, any> }) {
  const target = p.col.references ? p.ctx.tables.get(p.col.references) : undefined;
  const [q, setQ] = useState("");
  const [rows, setRows] = useState<Record<string, any>[]>([]);
  const [failed, setFailed] = useState(false);
  const str = typeof p.value === "string" ? p.value : "";
  useEffect(() => {
    if (!target || p.disabled) return;
    const searchable = target.columns.some((c) => c.searchable);
    let current = true; // a slower, older search must not replace a newer one
    const timer = setTimeout(() => {
      api("GET", `/api/v1/${target.name}${qs({ limit: "25", q: searchable && q ? q : undefined })}`)
        .then((r) => current && setRows(r.data.data))
        .catch(() => current && setFailed(true));
    }, q ? 250 : 0);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [q, target?.name]);
  if (!target || failed)
    return <input {...p.common} value={str} onInput={(e) => p.onChange((e.target as HTMLInputElement).value)} placeholder="id" />;
  const known = rows.some((r) => r.id === str);
  return (
    <span class="ref">
      {target.columns.some((c) => c.searchable) && !p.disabled && (
        <input type="search" aria-label={`Search ${title(target.name)}`} value={q}
          onInput={(e) => setQ((e.target as HTMLInputElement).value)} placeholder="search…" />
      )}
      <select {...p.common} value={str} onChange={(e) => p.onChange((e.target as HTMLSelectElement).value)}>
        <option value="">—</option>
        {str && !known && <option value={str}>{str}</option>}
        {rows.map((r) => (
          <option key={r.id} value={r.id}>{rowLabel(target, r)}</option>
        ))}
      </select>
      {str && <a href={href({ kind: "record", table: target.name, id: str })}>open</a>}
    </span>
  );
}

// A JSON object edited as key/value rows (a value that reads as JSON, such
// as 3, true or ["a"], is sent as that; anything else as text), with a
// toggle to the raw text. Arrays and other values open raw. The draft stays
// the JSON text either way, so valueOf checks it as before.
function JsonEditor(p: { id: string; common: Record<string, any>; value: string; onChange: (v: string) => void;
  disabled?: boolean; label: string }) {
  const parsed = parseObject(p.value);
  const [raw, setRaw] = useState(parsed === null);
  const [rows, setRows] = useState<[string, string][]>(() => toRows(parsed));
  // a value changed from outside (a reload, a conflict) replaces the rows
  useEffect(() => {
    const now = parseObject(p.value);
    if (now !== null && JSON.stringify(fromRows(rows)) !== JSON.stringify(now)) setRows(toRows(now));
  }, [p.value]);
  const put = (next: [string, string][]) => {
    setRows(next);
    p.onChange(JSON.stringify(fromRows(next), null, 2));
  };
  const canRows = parsed !== null || p.value.trim() === "";
  return (
    <span class="json-editor">
      <label class="check">
        <input type="checkbox" checked={raw} disabled={!canRows && raw}
          onChange={(e) => setRaw((e.target as HTMLInputElement).checked)} />
        Raw JSON
      </label>
      {raw || !canRows ? (
        <textarea {...p.common} rows={4} value={p.value} spellcheck={false}
          onInput={(e) => p.onChange((e.target as HTMLTextAreaElement).value)} />
      ) : (
        <span role="group" id={p.id} aria-label={`${p.label} entries`} class="kv">
          {rows.map(([k, v], i) => (
            <span class="kv-row" key={i}>
              <input aria-label={`${p.label} key ${i + 1}`} value={k} disabled={p.disabled}
                onInput={(e) => put(rows.map((r, j) => (j === i ? [(e.target as HTMLInputElement).value, r[1]] : r)))} />
              <input aria-label={`${p.label} value ${i + 1}`} value={v} disabled={p.disabled}
                onInput={(e) => put(rows.map((r, j) => (j === i ? [r[0], (e.target as HTMLInputElement).value] : r)))} />
              <button type="button" aria-label={`Remove ${p.label} entry ${i + 1}`} disabled={p.disabled}
                onClick={() => put(rows.filter((_, j) => j !== i))}>×</button>
            </span>
          ))}
          <button type="button" disabled={p.disabled} onClick={() => put([...rows, ["", ""]])}>Add entry</button>
        </span>
      )}
    </span>
  );
}

function parseObject(text: string): Record<string, any> | null {
  if (text.trim() === "") return {};
  try {
    const v = JSON.parse(text);
    return v && typeof v === "object" && !Array.isArray(v) ? v : null;
  } catch {
    return null;
  }
}

function toRows(o: Record<string, any> | null): [string, string][] {
  return Object.entries(o || {}).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]);
}

function fromRows(rows: [string, string][]): Record<string, any> {
  const o: Record<string, any> = {};
  for (const [k, v] of rows) {
    if (k === "") continue;
    try {
      o[k] = /^\s*[-\d\[{"]|^\s*(true|false|null)\s*$/.test(v) ? JSON.parse(v) : v;
    } catch {
      o[k] = v;
    }
  }
  return o;
}
