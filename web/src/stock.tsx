// Inventory by warehouse: each stock row of the chosen warehouse (or of
// every one) with its units on hand, reserved, available and incoming, as
// the ledger has moved them; choosing a row shows its ledger, the
// inventory_transactions entries in time order, with the balances each
// entry left when the whole ledger is on the page.
import { useEffect, useState } from "preact/hooks";
import { api, ApiError, qs } from "./api";
import { formatTime } from "./fields";
import { href } from "./router";
import type { Ctx } from "./shell";
import "./screens-b.css";

type Row = Record<string, any>;

// Which balance each entry type moves, and which way (the ledger of
// inventory_transactions as docs/api.md declares it).
const ON_HAND = new Set(["purchase", "sale", "return", "adjustment", "transfer_out", "transfer_in", "sync"]);
const RESERVED: Record<string, number> = { reserve: 1, release: -1 };

// The names of the referenced rows: one list request per table for the ids on screen.
export async function names(table: string, ids: string[], col: string): Promise<Map<string, string>> {
  const uniq = [...new Set(ids.filter(Boolean))];
  if (!uniq.length) return new Map();
  const r = await api<{ data: Row[] }>("GET", `/api/v1/${table}${qs({ "id.in": uniq.join(","), limit: String(uniq.length) })}`);
  return new Map(r.data.data.map((x) => [x.id, x[col] || x.id]));
}

export function StockScreen(props: { ctx: Ctx }) {
  const { ctx } = props;
  const [warehouses, setWarehouses] = useState<Row[]>([]);
  const [wh, setWh] = useState("");
  const [rows, setRows] = useState<Row[] | null>(null);
  const [products, setProducts] = useState<Map<string, string>>(new Map());
  const [chosen, setChosen] = useState<Row | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api<{ data: Row[] }>("GET", `/api/v1/warehouses${qs({ sort: "name", limit: "200" })}`)
      .then((r) => setWarehouses(r.data.data))
      .catch((e: ApiError) => setError(e.message));
  }, []);
  useEffect(() => {
    setRows(null);
    setChosen(null);
    api<{ data: Row[] }>("GET", `/api/v1/inventory${qs({ warehouse_id: wh || undefined, limit: "200" })}`)
      .then(async (r) => {
        setProducts(await names("products", r.data.data.map((x) => x.product_id), "name"));
        setRows(r.data.data);
      })
      .catch((e: ApiError) => setError(e.message));
  }, [wh]);
  const whName = new Map(warehouses.map((w) => [w.id, w.code ? `${w.name} (${w.code})` : w.name]));
  return (
    <section class="stock">
      <h1>Inventory by warehouse</h1>
      <p class="narrow">
        <label for="stock-wh">Warehouse</label>
        <select id="stock-wh" value={wh} onChange={(e) => setWh((e.target as HTMLSelectElement).value)}>
          <option value="">All warehouses</option>
          {warehouses.map((w) => <option key={w.id} value={w.id}>{whName.get(w.id)}</option>)}
        </select>
      </p>
      {error && <p class="banner error" role="alert">{error}</p>}
      <div class="tablebox">
        <table aria-label="Stock levels">
          <thead>
            <tr>
              <th scope="col">Product</th>
              <th scope="col">Warehouse</th>
              <th scope="col" class="num">On hand</th>
              <th scope="col" class="num">Reserved</th>
              <th scope="col" class="num">Available</th>
              <th scope="col" class="num">Incoming</th>
              <th scope="col" class="num">Reorder at</th>
            </tr>
          </thead>
          <tbody aria-busy={rows === null}>
            {rows && !rows.length && <tr><td colSpan={7} class="muted">No stock here.</td></tr>}
            {(rows || []).map((r) => (
              <tr key={r.id} data-inventory={r.id} class={chosen?.id === r.id ? "chosen" : ""}>
                <td>
                  <button type="button" class="link" onClick={() => setChosen(r)}>
                    {products.get(r.product_id) || r.product_id}
                  </button>
                </td>
                <td>{whName.get(r.warehouse_id) || r.warehouse_id || ""}</td>
                <td class="num" data-col="on_hand">{r.quantity_on_hand}</td>
                <td class="num" data-col="reserved">{r.quantity_reserved}</td>
                <td class="num" data-col="available">{r.quantity_available ?? r.quantity_on_hand - r.quantity_reserved}</td>
                <td class="num" data-col="incoming">{r.incoming_quantity}</td>
                <td class="num">{r.reorder_point ?? ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {chosen && (
        <Ledger key={chosen.id} ctx={ctx} stock={chosen}
          title={`${products.get(chosen.product_id) || chosen.product_id} at ${whName.get(chosen.warehouse_id) || "its warehouse"}`} />
      )}
    </section>
  );
}

export function Ledger(props: { ctx: Ctx; stock: Row; title: string }) {
  const { stock } = props;
  const [entries, setEntries] = useState<Row[] | null>(null);
  const [complete, setComplete] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api<{ data: Row[]; next_cursor?: string }>(
      "GET", `/api/v1/inventory_transactions${qs({ inventory_id: stock.id, sort: "created_at", limit: "200" })}`)
      .then((r) => {
        setEntries(r.data.data);
        setComplete(!r.data.next_cursor);
      })
      .catch((e: ApiError) => setError(e.message));
  }, [stock.id]);
  let onHand = 0, reserved = 0;
  return (
    <section class="ledger" aria-labelledby="ledger-title">
      <h2 id="ledger-title">Ledger: {props.title}</h2>
      <p class="muted">
        Every movement of this stock row, oldest first.{" "}
        <a href={href({ kind: "record", table: "inventory", id: stock.id })}>Open the stock row</a>
      </p>
      {error && <p class="banner error" role="alert">{error}</p>}
      <div class="tablebox">
        <table aria-label="Ledger entries">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Entry</th>
              <th scope="col" class="num">Quantity</th>
              {complete && <th scope="col" class="num">On hand after</th>}
              {complete && <th scope="col" class="num">Reserved after</th>}
              <th scope="col">Reference</th>
              <th scope="col">Notes</th>
            </tr>
          </thead>
          <tbody aria-busy={entries === null}>
            {(entries || []).map((e) => {
              // quantities are signed; a release lowers what is held
              if (ON_HAND.has(e.transaction_type)) onHand += e.quantity;
              if (RESERVED[e.transaction_type]) reserved += RESERVED[e.transaction_type] * e.quantity;
              return (
                <tr key={e.id} data-entry={e.transaction_type}>
                  <td>{formatTime(e.created_at)}</td>
                  <td>{String(e.transaction_type).replace(/_/g, " ")}</td>
                  <td class="num" data-col="quantity">{e.quantity > 0 ? `+${e.quantity}` : e.quantity}</td>
                  {complete && <td class="num" data-col="on_hand_after">{onHand}</td>}
                  {complete && <td class="num" data-col="reserved_after">{reserved}</td>}
                  <td>{e.reference_type ? `${e.reference_type.replace(/_/g, " ")} ${String(e.reference_id || "").slice(-8)}` : ""}</td>
                  <td>{e.notes || ""}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}
