// Workflow screens: the pages where a table's list is not enough (an inbox,
// a workbench, a builder, a dashboard). Each is registered here once with the
// area it belongs to and the permission that shows it; the navigation lists
// the ones this user may open under their area, and #/w/<name> opens one.
import { JSX } from "preact";
import type { Ctx } from "./shell";
import { can, inPlan, Me } from "./schema";
import { ExportsScreen } from "./exports";
import { InboxScreen } from "./inbox";
import { ReceivingScreen } from "./receiving";
import { StockScreen } from "./stock";
import { InvoiceBuilder } from "./invoice";
import { NdrWorkbench } from "./ndr";
import { Dashboards } from "./dashboards";

export interface Screen {
  name: string; // the address: #/w/<name>
  title: string;
  area: string; // an area of schema.ts's AREAS
  perm: string; // shown to users who hold it
  render: (ctx: Ctx) => JSX.Element;
}

// Append new screens to this list (one entry each, in the order the navigation shows them).
export const SCREENS: Screen[] = [
  { name: "invoice-builder", title: "Invoice builder", area: "Shop and invoices", perm: "finance.create",
    render: (ctx) => <InvoiceBuilder ctx={ctx} /> },
  { name: "ndr-workbench", title: "NDR workbench", area: "Orders and fulfilment", perm: "ndr.view",
    render: (ctx) => <NdrWorkbench ctx={ctx} /> },
  { name: "dashboards", title: "Dashboards", area: "Analytics", perm: "analytics.view",
    render: (ctx) => <Dashboards ctx={ctx} /> },
  { name: "inbox", title: "Ticket inbox", area: "Support", perm: "tickets.view", render: (ctx) => <InboxScreen ctx={ctx} /> },
  { name: "stock", title: "Stock by warehouse", area: "Inventory and purchasing", perm: "inventory.view",
    render: (ctx) => <StockScreen ctx={ctx} /> },
  { name: "receiving", title: "Receive purchase orders", area: "Inventory and purchasing", perm: "purchasing.view",
    render: (ctx) => <ReceivingScreen ctx={ctx} /> },
  { name: "exports", title: "Exports", area: "Security", perm: "security.view", render: (ctx) => <ExportsScreen ctx={ctx} /> },
];

export function visibleScreens(me: Me): Screen[] {
  return SCREENS.filter((s) => can(me, s.perm) && inPlan(me, s.perm.split(".")[0]));
}
