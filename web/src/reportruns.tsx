// A custom report's runs on its record page: newest first, with the result's
// size; a run whose files are still being written (files_status pending, the
// job reports.render) shows the job's progress and is read again until its
// files are stored, then each file (CSV, XLSX, PDF) downloads.
import { useEffect, useState } from "preact/hooks";
import { api, ApiError, qs } from "./api";
import { formatTime } from "./fields";
import { JobProgress } from "./progress";
import type { Ctx } from "./shell";

type Row = Record<string, any>;
const FILES: [string, string][] = [["csv_file_id", "CSV"], ["xlsx_file_id", "XLSX"], ["pdf_file_id", "PDF"]];

export function ReportRuns(props: { ctx: Ctx; report: Row }) {
  const { ctx, report } = props;
  const [runs, setRuns] = useState<Row[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let stop = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async () => {
      try {
        const r = await api<{ data: Row[] }>("GET", `/api/v1/report_runs${qs({ report_id: report.id, sort: "-finished_at", limit: "10" })}`);
        if (stop) return;
        setRuns(r.data.data);
        // the renderer's outcome is on the run row: read again while any is pending
        if (r.data.data.some((x) => x.files_status === "pending")) timer = setTimeout(load, 700);
      } catch (e) {
        if (!stop) setError(e instanceof ApiError ? e.message : String(e));
      }
    };
    load();
    return () => {
      stop = true;
      clearTimeout(timer);
    };
  }, [report.id]);
  return (
    <section class="report-runs" aria-labelledby="runs-title">
      <h2 id="runs-title">Runs</h2>
      {error && <p class="banner error" role="alert">{error}</p>}
      {runs && !runs.length && <p class="muted">Not run yet.</p>}
      {runs && runs.length > 0 && (
        <div class="tablebox">
          <table aria-label="Report runs">
            <thead>
              <tr><th scope="col">Finished</th><th scope="col">Trigger</th><th scope="col">Status</th><th scope="col" class="num">Rows</th><th scope="col">Files</th></tr>
            </thead>
            <tbody>
              {runs.map((x) => (
                <tr key={x.id} data-run={x.id} data-files={x.files_status || "none"}>
                  <td>{formatTime(x.finished_at)}</td>
                  <td>{x.trigger}</td>
                  <td>{x.status}{x.error_message && <span class="muted">: {x.error_message}</span>}</td>
                  <td class="num">{x.row_count}</td>
                  <td>
                    {x.files_status === "pending" && (
                      <JobProgress ctx={ctx} kind="reports.render" match={(p) => p.report_run_id === x.id} label="Writing the files" />
                    )}
                    {x.files_status === "stored" && FILES.filter(([c]) => x[c]).map(([c, name]) => (
                      <a key={c} class="button" href={`/api/v1/files/${encodeURIComponent(x[c])}/content`} download>{name}</a>
                    ))}
                    {x.files_status === "failed" && <span class="muted">the files could not be written</span>}
                    {!x.files_status && <span class="muted">no files kept</span>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
