// The tenant's copy protection as /auth/me gives it for this user (the
// tenant's settings, a held role's overrides): what the console must not let
// the page do. A deterrent, not a guarantee: what the browser shows can
// always be photographed; the server decides what data is sent at all.
import { CopyProtection } from "./schema";

// Shortcuts that copy, save, print, select all or show the source.
const BLOCKED_KEYS = new Set(["c", "x", "s", "p", "a", "u"]);

function inField(t: EventTarget | null): boolean {
  return t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement;
}

// Applies cp to the document; the returned function undoes it (sign-out).
export function protect(given: CopyProtection | undefined): () => void {
  const root = document.documentElement;
  // the tenant turned it off: nothing at all, whatever the role flags say
  const cp = given && given.enabled ? given : undefined;
  const classes: string[] = [];
  const undo: (() => void)[] = [];
  const on = <K extends keyof WindowEventMap>(type: K, fn: (e: WindowEventMap[K]) => void) => {
    addEventListener(type, fn, true);
    undo.push(() => removeEventListener(type, fn, true));
  };
  if (cp && cp.disable_text_selection) classes.push("cp-no-select");
  if (cp && !cp.can_print) classes.push("cp-no-print");
  if (cp && cp.disable_right_click)
    on("contextmenu", (e) => {
      if (!inField(e.target)) e.preventDefault();
    });
  if (cp && !cp.can_copy_data) {
    // the data on screen, form fields included (a record page shows its values in them)
    on("copy", (e) => e.preventDefault());
    on("cut", (e) => e.preventDefault());
  }
  if (cp && (cp.block_keyboard_shortcuts || !cp.can_print))
    on("keydown", (e) => {
      if (!(e.ctrlKey || e.metaKey)) return;
      const k = e.key.toLowerCase();
      const blocked = cp.block_keyboard_shortcuts ? BLOCKED_KEYS.has(k) && !(k === "a" && inField(e.target)) : k === "p";
      if (blocked) e.preventDefault();
    });
  if (cp && cp.blur_on_print_screen) {
    // the page blurs while the window is not in front (a capture tool took it) and on the
    // Print Screen key, until the user comes back to it
    const blur = () => root.classList.add("cp-blurred");
    const clear = () => root.classList.remove("cp-blurred");
    on("blur", blur);
    on("focus", clear);
    on("keyup", (e) => {
      if (e.key === "PrintScreen") blur();
    });
    on("pointerdown", clear);
    undo.push(clear);
  }
  root.classList.add(...classes);
  root.dataset.copyProtection = classes.length || undo.length ? "on" : "off";
  return () => {
    root.classList.remove(...classes);
    undo.forEach((f) => f());
    delete root.dataset.copyProtection;
  };
}
