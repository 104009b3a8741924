// The courier services and the courier statuses, as the API serves them (GET /courier-services,
// GET /courier-statuses: docs/api.md §12): read once a session, so that the portal names services and
// explains statuses exactly as the API and the sellers' own systems do. `loadCouriers` before a page
// shows an order; `statusTitle`, `statusMeaning` and `statuses` after it.

import { request } from "./api.js";
import { setCourierServices } from "./words.js";

let loading = null;
let meanings = new Map();

export function loadCouriers() {
  if (!loading) {
    loading = Promise.all([request("GET", "/courier-services"), request("GET", "/courier-statuses")])
      .then(([services, statuses]) => {
        setCourierServices(services.body.courier_services);
        meanings = new Map(statuses.body.courier_statuses.map((status) => [status.status, status]));
      })
      .catch((error) => {
        loading = null; // try again on the next page
        throw error;
      });
  }
  return loading;
}

export function statusTitle(status) {
  return meanings.get(status)?.title || status;
}

export function statusMeaning(status) {
  return meanings.get(status)?.meaning || "";
}

export function statuses() {
  return [...meanings.values()];
}
