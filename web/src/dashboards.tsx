// Dashboards (Analytics): the active KPI targets with their achievement,
// the user's own dashboard widgets (metric, chart and table, each drawn from
// GET /api/v1/dashboard_widgets/{id}/data) and the P&L report as a chart.
// Figures are the server's exact decimal strings; charts (Chart.js on a
// canvas, no style sheet of its own, so the strict CSP holds) only plot them,
// and every plotted figure is also shown as text.
import { useEffect, useRef, useState } from "preact/hooks";
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip } from "chart.js";
import { api, ApiError, qs } from "./api";
import { grouped } from "./decimal";
import { can } from "./schema";
import type { Ctx } from "./shell";
import "./screens_a.css";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement, PointElement, Legend, Tooltip);

type Row = Record<string, any>;

const words = (s: string | null | undefined) => (s ? s.replace(/_/g, " ") : "—");
const ARROW: Record<string, string> = { up: "▲ up", down: "▼ down", stable: "► stable" };

// A chart of the given series; redrawn when the data changes, destroyed with the page.
function Plot(props: { kind: "bar" | "line"; labels: string[]; series: { label: string; values: string[]; color: string }[]; name: string }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (!canvas.current) return;
    const chart = new Chart(canvas.current, {
      type: props.kind,
      data: {
        labels: props.labels,
        // plotted only: the exact figures are in the table beside the chart
        datasets: props.series.map((s) => ({ label: s.label, data: s.values.map(Number), backgroundColor: s.color, borderColor: s.color })),
      },
      options: { responsive: true, maintainAspectRatio: false, animation: false, plugins: { legend: { display: props.series.length > 1 } } },
    });
    return () => chart.destroy();
  }, [JSON.stringify(props.labels), JSON.stringify(props.series)]);
  return (
    <div class="chart-box">
      <canvas ref={canvas} role="img" aria-label={props.name} />
    </div>
  );
}

function Targets(props: { rows: Row[] }) {
  if (!props.rows.length) return <p class="muted">No active KPI targets.</p>;
  return (
    <div class="kpis" role="list" aria-label="KPI targets">
      {props.rows.map((k) => (
        <div class="kpi" role="listitem" key={k.id} data-kpi={k.kpi_name}>
          <h3>{words(k.kpi_name)}</h3>
          <p class="big" data-f="current_value">{grouped(k.current_value)}</p>
          <p class="muted">target <span data-f="target_value">{grouped(k.target_value)}</span>
            {k.period_start && <> · {k.period_start} to {k.period_end || "…"}</>}</p>
          <p>
            <meter min={0} max={100} high={99.99} optimum={100} value={Math.min(100, Number(k.achievement_rate) || 0)}
              aria-label={`${words(k.kpi_name)} achievement`} />{" "}
            <strong data-f="achievement_rate">{k.achievement_rate}%</strong>{" "}
            <span class="muted">{ARROW[k.trend_direction] || ""}</span>
          </p>
        </div>
      ))}
    </div>
  );
}

function Widget(props: { w: Row }) {
  const { w } = props;
  const [data, setData] = useState<Row | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api<Row>("GET", `/api/v1/dashboard_widgets/${encodeURIComponent(w.id)}/data`)
      .then((r) => setData(r.data))
      .catch((e: ApiError) => setError(e.message));
  }, [w.id, w.version]);
  const title = w.widget_config?.title || words(w.widget_config?.kpi) || w.widget_type;
  return (
    <section class="kpi" aria-label={title} data-widget={w.widget_type}>
      <h3>{title}</h3>
      {error && <p class="muted">{error}</p>}
      {data && w.widget_type === "metric" && (
        <>
          <p class="big" data-f="value">{grouped(data.value)}</p>
          <p class="muted">{words(data.kpi)} · {data.from === data.to ? data.to : `${data.from} to ${data.to}`} {ARROW[data.trend] || ""}</p>
        </>
      )}
      {data && w.widget_type === "chart" && (
        <>
          <Plot kind="line" name={`${title}: one point per day`} labels={data.points.map((p: Row) => p.date)}
            series={[{ label: words(data.kpi), values: data.points.map((p: Row) => p.value), color: "#0a58ca" }]} />
          <details><summary>Figures</summary>
            <table class="lines"><tbody>
              {data.points.map((p: Row) => <tr key={p.date}><td>{p.date}</td><td class="num">{grouped(p.value)}</td></tr>)}
            </tbody></table>
          </details>
        </>
      )}
      {data && w.widget_type === "table" && (
        <div class="scroll"><table class="lines" aria-label={`${title} figures`}>
          <thead><tr><th scope="col">KPI</th><th scope="col" class="num">Now</th><th scope="col" class="num">Target</th><th scope="col" class="num">Achieved</th></tr></thead>
          <tbody>
            {data.rows.map((r: Row) => (
              <tr key={r.id}><td>{words(r.kpi_name)}</td><td class="num">{grouped(r.current_value)}</td>
                <td class="num">{grouped(r.target_value)}</td><td class="num">{r.achievement_rate}%</td></tr>
            ))}
          </tbody>
        </table></div>
      )}
    </section>
  );
}

const today = () => new Date().toISOString().slice(0, 10);
const daysAgo = (n: number) => new Date(Date.now() - n * 86400000).toISOString().slice(0, 10);

function Pnl() {
  const [from, setFrom] = useState(daysAgo(29));
  const [to, setTo] = useState(today());
  const [group, setGroup] = useState("day");
  const [report, setReport] = useState<Row | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = (e?: Event) => {
    e?.preventDefault();
    setError(null);
    api<Row>("GET", `/api/v1/reports/pnl${qs({ from, to, group })}`)
      .then((r) => setReport(r.data))
      .catch((err: ApiError) => setError(err.message));
  };
  useEffect(() => load(), []);
  const rows: Row[] = report?.rows || [];
  return (
    <section class="panel" aria-labelledby="pnl-title">
      <h2 id="pnl-title">Profit and loss</h2>
      <form class="inline" onSubmit={load}>
        <div><label for="pnl-from">From</label><input id="pnl-from" type="date" value={from} onInput={(e) => setFrom((e.target as HTMLInputElement).value)} /></div>
        <div><label for="pnl-to">To</label><input id="pnl-to" type="date" value={to} onInput={(e) => setTo((e.target as HTMLInputElement).value)} /></div>
        <div><label for="pnl-group">By</label>
          <select id="pnl-group" value={group} onChange={(e) => setGroup((e.target as HTMLSelectElement).value)}>
            <option value="day">day</option><option value="month">month</option><option value="channel">channel</option>
          </select></div>
        <button type="submit">Show</button>
      </form>
      {error && <p class="banner error" role="alert">{error}</p>}
      {report && rows.length === 0 && <p class="muted">Nothing was sold or spent in these days.</p>}
      {rows.length > 0 && (
        <Plot kind="bar" name="Profit and loss chart" labels={rows.map((r) => r.key)} series={[
          { label: "Net revenue", values: rows.map((r) => r.net_revenue), color: "#0a58ca" },
          { label: "Expenses", values: rows.map((r) => r.expenses), color: "#b42318" },
          { label: "Profit", values: rows.map((r) => r.profit), color: "#1a7f37" },
        ]} />
      )}
      {report && (
        <div class="scroll">
          <table class="lines" aria-label="Profit and loss figures">
            <thead><tr><th scope="col">{group}</th><th scope="col" class="num">Orders</th><th scope="col" class="num">Gross revenue</th>
              <th scope="col" class="num">Net revenue</th><th scope="col" class="num">Expenses</th><th scope="col" class="num">Profit</th></tr></thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.key}><td>{r.key}</td><td class="num">{r.orders}</td><td class="num">{grouped(r.gross_revenue)}</td>
                  <td class="num">{grouped(r.net_revenue)}</td><td class="num">{grouped(r.expenses)}</td><td class="num" data-f="profit">{grouped(r.profit)}</td></tr>
              ))}
              {report.totals && (
                <tr class="grand" data-totals><th scope="row">Total</th><td class="num">{report.totals.orders}</td>
                  <td class="num">{grouped(report.totals.gross_revenue)}</td><td class="num">{grouped(report.totals.net_revenue)}</td>
                  <td class="num">{grouped(report.totals.expenses)}</td><td class="num" data-f="profit">{grouped(report.totals.profit)}</td></tr>
              )}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

export function Dashboards(props: { ctx: Ctx }) {
  const { ctx } = props;
  const [targets, setTargets] = useState<Row[] | null>(null);
  const [widgets, setWidgets] = useState<Row[] | null>(null);
  useEffect(() => {
    api<{ data: Row[] }>("GET", `/api/v1/kpi_targets${qs({ is_active: "true", sort: "kpi_name", limit: "50" })}`)
      .then((r) => setTargets(r.data.data))
      .catch(() => setTargets([]));
    api<{ data: Row[] }>("GET", `/api/v1/dashboard_widgets${qs({ user_id: ctx.me.user.id, is_visible: "true", limit: "50" })}`)
      .then((r) => setWidgets(r.data.data.sort((a, b) => a.position_y - b.position_y || a.position_x - b.position_x)))
      .catch(() => setWidgets([]));
  }, []);
  return (
    <section>
      <h1>Dashboards</h1>
      <section aria-labelledby="targets-title">
        <h2 id="targets-title">KPI targets</h2>
        {targets ? <Targets rows={targets} /> : <p class="loading">Loading…</p>}
      </section>
      <section aria-labelledby="widgets-title">
        <h2 id="widgets-title">My widgets</h2>
        {widgets && widgets.length === 0 && <p class="muted">No widgets yet.</p>}
        {widgets && <div class="kpis wide">{widgets.map((w) => <Widget key={w.id} w={w} />)}</div>}
      </section>
      {can(ctx.me, "finance.view") && <Pnl />}
    </section>
  );
}
