// The one pop-up component: every pop-up (confirm a cancellation, request one, edit the order) is
// openDialog({ title, intro, fields, submit, back }). It is a modal <dialog>: the page behind is
// inert, Tab and Shift+Tab go round the pop-up's own controls, Escape and the back button close it,
// and focus returns to the control that opened it (or, if a redraw replaced that control, to the one
// with the same id, else to the page's h1). Its form submits with Enter; `submit.run` does the work
// and closes the pop-up when it resolves, or leaves it open with a message when it answers one.

import { focusHeading, h } from "./dom.js";

let dialog = null;
let opener = null;

const FOCUSABLE = "a[href], button, input, select, textarea, [tabindex]:not([tabindex='-1'])";

function element() {
  if (dialog) return dialog;
  dialog = h("dialog", { id: "dialog", "aria-labelledby": "dialog-title", "aria-describedby": "dialog-intro" });
  dialog.addEventListener("keydown", trapTab);
  dialog.addEventListener("close", returnFocus);
  document.body.append(dialog);
  return dialog;
}

function focusable() {
  return [...element().querySelectorAll(FOCUSABLE)].filter(
    (control) => !control.disabled && control.getClientRects().length > 0,
  );
}

// A modal dialog makes the page inert, but Tab would still leave for the browser's own controls:
// from the last control it goes back to the first, and Shift+Tab from the first to the last.
function trapTab(event) {
  if (event.key !== "Tab") return;
  const controls = focusable();
  if (controls.length === 0) return;
  const first = controls[0];
  const last = controls[controls.length - 1];
  if (event.shiftKey && (document.activeElement === first || !dialog.contains(document.activeElement))) {
    event.preventDefault();
    last.focus();
  } else if (!event.shiftKey && document.activeElement === last) {
    event.preventDefault();
    first.focus();
  }
}

function returnFocus() {
  const { node, id } = opener || {};
  opener = null;
  // The close event comes a moment after the pop-up has gone: the browser may have given focus back
  // already, and the seller moved on (a Tab). Focus is taken back only from nowhere or the pop-up.
  const now = document.activeElement;
  if (now && now !== document.body && now !== node && !dialog.contains(now)) return;
  if (node && node.isConnected && node.getClientRects().length > 0) node.focus();
  else if (id && document.getElementById(id)) document.getElementById(id).focus();
  else focusHeading(document.getElementById("page"));
}

export function isOpen() {
  return Boolean(dialog && dialog.open);
}

export function closeDialog() {
  if (isOpen()) dialog.close();
}

// Shows `text` inside the open pop-up (a polite live region: read once).
export function sayInDialog(text) {
  const message = element().querySelector("#dialog-message");
  if (message) message.textContent = text;
}

/**
 * Opens the pop-up.
 * - title: its heading; intro: the sentence under it (also its accessible description);
 * - fields: the form's controls (each with its <label>);
 * - submit: { label, id, run }: the main button; `run()` may return a promise. The pop-up closes when
 *   it resolves, unless it resolves to a string, which is shown in the pop-up instead;
 * - back: the label of the button that closes it without doing anything.
 */
export function openDialog({ title, intro, fields = [], submit, back = "Back", onClose = null }) {
  const box = element();
  if (box.open) box.close();
  const focused = document.activeElement;
  opener = focused && focused !== document.body ? { node: focused, id: focused.id } : null;

  const send = h("button", { type: "submit", id: submit.id }, submit.label);
  const form = h(
    "form",
    {
      novalidate: true,
      onsubmit: async (event) => {
        event.preventDefault();
        if (send.getAttribute("aria-disabled") === "true") return; // already sending
        sayInDialog("");
        send.setAttribute("aria-disabled", "true");
        try {
          const said = await submit.run();
          if (typeof said === "string") sayInDialog(said);
          else closeDialog();
        } finally {
          send.removeAttribute("aria-disabled");
        }
      },
    },
    h("h2", { id: "dialog-title" }, title),
    h("p", { id: "dialog-intro" }, intro),
    fields,
    h("p", { id: "dialog-message", class: "dialog-message", role: "status" }),
    h(
      "div",
      { class: "actions" },
      h("button", { type: "button", class: "secondary", onclick: closeDialog }, back),
      send,
    ),
  );
  box.replaceChildren(form);
  if (onClose) box.addEventListener("close", onClose, { once: true });
  box.showModal();
  const [first] = focusable();
  if (first) first.focus();
}
