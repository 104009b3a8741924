// The order list (#/orders?status=&page=&token=): 10 orders a page, newest first, a status filter
// applied with its button, and previous / next pages. The API only gives a `next_token`, so the
// tokens of the pages seen so far are kept (per filter, in sessionStorage) to go back.
// Rows stay live: when the feed names a newer version of an order on the page, its row is read again.

import { request } from "../api.js";
import { loadCouriers, statusTitle } from "../couriers.js";
import { fill, h, keepingFocus } from "../dom.js";
import { onFeed } from "../feed.js";
import { navigate } from "../router.js";
import { STATUS, courierName, when } from "../words.js";
import { selection } from "./bulk-cancel.js";
import { badge } from "./order.js";

const PAGE_SIZE = 10;

// The page tokens of one filter: tokens[n - 1] opens page n (page 1 has none).
function tokensOf(status) {
  try {
    return JSON.parse(sessionStorage.getItem(`pages:${status}`)) || [null];
  } catch (error) {
    return [null];
  }
}

function remember(status, page, token) {
  const tokens = tokensOf(status).slice(0, page);
  tokens[page - 1] = token;
  sessionStorage.setItem(`pages:${status}`, JSON.stringify(tokens));
  return tokens;
}

export function listAddress(status, page = 1, token = null) {
  const query = new URLSearchParams();
  if (status) query.set("status", status);
  if (page > 1 && token) {
    query.set("page", String(page));
    query.set("token", token);
  }
  const text = query.toString();
  return text ? `#/orders?${text}` : "#/orders";
}

export async function ordersPage(container, parameters) {
  const status = STATUS[parameters.get("status")] ? parameters.get("status") : "";
  const token = parameters.get("token");
  const page = token ? Math.max(2, Number.parseInt(parameters.get("page"), 10) || 2) : 1;
  const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (status) query.set("status", status);
  if (token) query.set("next_token", token);
  const [{ body }] = await Promise.all([request("GET", `/orders?${query}`), loadCouriers()]);
  const tokens = remember(status, page, token);
  document.title = `Your orders${page > 1 ? `, page ${page}` : ""} · Seller portal`;

  // Cancel selected: a checkbox per row; the rows the bulk call changed are drawn again from its answer.
  const redraw = (order) => {
    if (!rows.has(order.order_id) || order.version <= versions.get(order.order_id)) return;
    versions.set(order.order_id, order.version);
    const fresh = row(order, selected);
    keepingFocus(container, () => rows.get(order.order_id).replaceWith(fresh));
    rows.set(order.order_id, fresh);
  };
  const selected = selection(body.orders, (changed) => changed.forEach(redraw));
  const rows = new Map(body.orders.map((order) => [order.order_id, row(order, selected)]));
  fill(
    container,
    h("h1", {}, "Your orders"),
    filter(status),
    rows.size ? selected.toolbar : null,
    rows.size
      ? h(
          "table",
          { class: "orders" },
          h("caption", {}, `${status ? `${STATUS[status]} orders` : "All orders"}, newest first: page ${page}`),
          h(
            "thead",
            {},
            h("tr", {}, ["Reference", "Status", "Recipient", "Courier service", "Courier status", "Ordered"].map((name) => h("th", { scope: "col" }, name))),
          ),
          h("tbody", {}, [...rows.values()]),
        )
      : h("p", {}, page > 1 ? "No more orders." : status ? "No orders with this status." : "No orders yet."),
    pages(status, page, tokens, body.next_token),
  );

  // Rows the feed says changed are read again (one GET each), nothing else.
  const versions = new Map(body.orders.map((order) => [order.order_id, order.version]));
  const reading = new Set();
  return onFeed((notifications) => {
    for (const event of notifications) {
      const id = event.order_id;
      if (!versions.has(id) || event.order_version <= versions.get(id) || reading.has(id)) continue;
      reading.add(id);
      request("GET", `/orders/${id}`)
        .then(({ body: order }) => {
          if (order.version <= versions.get(id)) return;
          versions.set(id, order.version);
          const fresh = row(order, selected);
          keepingFocus(container, () => rows.get(id).replaceWith(fresh));
          rows.set(id, fresh);
        })
        .catch(() => {}) // the feed names the version again in 3 s
        .finally(() => reading.delete(id));
    }
  });
}

function row(order, selected) {
  return h(
    "tr",
    { id: `row-${order.order_id}` },
    h("th", { scope: "row" }, selected.box(order), h("a", { href: `#/orders/${order.order_id}`, id: `link-${order.order_id}` }, h("bdi", {}, order.reference))),
    h("td", {}, badge(order.status)),
    h("td", { "data-label": "Recipient" }, h("bdi", {}, order.recipient.name)),
    h("td", { "data-label": "Courier service" }, courierName(order.courier_service)),
    h("td", { "data-label": "Courier status", class: "courier-status" }, courierStatus(order)),
    h("td", { "data-label": "Ordered" }, when(order.created_at)),
  );
}

// The Courier Status column (docs/api.md §12): the status's title and a "View tracking" link, once despatched.
function courierStatus(order) {
  if (order.status !== "DESPATCHED") return "—";
  const title = order.courier_status ? statusTitle(order.courier_status.status) : "Awaiting the courier";
  return [
    h("span", {}, title),
    " ",
    h("a", { href: `#/orders/${order.order_id}/tracking`, id: `track-${order.order_id}` }, "View tracking"),
  ];
}

// The filter applies when its button is pressed (a change of the select alone does nothing).
function filter(status) {
  const select = h(
    "select",
    { id: "status-filter", name: "status" },
    h("option", { value: "" }, "All statuses"),
    Object.entries(STATUS).map(([value, words]) => h("option", { value, selected: value === status }, words)),
  );
  return h(
    "form",
    {
      class: "filter",
      role: "search",
      "aria-label": "Filter the orders",
      onsubmit: (event) => {
        event.preventDefault();
        navigate(listAddress(select.value), { focus: "apply-filter" }); // focus stays on the button
      },
    },
    h("label", { for: "status-filter" }, "Status"),
    select,
    h("button", { type: "submit", id: "apply-filter", class: "secondary" }, "Show"),
  );
}

function pages(status, page, tokens, nextToken) {
  let previous = null;
  if (page === 2 || (page > 2 && tokens[page - 2])) {
    previous = h("a", { href: listAddress(status, page - 1, tokens[page - 2]), id: "previous-page", rel: "prev" }, "Previous page");
  } else if (page > 2) {
    previous = h("a", { href: listAddress(status), id: "first-page" }, "First page");
  }
  const next = nextToken ? h("a", { href: listAddress(status, page + 1, nextToken), id: "next-page", rel: "next" }, "Next page") : null;
  if (!previous && !next) return null;
  return h("nav", { class: "pages", "aria-label": "Pages of orders" }, previous, h("span", {}, `Page ${page}`), next);
}
