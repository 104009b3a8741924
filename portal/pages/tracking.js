// The tracking page (#/orders/<order_id>/tracking, docs/api.md §12): where the parcel is, the carrier's
// own page for it, every event the courier sent (oldest first) and, under "What do carrier statuses
// mean?", each status in the API's words.

import { request } from "../api.js";
import { h } from "../dom.js";
import { loadCouriers, statusMeaning, statusTitle, statuses } from "../couriers.js";
import { courierName, when } from "../words.js";

export async function trackingPage(container, orderId) {
  const [{ body: tracking }, { body: order }] = await Promise.all([
    request("GET", `/orders/${orderId}/tracking`),
    request("GET", `/orders/${orderId}`),
    loadCouriers(),
  ]);
  document.title = `Tracking ${order.reference} · Seller portal`;
  const current = tracking.courier_status;
  container.append(
    h("p", {}, h("a", { href: `#/orders/${orderId}` }, "Back to the order")),
    h("h1", {}, "Tracking ", h("bdi", {}, order.reference)),
    h(
      "dl",
      { class: "details" },
      h("dt", {}, "Courier service"),
      h("dd", { id: "tracking-courier" }, courierName(tracking.courier_service)),
      h("dt", {}, "Tracking number"),
      h(
        "dd",
        { id: "tracking-number" },
        tracking.tracking_url
          ? h("a", { href: tracking.tracking_url, id: "carrier-link", rel: "noopener noreferrer", target: "_blank" }, tracking.tracking_number, " (at the carrier)")
          : tracking.tracking_number || "None",
      ),
      h("dt", {}, "Courier status"),
      h(
        "dd",
        { id: "tracking-status" },
        current ? [h("strong", {}, statusTitle(current.status)), `: ${statusMeaning(current.status)}`] : "The courier has not reported on this parcel yet.",
      ),
    ),
    h("h2", { id: "timeline-title" }, "What the courier reported"),
    tracking.events.length
      ? h(
          "ol",
          { class: "timeline", id: "timeline", "aria-labelledby": "timeline-title" },
          tracking.events.map((event) =>
            h(
              "li",
              {},
              h("strong", {}, statusTitle(event.status)),
              ` ${when(event.occurred_at)}`,
              event.location ? [", ", h("bdi", {}, event.location)] : null,
              event.description ? [h("br"), h("bdi", {}, event.description)] : null,
            ),
          ),
        )
      : h("p", {}, "Nothing yet."),
    tracking.dropped_events ? h("p", {}, `${tracking.dropped_events} earlier events are no longer shown.`) : null,
    h("h2", { id: "meanings-title" }, "What do carrier statuses mean?"),
    h(
      "dl",
      { class: "meanings", id: "meanings" },
      statuses().map((status) => [h("dt", {}, status.title), h("dd", {}, status.meaning)]),
    ),
  );
}
