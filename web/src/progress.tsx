// Progress of a long operation that runs as a background job (an approved
// export, an import, a report run): the job's row is polled until it is done
// or dead, and shown as a progress bar with what the queue says of it. A
// user who may not read jobs sees the bar alone, and the caller polls the
// operation's own row.
import { useEffect, useState } from "preact/hooks";
import { api, qs } from "./api";
import { can } from "./schema";
import type { Ctx } from "./shell";

type Row = Record<string, any>;

const WORDS: Record<string, string> = { queued: "Queued", running: "Running", done: "Finished", dead: "Failed" };

export function JobProgress(props: { ctx: Ctx; kind: string; match: (payload: Row) => boolean; label: string }) {
  const { ctx, kind, match } = props;
  const [job, setJob] = useState<Row | null>(null);
  const visible = can(ctx.me, "jobs.view");
  useEffect(() => {
    if (!visible) return;
    let stop = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        const r = await api<{ data: Row[] }>("GET", `/api/v1/jobs${qs({ kind, sort: "-created_at", limit: "50" })}`);
        const j = r.data.data.find((x) => x.payload && match(x.payload)) || null;
        if (!stop) setJob(j);
        if (j && (j.status === "done" || j.status === "dead")) return;
      } catch {
        // a failed poll is tried again at the next tick
      }
      if (!stop) timer = setTimeout(poll, 500);
    };
    poll();
    return () => {
      stop = true;
      clearTimeout(timer);
    };
  }, [kind]);
  const status = job?.status as string | undefined;
  const finished = status === "done" || status === "dead";
  return (
    <div class="progress" role="group" aria-label={props.label} data-job={status || "waiting"}>
      {finished ? <progress max={1} value={1} /> : <progress aria-label={props.label} />}
      <span role="status">
        {!status ? "Working…" : WORDS[status] || status}
        {status === "running" && job!.attempts > 1 && ` (attempt ${job!.attempts})`}
        {status === "dead" && job!.last_error && `: ${job!.last_error}`}
      </span>
    </div>
  );
}
