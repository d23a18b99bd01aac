// The registry as GET /api/v1/schema gives it, and what the console derives
// from it: which tables a user may see, grouped into the areas of the product.

export interface Column {
  name: string;
  type: string; // id text integer decimal boolean enum reference timestamp date json real
  nullable: boolean;
  default?: string;
  server_default?: string;
  server_set?: boolean;
  implicit?: boolean;
  sortable?: boolean;
  searchable?: boolean;
  references?: string;
  values?: string[];
  scale?: number;
  min?: number;
  max?: number;
  max_length?: number;
  doc?: string;
  secret?: boolean;
  immutable?: boolean;
  staff_only?: boolean;
  number_prefix?: string;
  generated_as?: string;
  stamp?: string;
}

export interface Transition {
  event: string;
  from: string;
  to: string;
  permission: string;
  fields?: string;
}

export interface Action {
  verb: string;
  permission: string;
  doc?: string;
  input: Column[];
}

export interface Table {
  name: string;
  database: string;
  doc: string;
  permission_module: string;
  permissions: { view: string; create: string; edit: string; delete: string };
  api: boolean;
  read_only: boolean;
  append_only: boolean;
  soft_delete: boolean;
  methods?: { collection: string[]; record: string[] };
  columns: Column[];
  actions?: Action[];
  state_machine?: { column: string; transitions: Transition[] };
}

export interface Schema {
  version: number;
  tables: Table[];
}

export interface Me {
  user: Record<string, any>;
  tenant: { id: string; slug: string; name: string; plan: string; timezone?: string };
  roles: string[];
  permissions: string[];
  session?: { id: string; expires_at?: string; token_expires_at?: string; mfa_enrolment_only?: boolean };
  copy_protection?: CopyProtection;
  features?: string[]; // the plan's features this tenant has
  modules_not_in_plan?: string[]; // permission modules whose feature the plan leaves out
}

// What the tenant's settings (and the user's roles) allow on screen (/auth/me).
export interface CopyProtection {
  enabled: boolean;
  disable_text_selection: boolean;
  disable_right_click: boolean;
  block_keyboard_shortcuts: boolean;
  blur_on_print_screen: boolean;
  can_copy_data: boolean;
  can_print: boolean;
}

// Areas of the product by permission module; a module not listed lands in Settings.
export const AREAS: [string, string[]][] = [
  ["Support", ["tickets", "categories", "documents", "services"]],
  ["Orders and fulfilment", ["orders", "channels", "couriers", "ndr"]],
  ["Inventory and purchasing", ["inventory", "purchasing"]],
  ["Air cargo", ["shipments", "flights"]],
  ["Shop and invoices", ["payments", "images"]],
  ["CRM", ["customers", "crm"]],
  ["Files", ["files"]],
  ["Finance", ["finance"]],
  ["Analytics", ["analytics", "reports"]],
  ["Security", ["security", "sessions", "audit", "team"]],
  ["Settings", ["settings", "notifications", "automation", "jobs"]],
];

export function can(me: Me, perm: string): boolean {
  return me.permissions.includes(perm);
}

// Whether the tenant's plan includes a permission module (a route of one it
// leaves out answers 403 feature_disabled, so the console does not offer it).
export function inPlan(me: Me, module: string): boolean {
  return !(me.modules_not_in_plan || []).includes(module);
}

export function visibleTables(schema: Schema, me: Me): Table[] {
  return schema.tables.filter(
    (t) => t.api && t.database === "tenant" && can(me, t.permissions.view) && inPlan(me, t.permission_module),
  );
}

export function byArea(tables: Table[]): [string, Table[]][] {
  const out: [string, Table[]][] = [];
  const placed = new Set<string>();
  for (const [area, modules] of AREAS) {
    const ts = tables.filter((t) => modules.includes(t.permission_module));
    ts.forEach((t) => placed.add(t.name));
    if (ts.length) out.push([area, ts]);
  }
  const rest = tables.filter((t) => !placed.has(t.name));
  if (rest.length) {
    const settings = out.find(([a]) => a === "Settings");
    if (settings) settings[1].push(...rest);
    else out.push(["Settings", rest]);
  }
  return out;
}

export function title(name: string): string {
  const s = name.replace(/_/g, " ");
  return s.charAt(0).toUpperCase() + s.slice(1);
}

// "tickets" -> "ticket", "categories" -> "category", for buttons and headings.
export function singular(name: string): string {
  const s = title(name).toLowerCase();
  if (s.endsWith("ies")) return s.slice(0, -3) + "y";
  if (s.endsWith("ses") || s.endsWith("xes")) return s.slice(0, -2);
  return s.endsWith("s") ? s.slice(0, -1) : s;
}

// A column the client may send on create: not server-set, not implicit.
export function writable(c: Column): boolean {
  return !c.server_set && !c.implicit && !c.generated_as;
}

export function required(c: Column): boolean {
  return !c.nullable && c.default === undefined && c.server_default === undefined && !c.number_prefix && !c.stamp;
}

// The column that names a row for people: the first that exists of these.
const LABELS = ["name", "title", "company_name", "full_name", "email", "code", "subject"];
export function labelColumn(t: Table): string | null {
  for (const l of LABELS) if (t.columns.some((c) => c.name === l)) return l;
  const num = t.columns.find((c) => c.number_prefix);
  return num ? num.name : null;
}

export function rowLabel(t: Table | undefined, row: Record<string, any>): string {
  if (!t) return String(row.id);
  const num = t.columns.find((c) => c.number_prefix);
  const l = LABELS.find((n) => n !== num?.name && row[n]);
  const parts = [num && row[num.name], l && row[l]].filter(Boolean);
  return parts.length ? parts.join(" · ") : String(row.id).slice(-12);
}
