// Attached files on a record page: the files uploaded for this record
// (files.record_table and record_id), an upload as the files API takes it
// (multipart, the part named "file"), a preview of images and PDFs, and the
// download. The content route always answers as an attachment (an upload is
// never rendered from the server's origin), so a preview is made here from
// the downloaded bytes as a blob: URL of the type the server read from the
// content, shown in an <img> or a PDF frame.
import { useEffect, useState } from "preact/hooks";
import { api, ApiError, csrfToken, qs } from "./api";
import { can, Table } from "./schema";
import type { Ctx } from "./shell";
import "./screens_a.css";

type Row = Record<string, any>;

const IMAGES = new Set(["image/png", "image/jpeg", "image/gif", "image/webp"]);
const previewable = (f: Row) => IMAGES.has(f.mime_type) || f.mime_type === "application/pdf";

function size(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${Math.round(n / 102.4) / 10} kB`;
  return `${Math.round(n / 104857.6) / 10} MB`;
}

export function AttachedFiles(props: { ctx: Ctx; table: Table; row: Row }) {
  const { ctx, table: t, row } = props;
  const [files, setFiles] = useState<Row[] | null>(null);
  const [chosen, setChosen] = useState<File | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [preview, setPreview] = useState<{ file: Row; url: string } | null>(null);
  const [inputKey, setInputKey] = useState(0);
  const load = () =>
    api<{ data: Row[] }>("GET", `/api/v1/files${qs({ record_table: t.name, record_id: row.id, sort: "-created_at", limit: "100" })}`)
      .then((r) => setFiles(r.data.data))
      .catch((e: ApiError) => setError(e.message));
  useEffect(() => {
    load();
  }, [row.id]);
  useEffect(() => () => { if (preview) URL.revokeObjectURL(preview.url); }, [preview]);
  const upload = async (e: Event) => {
    e.preventDefault();
    if (!chosen) return;
    setBusy(true);
    setError(null);
    try {
      const form = new FormData();
      form.append("record_table", t.name);
      form.append("record_id", row.id);
      form.append("file", chosen, chosen.name);
      const r = await fetch("/api/v1/files", {
        method: "POST", body: form, credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRF-Token": csrfToken(), "Idempotency-Key": crypto.randomUUID() },
      });
      const body = await r.json().catch(() => null);
      if (!r.ok) throw new ApiError(r.status, body);
      setChosen(null);
      setInputKey((k) => k + 1);
      await load();
    } catch (err) {
      setError(err instanceof ApiError ? err.message + Object.values(err.fields).map((m) => ` (${m})`).join("") : String(err));
    } finally {
      setBusy(false);
    }
  };
  const show = async (f: Row) => {
    setError(null);
    try {
      const r = await fetch(`/api/v1/files/${encodeURIComponent(f.id)}/content`, { credentials: "same-origin" });
      if (!r.ok) throw new Error(`the file could not be read (${r.status})`);
      const blob = new Blob([await r.arrayBuffer()], { type: f.mime_type });
      setPreview({ file: f, url: URL.createObjectURL(blob) });
    } catch (err) {
      setError(String(err instanceof Error ? err.message : err));
    }
  };
  return (
    <section class="files" aria-labelledby="files-title">
      <h2 id="files-title">Attached files</h2>
      {error && <p class="banner error" role="alert">{error}</p>}
      {files && files.length === 0 && <p class="muted">No files yet.</p>}
      {files && files.length > 0 && (
        <table class="lines" aria-label="Files">
          <thead><tr><th scope="col">Name</th><th scope="col">Type</th><th scope="col" class="num">Size</th><th scope="col">Added</th><th scope="col"><span class="sr">Actions</span></th></tr></thead>
          <tbody>
            {files.map((f) => (
              <tr key={f.id} data-file={f.file_name}>
                <td>{f.file_name}</td>
                <td>{f.mime_type}</td>
                <td class="num">{size(f.file_size)}</td>
                <td><time dateTime={f.created_at}>{new Date(f.created_at).toLocaleString()}</time></td>
                <td class="file-acts">
                  {previewable(f) && <button type="button" aria-label={`Preview ${f.file_name}`} onClick={() => show(f)}>Preview</button>}{" "}
                  <a class="button" href={`/api/v1/files/${encodeURIComponent(f.id)}/content`} download={f.file_name}
                    aria-label={`Download ${f.file_name}`}>Download</a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {preview && (
        <figure class="file-preview" aria-label={`Preview of ${preview.file.file_name}`}>
          {IMAGES.has(preview.file.mime_type)
            ? <img class="preview" src={preview.url} alt={preview.file.file_name} />
            : <iframe class="preview" src={preview.url} title={preview.file.file_name} />}
          <figcaption>{preview.file.file_name} <button type="button" onClick={() => setPreview(null)}>Close preview</button></figcaption>
        </figure>
      )}
      {can(ctx.me, "files.create") && (
        <form class="inline" novalidate onSubmit={upload}>
          <div><label for="file-pick">Add a file</label>
            <input key={inputKey} id="file-pick" type="file"
              onChange={(e) => setChosen((e.target as HTMLInputElement).files?.[0] || null)} /></div>
          <button type="submit" disabled={!chosen || busy}>{busy ? "Uploading…" : "Upload"}</button>
        </form>
      )}
    </section>
  );
}
