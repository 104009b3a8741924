// The order page's three pop-ups, all built on dialog.js: confirm a cancellation (CANCEL), request one
// from the warehouse (REQUEST), and edit the order (EDIT). Each sends one command; its answer redraws
// the page and says the outcome once, and a refusal is explained in words and the order read again.
// The edit sends only the fields the seller changed (history's `changed` names exactly those).

import { ApiProblem, request } from "../api.js";
import { closeDialog, openDialog } from "../dialog.js";
import { h } from "../dom.js";
import { sayDone, sayProblem } from "../messages.js";
import { COURIER_SERVICES, SELLER_REASONS, courierName, splitParts, statusName } from "../words.js";

const POSTCODE = /^[A-Za-z0-9]([A-Za-z0-9 -]*[A-Za-z0-9])?$/;

// Sends a command; the pop-up closes first (so that the page is no longer inert and its live regions
// are read), then the page shows the answer, or the refusal and the order as it is now.
async function command(view, action, send, success, unchanged = success) {
  let answer;
  try {
    answer = await send();
  } catch (error) {
    closeDialog();
    if (!(error instanceof ApiProblem)) console.error(error);
    try {
      await view.reload();
    } catch (again) {
      // The refusal is still said; the page keeps what it showed.
    }
    sayProblem(error, action);
    return;
  }
  closeDialog();
  const changed = !view.order || answer.body.version !== view.order.version;
  view.show(answer.body);
  sayDone(changed ? success : unchanged);
}

function field(id, label, control, hint = null) {
  if (hint) control.setAttribute("aria-describedby", `${id}-hint`);
  return [
    h("label", { for: id }, label),
    hint ? h("p", { class: "hint", id: `${id}-hint` }, hint) : null,
    control,
  ];
}

export function confirmCancel(order, view) {
  openDialog({
    title: "Cancel this order?",
    intro: `Order ${order.reference} has not been sent to the warehouse yet, so it is cancelled at once.`,
    back: "Keep the order",
    submit: {
      label: "Cancel the order",
      id: "confirm-cancel",
      run: () =>
        command(view, "cancel", () => request("POST", `/orders/${order.order_id}/cancel`), "Your order has been successfully cancelled."),
    },
  });
}

export function requestCancellation(order, view) {
  const reason = h(
    "select",
    { id: "reason" },
    Object.entries(SELLER_REASONS).map(([value, words]) => h("option", { value }, words)),
  );
  const note = h("textarea", { id: "note", rows: "4", maxlength: "500" });
  openDialog({
    title: "Request a cancellation",
    intro: `Order ${order.reference} is already in the warehouse (${statusName(order.status).toLowerCase()}). A request will be raised with the warehouse team to see if it can still be cancelled.`,
    fields: [
      field("reason", "Reason", reason),
      field("note", "Note for the warehouse (optional)", note, "Up to 500 characters."),
    ],
    submit: {
      label: "Send the request",
      id: "send-request",
      run: () =>
        command(
          view,
          "request",
          () =>
            request("POST", `/orders/${order.order_id}/cancellation-request`, {
              body: { reason_code: reason.value, ...(note.value.trim() ? { note: note.value } : {}) },
            }),
          "A request has been raised with the warehouse team; you will be notified of the outcome.",
        ),
    },
  });
}

// The courier services to choose from: the catalogue's, and the order's own when it is not among them.
function courierChoices(current) {
  const codes = Object.keys(COURIER_SERVICES);
  if (!codes.includes(current)) codes.unshift(current);
  return codes.map((code) => h("option", { value: code, selected: code === current }, courierName(code)));
}

const RECIPIENT_FIELDS = [
  // [the recipient's field, label, required, maxlength]
  ["name", "Recipient's name", true, 200],
  ["address_line1", "Address line 1", true, 200],
  ["address_line2", "Address line 2 (optional)", false, 200],
  ["city", "Town or city", true, 200],
  ["postcode", "Postcode", true, 16],
];

export function editOrder(order, view) {
  const courier = h("select", { id: "courier-service" }, courierChoices(order.courier_service));
  const inputs = Object.fromEntries(
    RECIPIENT_FIELDS.map(([name, , required, most]) => [
      name,
      h("input", {
        id: `recipient-${name.replaceAll("_", "-")}`,
        value: order.recipient[name] || "",
        maxlength: String(most),
        required,
        autocomplete: "off",
      }),
    ]),
  );
  openDialog({
    title: "Edit the order",
    intro: `Change how order ${order.reference} is sent. Only what you change is saved.`,
    fields: [
      field("courier-service", "Courier service", courier),
      RECIPIENT_FIELDS.map(([name, label]) => field(inputs[name].id, label, inputs[name])),
    ],
    submit: {
      label: "Save",
      id: "save-edit",
      run: () => {
        const problem = invalidField(inputs);
        if (problem) return problem;
        const changes = changesOf(order, courier.value, inputs);
        if (Object.keys(changes).length === 0) return "You have not changed anything, so there is nothing to save.";
        return command(
          view,
          "edit",
          () =>
            request("PATCH", `/orders/${order.order_id}`, {
              body: changes,
              // The version this page shows: if the order changed meanwhile, the API answers 412.
              headers: { "If-Match": `"${order.version}"` },
            }),
          "Your changes have been saved.",
          "The order already said that: nothing needed saving.",
        );
      },
    },
  });
}

// What the seller must fix before anything is sent, said in the pop-up; the field is marked and focused.
function invalidField(inputs) {
  for (const input of Object.values(inputs)) input.removeAttribute("aria-invalid");
  for (const [name, label, required] of RECIPIENT_FIELDS) {
    const input = inputs[name];
    const value = input.value.trim();
    let problem = null;
    if (required && !value) problem = `${label}: enter it, it cannot be left empty.`;
    else if (name === "postcode" && !POSTCODE.test(value)) problem = "Postcode: use letters, digits, spaces and hyphens only.";
    if (problem) {
      input.setAttribute("aria-invalid", "true");
      input.focus();
      return problem;
    }
  }
  return null;
}

// The PATCH body: only the fields whose value differs from the order's. The API replaces the recipient
// as a whole, so a change to any of its lines sends it whole (the lines not changed as they were).
function changesOf(order, courierService, inputs) {
  const changes = {};
  if (courierService !== order.courier_service) changes.courier_service = courierService;
  const recipient = { ...order.recipient };
  let recipientChanged = false;
  for (const [name] of RECIPIENT_FIELDS) {
    const before = order.recipient[name] || "";
    if (inputs[name].value === before || inputs[name].value.trim() === before) continue;
    recipientChanged = true;
    const value = inputs[name].value.trim();
    if (value) recipient[name] = value;
    else delete recipient[name]; // only the optional second line can be emptied
  }
  if (recipientChanged) {
    if (recipient.address_line2 === null) delete recipient.address_line2;
    changes.recipient = recipient;
  }
  return changes;
}

// The Split order pop-up: what ships now as a new order, and what waits for stock on this one.
export function splitOrder(order, view) {
  const [ships, waits] = splitParts(order);
  const lines = (parts) => h("ul", { class: "items" }, parts.map((line) => h("li", {}, `${line.quantity} × ${line.sku}`)));
  openDialog({
    title: "Split the order",
    intro: `What is in stock is sent now as a new order (${order.reference}-${(order.split_into || []).length + 2}); the rest of ${order.reference} waits for stock.`,
    fields: [h("h3", {}, "Sent now"), lines(ships), h("h3", {}, "Waits for stock"), lines(waits)],
    back: "Keep it whole",
    submit: {
      label: "Split the order",
      id: "confirm-split",
      run: () =>
        command(
          view,
          "split",
          async () => {
            const answer = await request("POST", `/orders/${order.order_id}/split`, { headers: { "If-Match": `"${order.version}"` } });
            return { ...answer, body: answer.body.backorder };
          },
          "The order has been split: what was in stock is a new order, on its way to the warehouse.",
        ),
    },
  });
}
