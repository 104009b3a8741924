// The order's page (#/orders/<order_id>): what the order is, where its cancellation stands, its
// history in sentences, and the two buttons the API drives: Cancel Order (`cancellation.option`) and
// Edit (`editing.option`), each greyed out with its reason beside it when the option is NONE.
// It stays live: when the feed names a newer version of this order, the page reads it again.

import { request } from "../api.js";
import { loadCouriers, statusTitle } from "../couriers.js";
import { isOpen } from "../dialog.js";
import { fill, h, keepingFocus } from "../dom.js";
import { onFeed } from "../feed.js";
import { clearMessages } from "../messages.js";
import {
  cancelUnavailable,
  countryName,
  courierName,
  day,
  editUnavailable,
  historySentence,
  splitUnavailable,
  requestSummary,
  statusName,
  when,
} from "../words.js";
import { confirmCancel, editOrder, requestCancellation, splitOrder } from "./order-actions.js";

export function badge(status) {
  return h("span", { class: `badge status-${status.toLowerCase()}` }, statusName(status));
}

class OrderView {
  constructor(container, orderId) {
    this.container = container;
    this.orderId = orderId;
    this.order = null;
    this.reading = false;
    this.unsubscribe = onFeed((notifications) => this.follow(notifications));
  }

  async load() {
    const { body } = await request("GET", `/orders/${this.orderId}`);
    this.show(body);
  }

  // The feed's events for this order: a version newer than the page's means someone else changed it.
  // Not while a pop-up is open (the seller is acting on what they see); the next read of the feed will tell.
  async follow(notifications) {
    const newest = Math.max(0, ...notifications.filter((event) => event.order_id === this.orderId).map((event) => event.order_version));
    if (!this.order || newest <= this.order.version || this.reading || isOpen()) return;
    this.reading = true;
    try {
      const { body } = await request("GET", `/orders/${this.orderId}`);
      if (body.version > this.order.version) {
        clearMessages(); // what the last command said is no longer the news
        this.show(body);
      }
    } catch (error) {
      // The feed will name the version again in 3 s; a failed read is tried then.
    } finally {
      this.reading = false;
    }
  }

  // After a refusal: the order as it is now, whatever the page showed.
  async reload() {
    const { body } = await request("GET", `/orders/${this.orderId}`);
    this.show(body);
  }

  show(order) {
    if (this.order && order.version < this.order.version) return; // an older answer arriving late
    this.order = order;
    document.title = `Order ${order.reference} · Seller portal`;
    keepingFocus(this.container, () => fill(this.container, ...this.render(order)));
  }

  leave() {
    this.unsubscribe();
  }

  render(order) {
    return [
      h(
        "div",
        { class: "order-head" },
        h("div", { class: "order-title" }, h("h1", {}, "Order ", h("bdi", {}, order.reference)), badge(order.status)),
        this.buttons(order),
      ),
      order.cancellation.request ? cancellationRequest(order.cancellation.request) : null,
      order.backorder ? backorder(order) : null,
      splitLinks(order),
      details(order),
      h("h2", {}, "History"),
      h(
        "ol",
        { class: "timeline", id: "history" },
        order.history.map((entry) =>
          h(
            "li",
            {},
            h("span", { class: "sentence" }, historySentence(entry, order.cancellation.request)),
            " ",
            h("time", { datetime: entry.at }, when(entry.at)),
          ),
        ),
      ),
      h("p", {}, h("a", { href: "#/orders" }, "Back to your orders")),
    ];
  }

  buttons(order) {
    const { cancellation, editing, splitting } = order;
    const cannotCancel = cancellation.option === "NONE";
    const cannotEdit = editing.option === "NONE";
    // Shown while the order is on backorder, where splitting is what the seller may want.
    const offerSplit = order.status === "ON_BACKORDER";
    const cannotSplit = splitting.option === "NONE";
    const split = offerSplit
      ? h(
          "button",
          {
            type: "button",
            id: "split-order",
            class: "secondary",
            "aria-disabled": String(cannotSplit),
            "aria-describedby": cannotSplit ? "split-reason" : null,
            onclick: () => !cannotSplit && splitOrder(this.order, this),
          },
          "Split order",
        )
      : null;
    const edit = h(
      "button",
      {
        type: "button",
        id: "edit-order",
        class: "secondary",
        "aria-disabled": String(cannotEdit),
        "aria-describedby": cannotEdit ? "edit-reason" : null,
        onclick: () => !cannotEdit && editOrder(this.order, this),
      },
      "Edit",
    );
    const cancel = h(
      "button",
      {
        type: "button",
        id: "cancel-order",
        "aria-disabled": String(cannotCancel),
        "aria-describedby": cannotCancel ? "cancel-reason" : null,
        onclick: () => {
          if (this.order.cancellation.option === "CANCEL") confirmCancel(this.order, this);
          else if (this.order.cancellation.option === "REQUEST") requestCancellation(this.order, this);
        },
      },
      "Cancel Order",
    );
    return h(
      "div",
      { class: "order-actions" },
      h("div", { class: "buttons" }, split, edit, cancel),
      offerSplit && cannotSplit ? h("p", { class: "reason", id: "split-reason" }, splitUnavailable(splitting.unavailable_reason)) : null,
      cannotCancel ? h("p", { class: "reason", id: "cancel-reason" }, cancelUnavailable(cancellation.unavailable_reason)) : null,
      cannotEdit ? h("p", { class: "reason", id: "edit-reason" }, editUnavailable(editing.unavailable_reason)) : null,
    );
  }
}

// The lines short of stock, and when the warehouse expects it.
function backorder(order) {
  const { items, expected_at: expected } = order.backorder;
  return h(
    "section",
    { class: "backorder", id: "backorder", "aria-labelledby": "backorder-title" },
    h("h2", { id: "backorder-title" }, "On backorder"),
    h("p", {}, "The warehouse is waiting for stock of:"),
    h("ul", { class: "items" }, items.map((line) => h("li", {}, `${line.quantity} × ${line.sku}`))),
    h("p", { id: "expected" }, expected ? `Stock is expected on ${day(expected)}.` : "The warehouse does not know yet when stock will arrive."),
  );
}

// Links between an order and the orders split off it.
function splitLinks(order) {
  if (!order.split_from && !(order.split_into || []).length) return null;
  return h(
    "p",
    { class: "split-links", id: "split-links" },
    order.split_from ? ["Split off ", h("a", { href: `#/orders/${order.split_from}`, id: "split-from" }, "the original order"), ". "] : null,
    (order.split_into || []).length
      ? ["What was in stock was split into ", order.split_into.map((id, n) => [n ? ", " : "", h("a", { href: `#/orders/${id}`, class: "split-into" }, `order ${n + 2}`)]), "."]
      : null,
  );
}

function cancellationRequest(pending) {
  const overdue = pending.status === "REQUESTED" && pending.escalated_at;
  return h(
    "section",
    { class: `request request-${pending.status.toLowerCase()}${overdue ? " overdue" : ""}`, id: "request", "aria-labelledby": "request-title" },
    h("h2", { id: "request-title" }, "Your cancellation request"),
    requestSummary(pending).map((sentence) => h("p", {}, sentence)),
    pending.note ? note("Your note: ", pending.note, "seller-note") : null,
    pending.decision_note ? note("The warehouse's note: ", pending.decision_note, "decision-note") : null,
  );
}

// A note as typed (line breaks kept), in quotation marks that are text, so that every reader has them.
function note(label, text, id) {
  return h("p", { class: "note", id }, h("span", { class: "note-label" }, label), "“", h("bdi", {}, text), "”");
}

function details(order) {
  const { recipient } = order;
  const address = [recipient.address_line1, recipient.address_line2, recipient.city, recipient.postcode, countryName(recipient.country)];
  return h(
    "dl",
    { class: "details" },
    h("dt", {}, "Recipient"),
    // Each line of the seller's data in its own <bdi>: a right-to-left mark in one cannot reorder the next.
    h("dd", { id: "recipient" }, h("bdi", {}, recipient.name), address.filter(Boolean).map((line) => [h("br"), h("bdi", {}, line)])),
    h("dt", {}, "Items"),
    h("dd", { id: "items" }, h("ul", { class: "items" }, order.items.map((item) => h("li", {}, `${item.quantity} × ${item.sku}`)))),
    h("dt", {}, "Courier service"),
    h("dd", { id: "courier" }, courierName(order.courier_service)),
    h("dt", {}, "Tracking number"),
    h("dd", { id: "tracking" }, order.tracking_number || "None yet"),
    order.status === "DESPATCHED" ? h("dt", {}, "Courier status") : null,
    order.status === "DESPATCHED"
      ? h(
          "dd",
          { id: "courier-status" },
          order.courier_status ? statusTitle(order.courier_status.status) : "Awaiting the courier",
          " ",
          h("a", { href: `#/orders/${order.order_id}/tracking`, id: "view-tracking" }, "View tracking"),
        )
      : null,
    h("dt", {}, "Ordered"),
    h("dd", {}, when(order.created_at)),
    h("dt", {}, "Order id"),
    h("dd", { class: "order-id" }, order.order_id),
  );
}

export async function orderPage(container, orderId) {
  await loadCouriers();
  const view = new OrderView(container, orderId);
  try {
    await view.load();
  } catch (error) {
    view.leave();
    throw error;
  }
  return () => view.leave();
}
