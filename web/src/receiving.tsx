// Purchase-order receiving: the orders still open, and for the one chosen
// its lines (ordered, received so far, still to come) with a quantity to
// receive now on each, the warehouse the goods go into, its allowed events
// (submit, approve, close, cancel) as buttons, and that warehouse's stock of
// the order's products, read again after each receipt so the movement shows.
// The receipt itself is the order's declared receive action.
import { useEffect, useState } from "preact/hooks";
import { api, ApiError, qs } from "./api";
import { formatTime } from "./fields";
import { href } from "./router";
import { can } from "./schema";
import type { Ctx } from "./shell";
import { useRun } from "./run";
import { names } from "./stock";
import "./screens-b.css";

type Row = Record<string, any>;
// received orders stay until closed
const OPEN = "draft,submitted,approved,partially_received,received";
const RECEIVABLE = new Set(["approved", "partially_received"]);

export function ReceivingScreen(props: { ctx: Ctx }) {
  const { ctx } = props;
  const [orders, setOrders] = useState<Row[] | null>(null);
  const [suppliers, setSuppliers] = useState<Map<string, string>>(new Map());
  const [chosen, setChosen] = useState<string | null>(null);
  const [version, setVersion] = useState(0);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api<{ data: Row[] }>("GET", `/api/v1/purchase_orders${qs({ "status.in": OPEN, sort: "po_number", limit: "200" })}`)
      .then(async (r) => {
        setSuppliers(await names("suppliers", r.data.data.map((o) => o.supplier_id), "name"));
        setOrders(r.data.data);
      })
      .catch((e: ApiError) => setError(e.message));
  }, [version]);
  return (
    <section class="receiving">
      <h1>Purchase-order receiving</h1>
      {error && <p class="banner error" role="alert">{error}</p>}
      <div class="split">
        <div class="tablebox">
          <table aria-label="Open purchase orders">
            <thead>
              <tr>
                <th scope="col">Order</th>
                <th scope="col">Supplier</th>
                <th scope="col">Status</th>
                <th scope="col" class="num">Total</th>
                <th scope="col">Expected</th>
              </tr>
            </thead>
            <tbody aria-busy={orders === null}>
              {orders && !orders.length && <tr><td colSpan={5} class="muted">No purchase order to receive or close.</td></tr>}
              {(orders || []).map((o) => (
                <tr key={o.id} data-po={o.po_number} class={chosen === o.id ? "chosen" : ""}>
                  <td><button type="button" class="link" onClick={() => setChosen(o.id)}>{o.po_number}</button></td>
                  <td>{suppliers.get(o.supplier_id) || ""}</td>
                  <td data-col="status">{String(o.status).replace(/_/g, " ")}</td>
                  <td class="num">{o.total_amount} {o.currency}</td>
                  <td>{o.expected_date || ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {chosen && <OrderPanel key={chosen} ctx={ctx} id={chosen} onChanged={() => setVersion((v) => v + 1)} />}
      </div>
    </section>
  );
}

function OrderPanel(props: { ctx: Ctx; id: string; onChanged: () => void }) {
  const { ctx, id } = props;
  const path = `/api/v1/purchase_orders/${encodeURIComponent(id)}`;
  const [po, setPo] = useState<Row | null>(null);
  const [lines, setLines] = useState<Row[]>([]);
  const [products, setProducts] = useState<Map<string, string>>(new Map());
  const [warehouses, setWarehouses] = useState<Row[]>([]);
  const [wh, setWh] = useState("");
  const [stock, setStock] = useState<Map<string, Row>>(new Map());
  const [qty, setQty] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const { busy, run } = useRun(props.onChanged, setError, () => setDone(null));
  const load = async () => {
    const [o, items] = await Promise.all([
      api<Row>("GET", path),
      api<{ data: Row[] }>("GET", `/api/v1/purchase_order_items${qs({ purchase_order_id: id, sort: "created_at", limit: "200" })}`),
    ]);
    setPo(o.data);
    setLines(items.data.data);
    setProducts(await names("products", items.data.data.map((l) => l.product_id), "name"));
    setQty(Object.fromEntries(items.data.data.map((l) => [l.id, String(Math.max(0, l.quantity_ordered - l.quantity_received))])));
    return o.data;
  };
  useEffect(() => {
    load()
      .then((o) => setWh((w) => w || o.warehouse_id || ""))
      .catch((e: ApiError) => setError(e.message));
    api<{ data: Row[] }>("GET", `/api/v1/warehouses${qs({ sort: "name", limit: "200" })}`)
      .then((r) => setWarehouses(r.data.data))
      .catch(() => setWarehouses([]));
  }, [id]);
  // the chosen warehouse's stock of this order's products
  const loadStock = async () => {
    if (!wh || !lines.length || !ctx.tables.has("inventory")) return setStock(new Map());
    const ids = [...new Set(lines.map((l) => l.product_id))].join(",");
    const r = await api<{ data: Row[] }>("GET", `/api/v1/inventory${qs({ warehouse_id: wh, "product_id.in": ids, limit: "200" })}`);
    setStock(new Map(r.data.data.filter((s) => !s.variant_id).map((s) => [s.product_id, s])));
  };
  useEffect(() => {
    loadStock().catch((e: ApiError) => setError(e.message));
  }, [wh, lines]);
  if (!po) return <section class="panel">{error ? <p class="banner error" role="alert">{error}</p> : <p class="muted">Loading…</p>}</section>;
  const pt = ctx.tables.get("purchase_orders");
  const events = (pt?.state_machine?.transitions || []).filter(
    (e) => e.from.split(",").includes(po.status) && can(ctx.me, e.permission),
  );
  const receivable = RECEIVABLE.has(po.status) && can(ctx.me, "purchasing.receive");
  const receive = (e: Event) => {
    e.preventDefault();
    const picked = lines
      .filter((l) => (qty[l.id] || "").trim() !== "" && qty[l.id].trim() !== "0")
      .map((l) => ({ purchase_order_item_id: l.id, quantity: /^\d+$/.test(qty[l.id].trim()) ? Number(qty[l.id].trim()) : qty[l.id] }));
    run(async () => {
      const r = await api<Row>("POST", `${path}/receive`, { warehouse_id: wh || undefined, lines: picked });
      await load();
      const n = picked.reduce((s, l) => s + (typeof l.quantity === "number" ? l.quantity : 0), 0);
      setDone(`Received ${n} units; the order is ${String(r.data.status || "").replace(/_/g, " ")}.`);
    });
  };
  return (
    <section class="panel" aria-labelledby="po-title">
      <h2 id="po-title">
        <a href={href({ kind: "record", table: "purchase_orders", id })}>{po.po_number}</a>
      </h2>
      <p class="muted">
        <span data-status>{String(po.status).replace(/_/g, " ")}</span> · ordered {po.order_date}
        {po.approved_at && <> · approved {formatTime(po.approved_at)}</>} · {po.total_amount} {po.currency}
      </p>
      {error && <p class="banner error" role="alert">{error}</p>}
      {done && <p class="banner ok" role="status">{done}</p>}
      {events.length > 0 && (
        <p class="buttons">
          {events.map((ev) => (
            <button type="button" key={ev.event} disabled={busy}
              onClick={() => run(async () => { setPo((await api<Row>("POST", `${path}/${ev.event}`, {})).data); })}>
              {ev.event.replace(/_/g, " ")}
            </button>
          ))}
        </p>
      )}
      <form onSubmit={receive} aria-label="Receive goods">
        {receivable && (
          <p class="narrow">
            <label for="rcv-wh">Into warehouse</label>
            <select id="rcv-wh" value={wh} onChange={(e) => setWh((e.target as HTMLSelectElement).value)}>
              {warehouses.map((w) => <option key={w.id} value={w.id}>{w.code ? `${w.name} (${w.code})` : w.name}</option>)}
            </select>
          </p>
        )}
        <div class="tablebox">
          <table aria-label="Order lines" class="lines">
            <thead>
              <tr>
                <th scope="col">Product</th>
                <th scope="col" class="num">Ordered</th>
                <th scope="col" class="num">Received</th>
                <th scope="col" class="num">To come</th>
                <th scope="col" class="num">In stock</th>
                {receivable && <th scope="col">Receive now</th>}
              </tr>
            </thead>
            <tbody>
              {lines.map((l) => {
                const name = products.get(l.product_id) || l.product_id;
                const s = stock.get(l.product_id);
                return (
                  <tr key={l.id} data-line={name}>
                    <td>{name}</td>
                    <td class="num" data-col="ordered">{l.quantity_ordered}</td>
                    <td class="num" data-col="received">{l.quantity_received}</td>
                    <td class="num" data-col="remaining">{Math.max(0, l.quantity_ordered - l.quantity_received)}</td>
                    <td class="num" data-col="on_hand">{s ? s.quantity_on_hand : "–"}</td>
                    {receivable && (
                      <td>
                        <label class="sr" for={`rcv-${l.id}`}>Receive now: {name}</label>
                        <input id={`rcv-${l.id}`} inputMode="numeric" value={qty[l.id] || ""}
                          onInput={(e) => setQty({ ...qty, [l.id]: (e.target as HTMLInputElement).value })} />
                      </td>
                    )}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
        {receivable && <p><button type="submit" class="primary" disabled={busy}>Receive</button></p>}
      </form>
    </section>
  );
}
