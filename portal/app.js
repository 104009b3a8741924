// The reference seller portal: choose a seller, list orders, open one, and the article's
// Cancel Order button, driven only by the order's `cancellation.option` (and Edit by `editing.option`).

import { ApiProblem, loadConfig, request, seller, signIn, signOut, token } from "./api.js";
import { EVENTS, SELLER_REASONS, STATUS, UNAVAILABLE, who } from "./words.js";

const main = document.getElementById("main");
const dialog = document.getElementById("dialog");
let feedTimer = null;

// -- a few DOM helpers: text is always set as text, never parsed as HTML ------------------------

function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

function show(...children) {
  main.replaceChildren(...children.filter((child) => child !== null && child !== undefined));
}

function badge(status) {
  return h("span", { class: `badge ${status}` }, STATUS[status] || status);
}

function when(iso) {
  return iso ? new Date(iso).toLocaleString("en-GB", { timeZone: "UTC" }) + " UTC" : "—";
}

function problemMessage(error) {
  if (error instanceof ApiProblem) {
    return h("div", { class: "message problem", role: "alert" }, h("strong", {}, error.title), ": ", error.detail);
  }
  return h("div", { class: "message problem", role: "alert" }, "Something went wrong: ", String(error));
}

// -- pages ------------------------------------------------------------------------------------------

async function route() {
  const [path, query] = (location.hash.slice(1) || "/").split("?");
  const parameters = new URLSearchParams(query || "");
  document.getElementById("who").textContent = seller() ? `Signed in as ${seller()}` : "";
  try {
    if (!token() || path === "/") return chooseSeller();
    startFeed();
    if (path === "/orders") return await ordersPage(parameters);
    const order = path.match(/^\/orders\/(ord_[a-z2-7]{26})$/);
    if (order) return await orderPage(order[1]);
    show(h("h1", {}, "Not found"), h("p", {}, h("a", { href: "#/orders" }, "Back to your orders")));
  } catch (error) {
    show(problemMessage(error), h("p", {}, h("a", { href: "#/orders" }, "Back to your orders")));
  }
}

function chooseSeller() {
  stopFeed();
  signOut();
  document.getElementById("who").textContent = "";
  const choose = async (sellerId) => {
    try {
      await signIn(sellerId);
      location.hash = "#/orders";
    } catch (error) {
      show(problemMessage(error));
    }
  };
  show(
    h("h1", {}, "Choose a demo seller"),
    h("p", { class: "muted" }, "The local stack signs you in with its own user pool."),
    h(
      "div",
      { class: "sellers" },
      ["S-1", "S-2"].map((id) => h("button", { type: "button", onclick: () => choose(id) }, `Sign in as ${id}`)),
    ),
  );
}

async function ordersPage(parameters) {
  const status = parameters.get("status") || "";
  const query = new URLSearchParams({ limit: "10" });
  if (status) query.set("status", status);
  if (parameters.get("next_token")) query.set("next_token", parameters.get("next_token"));
  const { body } = await request("GET", `/orders?${query}`);
  const filter = h(
    "select",
    {
      id: "status-filter",
      onchange: (event) => {
        location.hash = event.target.value ? `#/orders?status=${event.target.value}` : "#/orders";
      },
    },
    h("option", { value: "" }, "All statuses"),
    Object.entries(STATUS).map(([value, words]) => h("option", { value, selected: value === status }, words)),
  );
  const rows = body.orders.map((order) =>
    h(
      "tr",
      {},
      h("td", {}, h("a", { href: `#/orders/${order.order_id}` }, order.reference)),
      h("td", {}, badge(order.status)),
      h("td", {}, order.recipient.name),
      h("td", {}, when(order.created_at)),
    ),
  );
  const next = body.next_token
    ? h(
        "a",
        { href: `#/orders?${new URLSearchParams({ ...(status ? { status } : {}), next_token: body.next_token })}`, id: "next-page" },
        "Next page",
      )
    : null;
  show(
    h("h1", {}, "Your orders"),
    h("label", { for: "status-filter" }, "Status"),
    filter,
    rows.length
      ? h(
          "table",
          {},
          h("thead", {}, h("tr", {}, h("th", {}, "Reference"), h("th", {}, "Status"), h("th", {}, "Recipient"), h("th", {}, "Created"))),
          h("tbody", {}, rows),
        )
      : h("p", {}, "No orders here."),
    h("p", {}, next),
  );
}

async function orderPage(orderId, message = null) {
  const { body: order } = await request("GET", `/orders/${orderId}`);
  renderOrder(order, message);
}

function renderOrder(order, message = null) {
  const { cancellation, editing } = order;
  const cancel = h(
    "button",
    {
      type: "button",
      id: "cancel-order",
      "aria-disabled": cancellation.option === "NONE" ? "true" : "false",
      "aria-describedby": cancellation.option === "NONE" ? "cancel-reason" : null,
      onclick: () => {
        if (cancellation.option === "CANCEL") confirmCancel(order);
        else if (cancellation.option === "REQUEST") requestCancellation(order);
      },
    },
    "Cancel Order",
  );
  const edit = h(
    "button",
    {
      type: "button",
      id: "edit-order",
      class: "secondary",
      "aria-disabled": editing.option === "NONE" ? "true" : "false",
      onclick: () => editing.option === "EDIT" && editOrder(order),
    },
    "Edit",
  );
  const reasons = [
    cancellation.option === "NONE" && cancellation.unavailable_reason
      ? h("p", { class: "reason", id: "cancel-reason" }, UNAVAILABLE[cancellation.unavailable_reason] || cancellation.unavailable_reason)
      : null,
  ];
  const pending = cancellation.request;
  show(
    message,
    h(
      "div",
      { class: "order-head" },
      h("div", {}, h("h1", {}, `Order ${order.reference}`), badge(order.status)),
      h("div", {}, h("div", { class: "buttons" }, edit, cancel), reasons),
    ),
    h(
      "dl",
      { class: "details" },
      h("dt", {}, "Order id"),
      h("dd", {}, order.order_id),
      h("dt", {}, "Recipient"),
      h("dd", { id: "recipient" }, [order.recipient.name, order.recipient.address_line1, order.recipient.address_line2, order.recipient.city, order.recipient.postcode, order.recipient.country].filter(Boolean).join(", ")),
      h("dt", {}, "Items"),
      h("dd", {}, order.items.map((item) => `${item.quantity} × ${item.sku}`).join(", ")),
      h("dt", {}, "Courier"),
      h("dd", { id: "courier" }, order.courier_service),
      h("dt", {}, "Tracking number"),
      h("dd", {}, order.tracking_number || "—"),
      pending ? h("dt", {}, "Cancellation request") : null,
      pending
        ? h(
            "dd",
            { id: "request" },
            `${pending.status}${pending.escalated_at ? " (escalated: the warehouse is past its time)" : ""}`,
            pending.decision_reason_code ? ` — ${pending.decision_reason_code}` : "",
          )
        : null,
    ),
    h("h2", {}, "History"),
    h(
      "ol",
      { class: "timeline", id: "history" },
      order.history.map((entry) =>
        h("li", {}, h("strong", {}, EVENTS[entry.event] || entry.event), ` by ${who(entry.by)}, ${when(entry.at)}`, entry.to_status !== entry.from_status && entry.from_status ? ` (${STATUS[entry.to_status] || entry.to_status})` : ""),
      ),
    ),
    h("p", {}, h("a", { href: "#/orders" }, "Back to your orders")),
  );
}

// -- the pop-ups ------------------------------------------------------------------------------------

function openDialog(title, body, actions) {
  const opener = document.activeElement;
  document.getElementById("dialog-title").textContent = title;
  document.getElementById("dialog-body").replaceChildren(...body);
  document.getElementById("dialog-actions").replaceChildren(...actions);
  dialog.addEventListener("close", () => opener && opener.focus && opener.focus(), { once: true });
  dialog.showModal(); // focus moves into the pop-up; Escape closes it
  const first = dialog.querySelector("select, textarea, input, button");
  if (first) first.focus();
}

function closeDialog() {
  if (dialog.open) dialog.close();
}

async function afterCommand(order, send, success) {
  closeDialog();
  try {
    const { body } = await send();
    renderOrder(body, h("div", { class: "message ok", role: "status" }, success));
  } catch (error) {
    // A refusal (409, 412, 4xx) is explained; the order is read again, so the buttons redraw.
    const message = problemMessage(error);
    try {
      await orderPage(order.order_id, message);
    } catch (again) {
      show(message);
    }
  }
  document.getElementById("main").focus();
}

function confirmCancel(order) {
  openDialog(
    "Cancel this order?",
    [h("p", {}, `Order ${order.reference} has not been sent to the warehouse yet, so it is cancelled at once.`)],
    [
      h("button", { type: "button", class: "secondary", onclick: closeDialog }, "Keep the order"),
      h(
        "button",
        {
          type: "button",
          id: "confirm-cancel",
          onclick: () =>
            afterCommand(order, () => request("POST", `/orders/${order.order_id}/cancel`), "Your order has been successfully cancelled."),
        },
        "Cancel the order",
      ),
    ],
  );
}

function requestCancellation(order) {
  const reason = h(
    "select",
    { id: "reason" },
    Object.entries(SELLER_REASONS).map(([value, words]) => h("option", { value }, words)),
  );
  const note = h("textarea", { id: "note", rows: "3", maxlength: "500" });
  openDialog(
    "Request a cancellation",
    [
      h("p", {}, `Order ${order.reference} is already in the warehouse (${STATUS[order.status]}). A request will be raised with the warehouse team to see if it can still be cancelled.`),
      h("label", { for: "reason" }, "Reason"),
      reason,
      h("label", { for: "note" }, "Note for the warehouse (optional)"),
      note,
    ],
    [
      h("button", { type: "button", class: "secondary", onclick: closeDialog }, "Back"),
      h(
        "button",
        {
          type: "button",
          id: "send-request",
          onclick: () =>
            afterCommand(
              order,
              () =>
                request("POST", `/orders/${order.order_id}/cancellation-request`, {
                  body: { reason_code: reason.value, ...(note.value.trim() ? { note: note.value } : {}) },
                }),
              "A request has been raised with the warehouse team; you will be notified of the outcome.",
            ),
        },
        "Send the request",
      ),
    ],
  );
}

function editOrder(order) {
  const courier = h("input", { id: "courier-service", value: order.courier_service, maxlength: "64" });
  const name = h("input", { id: "recipient-name", value: order.recipient.name, maxlength: "200" });
  openDialog(
    "Edit the order",
    [h("label", { for: "courier-service" }, "Courier service"), courier, h("label", { for: "recipient-name" }, "Recipient's name"), name],
    [
      h("button", { type: "button", class: "secondary", onclick: closeDialog }, "Back"),
      h(
        "button",
        {
          type: "button",
          id: "save-edit",
          onclick: () =>
            afterCommand(
              order,
              () =>
                request("PATCH", `/orders/${order.order_id}`, {
                  body: { courier_service: courier.value, recipient: { ...order.recipient, name: name.value } },
                  // The version this page shows: if the order changed meanwhile, the API answers 412.
                  headers: { "If-Match": `"${order.version}"` },
                }),
              "Your changes have been saved.",
            ),
        },
        "Save",
      ),
    ],
  );
}

// -- the notifications panel -------------------------------------------------------------------------

async function refreshFeed() {
  const panel = document.getElementById("notifications");
  try {
    const { body } = await request("GET", "/notifications?limit=10");
    panel.hidden = false;
    document.getElementById("notification-list").replaceChildren(
      ...(body.notifications.length
        ? body.notifications.map((event) =>
            h("li", {}, h("strong", {}, EVENTS[event.event_type] || event.event_type), h("br"), `${event.reference} · ${when(event.occurred_at)}`),
          )
        : [h("li", { class: "muted" }, "Nothing yet.")]),
    );
  } catch (error) {
    panel.hidden = false;
    document.getElementById("notification-list").replaceChildren(h("li", {}, problemMessage(error)));
  }
}

function startFeed() {
  if (feedTimer) return;
  refreshFeed();
  feedTimer = setInterval(refreshFeed, 3000);
}

function stopFeed() {
  clearInterval(feedTimer);
  feedTimer = null;
  document.getElementById("notifications").hidden = true;
}

window.addEventListener("hashchange", route);
loadConfig().then(route);
