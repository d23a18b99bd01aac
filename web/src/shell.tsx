// The signed-in frame: the areas and tables this user may see, and the page
// the address names.
import { useEffect, useMemo, useRef } from "preact/hooks";
import { AccountPage } from "./account";
import { setTimeZone } from "./fields";
import { ListPage } from "./list";
import { protect } from "./protect";
import { CreatePage, RecordPage } from "./record";
import { Screen, visibleScreens } from "./screens";
import { href, useRoute } from "./router";
import { byArea, Me, Schema, Table, title, visibleTables } from "./schema";

export interface Ctx {
  me: Me;
  schema: Schema;
  tables: Map<string, Table>; // visible tables by name
}

export function Shell(props: { me: Me; schema: Schema; onSignOut: () => void }) {
  const { me, schema } = props;
  // times are shown in the tenant's zone: set before any page renders one
  useMemo(() => setTimeZone(me.tenant.timezone), [me]);
  const visible = useMemo(() => visibleTables(schema, me), [schema, me]);
  const areas = useMemo(() => byArea(visible), [visible]);
  const screens = useMemo(() => visibleScreens(me), [me]);
  // every area with a table or a workflow screen this user may open, in AREAS order
  const areaNames = useMemo(() => {
    const names = areas.map(([a]) => a);
    for (const s of screens) if (!names.includes(s.area)) names.push(s.area);
    return names;
  }, [areas, screens]);
  const ctx: Ctx = useMemo(() => ({ me, schema, tables: new Map(visible.map((t) => [t.name, t])) }), [visible]);
  const route = useRoute();
  // the tenant's copy protection, for as long as this user is signed in
  useEffect(() => protect(me.copy_protection), [me]);
  const mainRef = useRef<HTMLElement>(null);
  const current = route.kind === "list" || route.kind === "new" || route.kind === "record" ? route.table : null;
  const nav = useRef<HTMLDetailsElement>(null);
  useEffect(() => {
    // a new page: focus moves to it (keyboard and screen-reader users), the phone menu closes
    mainRef.current?.focus();
    if (nav.current && matchMedia("(max-width: 760px)").matches) nav.current.open = false;
  }, [route.kind, current, route.kind === "record" ? route.id : ""]);
  let page;
  const t = current ? ctx.tables.get(current) : undefined;
  if (route.kind === "home") page = <Home ctx={ctx} areas={areas} />;
  else if (route.kind === "account") page = <AccountPage me={me} />;
  else if (route.kind === "screen") {
    const sc = screens.find((x) => x.name === route.name);
    page = sc ? sc.render(ctx) : <p class="banner error" role="alert">There is no screen “{route.name}” you may open.</p>;
  }
  else if (!t) page = <p class="banner error" role="alert">There is no table “{current}” you may see.</p>;
  else if (route.kind === "list") page = <ListPage key={t.name} ctx={ctx} table={t} />;
  else if (route.kind === "new") page = <CreatePage key={t.name} ctx={ctx} table={t} />;
  else if (route.kind === "record") page = <RecordPage key={`${t.name}/${route.id}`} ctx={ctx} table={t} id={route.id} />;
  return (
    <div class="shell">
      <a class="skip" href="#main">Skip to content</a>
      <header class="top">
        <a class="brand" href="#/">opsbase</a>
        <span class="who">
          <span class="tenant">{me.tenant.name || me.tenant.slug}</span>
          <span class="user">{me.user.email}</span>
        </span>
        <a class="button" href={href({ kind: "account" })}>My account</a>
        <button type="button" onClick={props.onSignOut}>Sign out</button>
      </header>
      <details class="nav" open ref={nav}>
        <summary>Menu</summary>
        <nav aria-label="Areas">
          {areaNames.map((area) => (
            <section key={area}>
              <h2>{area}</h2>
              <ul>
                {screens
                  .filter((sc: Screen) => sc.area === area)
                  .map((sc) => (
                    <li key={`w/${sc.name}`}>
                      <a
                        href={href({ kind: "screen", name: sc.name })}
                        aria-current={route.kind === "screen" && route.name === sc.name ? "page" : undefined}
                      >
                        {sc.title}
                      </a>
                    </li>
                  ))}
                {(areas.find(([a]) => a === area)?.[1] || []).map((x) => (
                  <li key={x.name}>
                    <a href={href({ kind: "list", table: x.name })} aria-current={x.name === current ? "page" : undefined}>
                      {title(x.name)}
                    </a>
                  </li>
                ))}
              </ul>
            </section>
          ))}
        </nav>
      </details>
      <main id="main" tabIndex={-1} ref={mainRef}>
        {page}
      </main>
    </div>
  );
}

function Home(props: { ctx: Ctx; areas: [string, Table[]][] }) {
  const { me } = props.ctx;
  return (
    <section>
      <h1>Welcome, {me.user.name || me.user.first_name || me.user.email}</h1>
      <p class="muted">
        {me.tenant.name} · plan {me.tenant.plan} · {me.roles.join(", ")} · times in {me.tenant.timezone || "your browser's zone"}
      </p>
      <div class="cards">
        {props.areas.map(([area, ts]) => (
          <div class="card" key={area}>
            <h2>{area}</h2>
            <p>
              {ts.slice(0, 6).map((t, i) => (
                <span key={t.name}>
                  {i > 0 && ", "}
                  <a href={href({ kind: "list", table: t.name })}>{title(t.name)}</a>
                </span>
              ))}
              {ts.length > 6 && ` and ${ts.length - 6} more`}
            </p>
          </div>
        ))}
      </div>
    </section>
  );
}
