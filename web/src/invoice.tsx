// The invoice builder (Shop and invoices): pick a customer, start a draft,
// add pieces (the server prices each line from the piece and the metal rate
// in force: weights, making rule, stone, wastage, discount, tax), issue it,
// then take old gold in exchange and payments. Every figure shown is the
// server's: after each write the invoice and its lines are read again, so
// the totals are the invoice's own computed columns, never a sum made here.
import { useEffect, useState } from "preact/hooks";
import { api, ApiError, qs } from "./api";
import { grouped, typed } from "./decimal";
import { href } from "./router";
import { can } from "./schema";
import type { Ctx } from "./shell";
import "./screens_a.css";

type Row = Record<string, any>;

const PAYABLE = new Set(["issued", "partially_paid", "overdue"]);
const METHODS = ["cash", "card", "upi", "bank_transfer", "cheque"];

function message(e: unknown): string {
  return e instanceof ApiError ? e.message + Object.values(e.fields).map((m) => ` (${m})`).join("") : String(e);
}

function CustomerPicker(props: { onPick: (c: Row) => void }) {
  const [q, setQ] = useState("");
  const [found, setFound] = useState<Row[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const search = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      const r = await api<{ data: Row[] }>("GET", `/api/v1/customers${qs({ q: q.trim(), sort: "name", limit: "20" })}`);
      setFound(r.data.data);
    } catch (err) {
      setError(message(err));
    }
  };
  return (
    <section class="panel" aria-labelledby="pick-title">
      <h2 id="pick-title">Customer</h2>
      <form role="search" class="inline" onSubmit={search}>
        <label for="inv-cust-q">Find a customer</label>
        <input id="inv-cust-q" value={q} placeholder="name, e-mail or phone"
          onInput={(e) => setQ((e.target as HTMLInputElement).value)} />
        <button type="submit">Search</button>
      </form>
      {error && <p class="banner error" role="alert">{error}</p>}
      {found && found.length === 0 && <p class="muted">No customer matches.</p>}
      {found && found.length > 0 && (
        <ul class="picks" aria-label="Customers found">
          {found.map((c) => (
            <li key={c.id}>
              <button type="button" onClick={() => props.onPick(c)}>{c.name}</button>{" "}
              <span class="muted">{[c.customer_code, c.email, c.city].filter(Boolean).join(" · ")}</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

// The rate of a metal and fineness in force now (the newest that has started).
async function rateInForce(metal: string, purity: number | string): Promise<Row | null> {
  const r = await api<{ data: Row[] }>("GET", `/api/v1/metal_rates${qs({
    metal, purity: String(purity), "effective_from.lte": new Date().toISOString(), sort: "-effective_from", limit: "1",
  })}`);
  return r.data.data[0] || null;
}

function making(p: Row): string {
  if (!p.making_charge_type) return "none";
  if (p.making_charge_type === "percent") return `${p.making_charge_value}% of metal value`;
  if (p.making_charge_type === "per_gram") return `${grouped(p.making_charge_value)} per gram`;
  return `${grouped(p.making_charge_value)} fixed`;
}

function AddPiece(props: { ctx: Ctx; invoice: Row; onAdded: () => void }) {
  const [pieces, setPieces] = useState<Row[]>([]);
  const [pid, setPid] = useState("");
  const [rate, setRate] = useState<Row | null | undefined>(undefined);
  const [tax, setTax] = useState("3.00");
  const [discount, setDiscount] = useState("");
  const [stone, setStone] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    // the pieces are the catalogue's: without inventory.view there is nothing to pick
    if (!can(props.ctx.me, "inventory.view")) return;
    api<{ data: Row[] }>("GET", `/api/v1/products${qs({ "metal.null": "false", is_active: "true", sort: "name", limit: "200" })}`)
      .then((r) => setPieces(r.data.data))
      .catch(() => setPieces([]));
  }, []);
  const piece = pieces.find((p) => p.id === pid);
  useEffect(() => {
    setRate(undefined);
    if (piece?.metal && piece.purity) rateInForce(piece.metal, piece.purity).then(setRate).catch(() => setRate(null));
  }, [pid]);
  const add = async (e: Event) => {
    e.preventDefault();
    if (!piece) return;
    setBusy(true);
    setError(null);
    const body: Row = { invoice_id: props.invoice.id, product_id: piece.id, description: piece.name };
    if (tax.trim()) body.tax_rate = typed(tax);
    if (discount.trim()) body.discount_amount = typed(discount);
    if (stone.trim()) body.stone_charges = typed(stone);
    try {
      await api("POST", "/api/v1/invoice_items", body, { "Idempotency-Key": crypto.randomUUID() });
      setPid("");
      setDiscount("");
      setStone("");
      props.onAdded();
    } catch (err) {
      setError(err as ApiError);
    } finally {
      setBusy(false);
    }
  };
  const fe = (f: string) => error?.fields[f] && <span class="err" role="alert">{error.fields[f]}</span>;
  return (
    <form class="panel" aria-labelledby="add-title" novalidate onSubmit={add}>
      <h2 id="add-title">Add a piece</h2>
      <div class="grid">
        <div>
          <label for="inv-piece">Piece</label>
          <select id="inv-piece" value={pid} onChange={(e) => setPid((e.target as HTMLSelectElement).value)}>
            <option value="">Choose a piece…</option>
            {pieces.map((p) => <option key={p.id} value={p.id}>{p.sku} · {p.name}</option>)}
          </select>
        </div>
        <div>
          <label for="inv-tax">Tax rate (%)</label>
          <input id="inv-tax" inputMode="decimal" value={tax} aria-invalid={!!error?.fields.tax_rate}
            onInput={(e) => setTax((e.target as HTMLInputElement).value)} />
          {fe("tax_rate")}
        </div>
        <div>
          <label for="inv-discount">Discount</label>
          <input id="inv-discount" inputMode="decimal" value={discount} placeholder="0.00"
            aria-invalid={!!error?.fields.discount_amount} onInput={(e) => setDiscount((e.target as HTMLInputElement).value)} />
          {fe("discount_amount")}
        </div>
        <div>
          <label for="inv-stone">Stone charges</label>
          <input id="inv-stone" inputMode="decimal" value={stone} placeholder={piece?.stone_charges ? `the piece's ${piece.stone_charges}` : "0.00"}
            aria-invalid={!!error?.fields.stone_charges} onInput={(e) => setStone((e.target as HTMLInputElement).value)} />
          {fe("stone_charges")}
        </div>
      </div>
      {piece && (
        <dl class="facts" aria-label="The piece">
          <dt>Metal</dt><dd>{piece.metal} {piece.purity}</dd>
          <dt>Gross</dt><dd>{piece.gross_weight} g</dd>
          <dt>Stone</dt><dd>{piece.stone_weight ?? "0.000"} g</dd>
          <dt>Net</dt><dd data-net>{piece.net_weight} g</dd>
          <dt>Making</dt><dd>{making(piece)}</dd>
          <dt>Wastage</dt><dd>{piece.wastage_percent ? `${piece.wastage_percent}%` : "none"}</dd>
          <dt>Stones</dt><dd>{grouped(piece.stone_charges ?? "0.00")}</dd>
          <dt>Rate in force</dt>
          <dd data-rate>{rate === undefined ? "…" : rate ? `${grouped(rate.rate_per_gram)} per gram` : "no rate in force"}</dd>
        </dl>
      )}
      {error && !Object.keys(error.fields).length && <p class="banner error" role="alert">{error.message}</p>}
      <button type="submit" class="primary" disabled={!piece || busy}>{busy ? "Adding…" : "Add line"}</button>
    </form>
  );
}

function Lines(props: { lines: Row[]; draft: boolean; onChange: () => void; onError: (m: string) => void }) {
  const remove = async (id: string) => {
    try {
      await api("DELETE", `/api/v1/invoice_items/${encodeURIComponent(id)}`);
      props.onChange();
    } catch (e) {
      props.onError(message(e));
    }
  };
  if (!props.lines.length) return <p class="muted">No lines yet.</p>;
  return (
    <div class="scroll">
      <table class="lines" aria-label="Lines">
        <thead>
          <tr>
            <th scope="col">Item</th><th scope="col">Metal</th><th scope="col" class="num">Net g</th>
            <th scope="col" class="num">Rate/g</th><th scope="col" class="num">Metal value</th>
            <th scope="col" class="num">Making</th><th scope="col" class="num">Wastage</th>
            <th scope="col" class="num">Stones</th><th scope="col" class="num">Discount</th>
            <th scope="col" class="num">Tax</th><th scope="col" class="num">Line total</th>
            {props.draft && <th scope="col"><span class="sr">Remove</span></th>}
          </tr>
        </thead>
        <tbody>
          {props.lines.map((l) => (
            <tr key={l.id} data-line={l.id}>
              <td>{l.description}{l.sku && <span class="muted"> · {l.sku}</span>}</td>
              <td>{[l.metal_type, l.purity].filter(Boolean).join(" ")}</td>
              <td class="num" data-f="net_weight">{l.net_weight ?? "—"}</td>
              <td class="num" data-f="rate_per_gram">{grouped(l.rate_per_gram)}</td>
              <td class="num" data-f="metal_value">{grouped(l.metal_value)}</td>
              <td class="num" data-f="making_charges">{grouped(l.making_charges)}</td>
              <td class="num" data-f="wastage_amount">{grouped(l.wastage_amount)}</td>
              <td class="num" data-f="stone_charges">{grouped(l.stone_charges)}</td>
              <td class="num" data-f="discount_amount">{grouped(l.discount_amount)}</td>
              <td class="num" data-f="tax_amount">{grouped(l.tax_amount)}{l.tax_rate && <span class="muted"> ({l.tax_rate}%)</span>}</td>
              <td class="num" data-f="line_total"><strong>{grouped(l.line_total)}</strong></td>
              {props.draft && (
                <td><button type="button" class="danger" aria-label={`Remove ${l.description}`} onClick={() => remove(l.id)}>Remove</button></td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Totals(props: { invoice: Row }) {
  const i = props.invoice;
  const rows: [string, string][] = [
    ["subtotal", "Subtotal"], ["discount_amount", "Discount"], ["tax_amount", "Tax"],
    ["total_amount", "Total"], ["amount_paid", "Paid"],
  ];
  return (
    <dl class="totals" aria-label="Totals">
      {rows.map(([f, label]) => (
        <div key={f} class={f === "total_amount" ? "grand" : ""}>
          <dt>{label}</dt>
          <dd data-total={f}>{grouped(i[f])} <span class="muted">{i.currency}</span></dd>
        </div>
      ))}
    </dl>
  );
}

function OldGold(props: { invoice: Row; exchanges: Row[]; onDone: () => void }) {
  const [gross, setGross] = useState("");
  const [purity, setPurity] = useState("916");
  const [melt, setMelt] = useState("0.00");
  const [error, setError] = useState<ApiError | null>(null);
  const take = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      await api("POST", "/api/v1/old_gold_exchanges", {
        customer_id: props.invoice.customer_id, invoice_id: props.invoice.id, metal: "gold",
        gross_weight: typed(gross), purity: Number(purity), melting_deduction_percent: typed(melt) || "0",
      }, { "Idempotency-Key": crypto.randomUUID() });
      setGross("");
      props.onDone();
    } catch (err) {
      setError(err as ApiError);
    }
  };
  const fe = (f: string) => error?.fields[f] && <span class="err" role="alert">{error.fields[f]}</span>;
  return (
    <section class="panel" aria-labelledby="og-title">
      <h2 id="og-title">Old gold exchange</h2>
      <p class="muted">Fine weight less the melting deduction, valued by the server at the 24K rate in force and paid on this invoice.</p>
      {props.exchanges.length > 0 && (
        <table class="lines" aria-label="Old gold taken">
          <thead><tr><th scope="col" class="num">Gross g</th><th scope="col" class="num">Purity</th><th scope="col" class="num">Fine g</th>
            <th scope="col" class="num">Deducted g</th><th scope="col" class="num">Credited g</th><th scope="col" class="num">Rate/g</th><th scope="col" class="num">Value</th></tr></thead>
          <tbody>
            {props.exchanges.map((x) => (
              <tr key={x.id}>
                <td class="num">{x.gross_weight}</td><td class="num">{x.purity}</td><td class="num">{x.fine_weight}</td>
                <td class="num">{x.deducted_weight}</td><td class="num">{x.credited_weight}</td>
                <td class="num">{grouped(x.rate_per_gram)}</td><td class="num" data-f="value">{grouped(x.value)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {PAYABLE.has(props.invoice.status) && <form class="inline" novalidate onSubmit={take}>
        <div><label for="og-gross">Gross weight (g)</label>
          <input id="og-gross" inputMode="decimal" value={gross} aria-invalid={!!error?.fields.gross_weight}
            onInput={(e) => setGross((e.target as HTMLInputElement).value)} />{fe("gross_weight")}</div>
        <div><label for="og-purity">Purity (‰)</label>
          <input id="og-purity" inputMode="numeric" value={purity} aria-invalid={!!error?.fields.purity}
            onInput={(e) => setPurity((e.target as HTMLInputElement).value)} />{fe("purity")}</div>
        <div><label for="og-melt">Melting deduction (%)</label>
          <input id="og-melt" inputMode="decimal" value={melt} aria-invalid={!!error?.fields.melting_deduction_percent}
            onInput={(e) => setMelt((e.target as HTMLInputElement).value)} />{fe("melting_deduction_percent")}</div>
        <button type="submit" disabled={!gross.trim()}>Take old gold</button>
      </form>}
      {error && !Object.keys(error.fields).length && <p class="banner error" role="alert">{error.message}</p>}
    </section>
  );
}

function Payments(props: { invoice: Row; payments: Row[]; canPay: boolean; onDone: () => void }) {
  const [amount, setAmount] = useState("");
  const [method, setMethod] = useState("cash");
  const [error, setError] = useState<ApiError | null>(null);
  const pay = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      await api("POST", "/api/v1/payments", {
        customer_id: props.invoice.customer_id, invoice_id: props.invoice.id, amount: typed(amount),
        currency: props.invoice.currency, payment_method: method, payment_status: "completed",
        payment_date: new Date().toISOString(),
      }, { "Idempotency-Key": crypto.randomUUID() });
      setAmount("");
      props.onDone();
    } catch (err) {
      setError(err as ApiError);
    }
  };
  return (
    <section class="panel" aria-labelledby="pay-title">
      <h2 id="pay-title">Payments</h2>
      {props.payments.length > 0 && (
        <ul class="plain" aria-label="Payments received">
          {props.payments.map((p) => (
            <li key={p.id}>{grouped(p.amount)} {p.currency} · {p.payment_method || "—"} · {p.payment_status}</li>
          ))}
        </ul>
      )}
      {props.canPay && PAYABLE.has(props.invoice.status) && (
        <form class="inline" novalidate onSubmit={pay}>
          <div><label for="pay-amount">Amount</label>
            <input id="pay-amount" inputMode="decimal" value={amount} aria-invalid={!!error?.fields.amount}
              onInput={(e) => setAmount((e.target as HTMLInputElement).value)} />
            {error?.fields.amount && <span class="err" role="alert">{error.fields.amount}</span>}</div>
          <div><label for="pay-method">Method</label>
            <select id="pay-method" value={method} onChange={(e) => setMethod((e.target as HTMLSelectElement).value)}>
              {METHODS.map((m) => <option key={m} value={m}>{m.replace(/_/g, " ")}</option>)}
            </select></div>
          <button type="submit" class="primary" disabled={!amount.trim()}>Take payment</button>
        </form>
      )}
      {error && !Object.keys(error.fields).length && <p class="banner error" role="alert">{error.message}</p>}
    </section>
  );
}

export function InvoiceBuilder(props: { ctx: Ctx }) {
  const { ctx } = props;
  const [customer, setCustomer] = useState<Row | null>(null);
  const [invoice, setInvoice] = useState<Row | null>(null);
  const [lines, setLines] = useState<Row[]>([]);
  const [exchanges, setExchanges] = useState<Row[]>([]);
  const [payments, setPayments] = useState<Row[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // the invoice, its lines, exchanges and payments as the server has them now
  const reload = async (id: string) => {
    const enc = encodeURIComponent(id);
    const [inv, ls, ex, ps] = await Promise.all([
      api<Row>("GET", `/api/v1/invoices/${enc}`),
      api<{ data: Row[] }>("GET", `/api/v1/invoice_items${qs({ invoice_id: id, sort: "created_at", limit: "200" })}`),
      can(ctx.me, "finance.view") ? api<{ data: Row[] }>("GET", `/api/v1/old_gold_exchanges${qs({ invoice_id: id, sort: "created_at", limit: "100" })}`) : null,
      can(ctx.me, "payments.view") ? api<{ data: Row[] }>("GET", `/api/v1/payments${qs({ invoice_id: id, sort: "created_at", limit: "100" })}`) : null,
    ]);
    setInvoice(inv.data);
    setLines(ls.data.data);
    setExchanges(ex ? ex.data.data : []);
    setPayments(ps ? ps.data.data : []);
  };
  const step = (fn: () => Promise<void>) => async () => {
    setBusy(true);
    setError(null);
    try {
      await fn();
    } catch (e) {
      setError(message(e));
    } finally {
      setBusy(false);
    }
  };
  const refresh = () => invoice && reload(invoice.id).catch((e) => setError(message(e)));
  const start = step(async () => {
    const r = await api<Row>("POST", "/api/v1/invoices", { customer_id: customer!.id }, { "Idempotency-Key": crypto.randomUUID() });
    await reload(r.data.id);
  });
  const issue = step(async () => {
    await api("POST", `/api/v1/invoices/${encodeURIComponent(invoice!.id)}/issue`, {});
    await reload(invoice!.id);
  });
  const draft = invoice?.status === "draft";
  return (
    <section class="builder">
      <h1>Invoice builder</h1>
      {error && <p class="banner error" role="alert">{error}</p>}
      {!invoice && !customer && (can(ctx.me, "customers.view") ? <CustomerPicker onPick={setCustomer} />
        : <p class="banner warn">Choosing a customer needs the permission to see customers.</p>)}
      {!invoice && customer && (
        <section class="panel" aria-labelledby="start-title">
          <h2 id="start-title">Customer: {customer.name}</h2>
          <button type="button" class="primary" disabled={busy || !can(ctx.me, "finance.create")} onClick={start}>Start invoice</button>{" "}
          <button type="button" onClick={() => setCustomer(null)}>Choose another</button>
        </section>
      )}
      {invoice && (
        <>
          <header class="invoice-head" aria-label="Invoice">
            <h2>
              <a href={href({ kind: "record", table: "invoices", id: invoice.id })}>{invoice.invoice_number}</a>{" "}
              <span class={`status s-${invoice.status}`} data-status>{invoice.status.replace(/_/g, " ")}</span>
            </h2>
            <p class="muted">{customer?.name} · dated {invoice.invoice_date} · {invoice.currency}</p>
          </header>
          <Lines lines={lines} draft={draft && can(ctx.me, "finance.delete")} onChange={refresh} onError={setError} />
          <Totals invoice={invoice} />
          {draft && can(ctx.me, "finance.create") && <AddPiece ctx={ctx} invoice={invoice} onAdded={refresh} />}
          {draft && can(ctx.me, "finance.edit") && (
            <p><button type="button" class="primary" disabled={busy || !lines.length} onClick={issue}>Issue invoice</button></p>
          )}
          {(PAYABLE.has(invoice.status) || exchanges.length > 0) && can(ctx.me, "finance.create") && (
            <OldGold invoice={invoice} exchanges={exchanges} onDone={refresh} />
          )}
          {!draft && <Payments invoice={invoice} payments={payments} canPay={can(ctx.me, "payments.create")} onDone={refresh} />}
          <p><button type="button" onClick={() => { setInvoice(null); setCustomer(null); setLines([]); }}>New invoice</button></p>
        </>
      )}
    </section>
  );
}
