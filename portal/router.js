// The hash router: #/<path>?<query> → a page, or a string: a redirect to that address. A page is
// `async (container, parameters) => leave`: it fills a new, detached container (so that a slow page never
// overwrites a newer one) and may return a function to call when the seller leaves it. After a route
// change focus moves to the new page's h1, or to the control `navigate` was asked to keep it on (the
// list's filter button).

import { ApiProblem } from "./api.js";
import { closeDialog } from "./dialog.js";
import { fill, focusHeading, h } from "./dom.js";
import { clearMessages, wordsOf } from "./messages.js";

let resolve = null; // (path, parameters) => page function
let leave = null;
let generation = 0;
let focusOn = null;

export function startRouter(resolver) {
  resolve = resolver;
  window.addEventListener("hashchange", route);
  route();
}

// Goes to `address` (a "#/…" hash); { focus: id } keeps focus on that control instead of the h1.
export function navigate(address, { focus = null } = {}) {
  focusOn = focus;
  if (location.hash === address) route();
  else location.hash = address;
}

async function route() {
  const current = ++generation;
  if (leave) leave();
  leave = null;
  closeDialog();
  const main = document.getElementById("main");
  const root = document.getElementById("page");
  const [path, query] = (location.hash.slice(1) || "/").split("?");
  const parameters = new URLSearchParams(query || "");
  const page = resolve(path, parameters);
  if (typeof page === "string") {
    location.replace(page); // a redirect leaves no entry in the browser's history
    return;
  }
  const container = h("div", { class: "page" });
  let left = null;
  main.setAttribute("aria-busy", "true");
  try {
    left = await page(container, parameters);
  } catch (error) {
    if (!(error instanceof ApiProblem)) console.error(error);
    const { title, detail } = wordsOf(error);
    document.title = `${title} · Seller portal`;
    fill(
      container,
      h("h1", {}, title),
      h("p", {}, detail),
      h("p", {}, error.status === 401 ? h("a", { href: "#/sign-in" }, "Sign in again") : h("a", { href: "#/orders" }, "Back to your orders")),
    );
  }
  if (current !== generation) {
    if (typeof left === "function") left(); // a newer route won: this page never showed
    return;
  }
  leave = typeof left === "function" ? left : null;
  clearMessages();
  fill(root, container);
  main.removeAttribute("aria-busy");
  const keep = focusOn && document.getElementById(focusOn);
  focusOn = null;
  if (keep) keep.focus();
  else focusHeading(root);
}
