// Workflow screens: the pages where a table's list is not enough (an inbox,
// a workbench, a builder, a dashboard). Each is registered here once with the
// area it belongs to and the permission that shows it; the navigation lists
// the ones this user may open under their area, and #/w/<name> opens one.
import { JSX } from "preact";
import type { Ctx } from "./shell";
import { can, Me } from "./schema";
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
];

export function visibleScreens(me: Me): Screen[] {
  return SCREENS.filter((s) => can(me, s.perm));
}
