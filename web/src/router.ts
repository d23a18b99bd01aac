// Hash routes (#/platform, #/account, #/w/<workflow screen>, #/t/customers, #/t/customers/new, #/t/customers/<id>): the
// server serves one page at "/", and every console address stays a link
// that survives a reload without server-side fallbacks.
import { useEffect, useState } from "preact/hooks";

export type Route =
  | { kind: "home" }
  | { kind: "account" }
  | { kind: "platform"; page: string }
  | { kind: "screen"; name: string }
  | { kind: "list"; table: string }
  | { kind: "new"; table: string }
  | { kind: "record"; table: string; id: string };

export function parse(hash: string): Route {
  const parts = hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] === "account") return { kind: "account" };
  if (parts[0] === "platform") return { kind: "platform", page: parts[1] || "tenants" };
  if (parts[0] === "w" && parts[1]) return { kind: "screen", name: parts[1] };
  if (parts[0] === "t" && parts[1]) {
    if (parts[2] === "new") return { kind: "new", table: parts[1] };
    if (parts[2]) return { kind: "record", table: parts[1], id: parts[2] };
    return { kind: "list", table: parts[1] };
  }
  return { kind: "home" };
}

export function href(r: Route): string {
  switch (r.kind) {
    case "home":
      return "#/";
    case "account":
      return "#/account";
    case "platform":
      return r.page === "tenants" ? "#/platform" : `#/platform/${encodeURIComponent(r.page)}`;
    case "screen":
      return `#/w/${encodeURIComponent(r.name)}`;
    case "list":
      return `#/t/${encodeURIComponent(r.table)}`;
    case "new":
      return `#/t/${encodeURIComponent(r.table)}/new`;
    case "record":
      return `#/t/${encodeURIComponent(r.table)}/${encodeURIComponent(r.id)}`;
  }
}

export function go(r: Route) {
  location.hash = href(r);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(parse(location.hash));
  useEffect(() => {
    const on = () => setRoute(parse(location.hash));
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return route;
}
