// Every word the portal shows a seller, in one module: the API's codes in plain English, the
// sentences built from them (history, the cancellation request, the feed, refusals) and how times
// read. Nothing else in portal/ writes a sentence a seller reads from a code, so another language is
// another copy of this file. No function here returns an API code: an unknown one is turned into
// words by `wordsFor`, never shown as it is.

export const LOCALE = "en-GB";

// -- statuses and reasons ---------------------------------------------------------------------------

export const STATUS = {
  PENDING: "Pending (not yet sent to the warehouse)",
  ON_BACKORDER: "On backorder (waiting for stock)",
  SENT_TO_WAREHOUSE: "Sent to the warehouse",
  PICKED: "Picked",
  PACKED: "Packed",
  DESPATCHED: "Despatched",
  CANCELLED: "Cancelled",
};

// Why the Cancel Order button is greyed out (cancellation.unavailable_reason).
export const CANCEL_UNAVAILABLE = {
  CANCELLATION_PENDING: "A cancellation request is waiting for the warehouse",
  CANCELLATION_REJECTED: "The warehouse rejected the cancellation request; it can no longer be cancelled",
  ORDER_DESPATCHED: "This order has been despatched and can no longer be cancelled",
  ORDER_CANCELLED: "This order has been cancelled",
  HISTORY_LIMIT: "This order has changed as many times as an order can; it can no longer change",
};

// Why the Edit button is greyed out (editing.unavailable_reason).
export const EDIT_UNAVAILABLE = {
  ORDER_IN_WAREHOUSE: "This order is in the warehouse and can no longer be edited",
  ORDER_DESPATCHED: "This order has been despatched and can no longer be edited",
  ORDER_CANCELLED: "This order has been cancelled and can no longer be edited",
  EDIT_LIMIT: "This order has been edited as many times as an order can be (100); cancel it and send it anew to change it",
  HISTORY_LIMIT: "This order has changed as many times as an order can; it can no longer change",
};

// Why the Split order button is greyed out (splitting.unavailable_reason).
export const SPLIT_UNAVAILABLE = {
  NOT_ON_BACKORDER: "Only an order on backorder can be split",
  NOTHING_IN_STOCK: "Every item of this order is waiting for stock: there is nothing to send yet",
  ORDER_IN_WAREHOUSE: "This order is in the warehouse and can no longer be split",
  ORDER_DESPATCHED: "This order has been despatched and can no longer be split",
  ORDER_CANCELLED: "This order has been cancelled",
  SPLIT_LIMIT: "This order has been split as many times as an order can be (20)",
  HISTORY_LIMIT: "This order has changed as many times as an order can; it can no longer change",
};

export function splitUnavailable(reason) {
  return SPLIT_UNAVAILABLE[reason] || "This order cannot be split";
}

// An order's lines parted by its backorder, as the API's split parts them: [what ships now, what waits].
export function splitParts(order) {
  const short = new Map(((order.backorder && order.backorder.items) || []).map((line) => [line.line, line.quantity]));
  const ships = [];
  const waits = [];
  order.items.forEach((item, index) => {
    const waiting = Math.min(short.get(index + 1) || 0, item.quantity);
    if (item.quantity > waiting) ships.push({ sku: item.sku, quantity: item.quantity - waiting });
    if (waiting) waits.push({ sku: item.sku, quantity: waiting });
  });
  return [ships, waits];
}

// A day the API gives as YYYY-MM-DD, in words.
export function day(text) {
  const [year, month, date] = String(text).split("-").map(Number);
  return new Date(Date.UTC(year, month - 1, date)).toLocaleDateString(LOCALE, { day: "numeric", month: "long", year: "numeric", timeZone: "UTC" });
}

// The seller's reasons for a cancellation request (the pop-up's choices).
export const SELLER_REASONS = {
  CUSTOMER_REQUEST: "The customer asked to cancel",
  ADDRESS_ERROR: "The address is wrong",
  DUPLICATE_ORDER: "The order was sent twice",
  FRAUD_SUSPECTED: "Fraud is suspected",
  OTHER: "Another reason",
};

// The warehouse's reasons for turning a request down, as the end of "The warehouse rejected your request: …".
const WAREHOUSE_REASONS = {
  ALREADY_PACKED: "the order was already packed",
  IN_COURIER_COLLECTION: "the order was already in the courier collection area",
  ORDER_DESPATCHED: "the order had already been despatched",
};

// What the edit form can change, as history names them (`changed`).
const FIELDS = {
  recipient: "the recipient",
  courier_service: "the courier service",
  items: "the items",
};

// -- courier services -------------------------------------------------------------------------------

// The catalogue's names, as GET /courier-services gives them (couriers.js loads them before a page shows
// an order); `courierName` is the one lookup, and a code not in the catalogue is put into words.
export const COURIER_SERVICES = {};

export function setCourierServices(services) {
  for (const code of Object.keys(COURIER_SERVICES)) delete COURIER_SERVICES[code];
  for (const service of services) COURIER_SERVICES[service.code] = service.name;
}

export function courierName(code) {
  return COURIER_SERVICES[code] || wordsFor(code);
}

// Couriers' initials, which stay in capitals when an unknown code is put into words.
const INITIALS = new Set(["DPD", "DHL", "UPS", "TNT", "GLS", "DX", "USPS", "EMS"]);

// An unknown code in words: "PARCELFORCE_EXPRESS_24" reads "Parcelforce Express 24", "UPS_SAVER" reads
// "UPS Saver", "RETURNED" reads "Returned". Text that is not a code (it has a lower case letter, a space,
// a hyphen…) is the seller's own and is shown as typed.
export function wordsFor(code) {
  const text = String(code ?? "");
  if (!/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/.test(text)) return text;
  return text
    .split("_")
    .map((word) => (INITIALS.has(word) ? word : word[0] + word.slice(1).toLowerCase()))
    .join(" ");
}

// A field's name in words, where FIELD_NAMES or FIELDS have none: "address_line1" reads "address line1".
function fieldWords(field) {
  return String(field).replaceAll(/[_.]/g, " ");
}

// Every code of a text the API wrote (a problem's detail, a validation message) put into words: the
// UPPER_CASE ones, and the statuses that are one word (PICKED).
const CODE_IN_TEXT = new RegExp(
  `(?<![\\w-])(?:[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|${[...Object.keys(STATUS), "REQUESTED", "APPROVED", "REJECTED"].join("|")})(?![\\w-])`,
  "g",
);

export function withoutCodes(text) {
  return String(text ?? "").replace(CODE_IN_TEXT, (code) => (STATUS[code] || wordsFor(code)).toLowerCase());
}

export function statusName(status) {
  return STATUS[status] || wordsFor(status);
}

export function cancelUnavailable(reason) {
  return CANCEL_UNAVAILABLE[reason] || "This order can no longer be cancelled";
}

export function editUnavailable(reason) {
  return EDIT_UNAVAILABLE[reason] || "This order can no longer be edited";
}

export function sellerReason(code) {
  return SELLER_REASONS[code] || wordsFor(code);
}

// A country's name from its ISO 3166-1 code, as the browser knows it ("GB": "United Kingdom").
const REGIONS = new Intl.DisplayNames(LOCALE, { type: "region", fallback: "code" });

export function countryName(code) {
  try {
    return REGIONS.of(code);
  } catch (error) {
    return String(code); // not a region code at all
  }
}

// -- times ------------------------------------------------------------------------------------------

const TIME = new Intl.DateTimeFormat(LOCALE, {
  day: "numeric",
  month: "short",
  year: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  timeZoneName: "short",
});

// A time of the API (UTC, ISO 8601) in the seller's own time zone, the zone named: "6 Dec 2026, 20:35 GMT+1".
export function when(iso) {
  return iso ? TIME.format(new Date(iso)) : "—";
}

// -- the order's page -------------------------------------------------------------------------------

export function who(by) {
  if (by === "warehouse") return "The warehouse";
  if (by === "system") return "Our system";
  if (typeof by === "string" && by.startsWith("seller:")) return "You";
  return "Someone";
}

function listOf(words) {
  if (words.length <= 1) return words.join("");
  return `${words.slice(0, -1).join(", ")} and ${words[words.length - 1]}`;
}

// "The warehouse rejected your request: the order was already packed" (no clause for OTHER: its note says why).
function rejection(reasonCode, what = "your request") {
  if (!reasonCode || reasonCode === "OTHER") return `The warehouse rejected ${what}`;
  return `The warehouse rejected ${what}: ${WAREHOUSE_REASONS[reasonCode] || wordsFor(reasonCode).toLowerCase()}`;
}

const MOVED = {
  ON_BACKORDER: "The warehouse put the order on backorder: some of its stock is short",
  PENDING: "Stock arrived: the order is no longer on backorder",
  SENT_TO_WAREHOUSE: "The order was sent to the warehouse",
  PICKED: "The warehouse picked the order",
  PACKED: "The warehouse packed the order",
  DESPATCHED: "The warehouse despatched the order",
};

// One history entry as a sentence; `request` is the order's cancellation request (an order has one at most).
export function historySentence(entry, request) {
  const by = who(entry.by);
  switch (entry.event) {
    case "ORDER_CREATED":
      return entry.split_from ? `${by} split this order off another, to send what was in stock.` : `${by} created the order.`;
    case "ORDER_SPLIT":
      return `${by} split off what was in stock into a new order; the rest waits for stock.`;
    case "STATUS_CHANGED":
      return `${MOVED[entry.to_status] || `The order is now ${statusName(entry.to_status).toLowerCase()}`}.`;
    case "ORDER_EDITED": {
      const order = Object.keys(FIELDS);
      const changed = [...(entry.changed || [])]
        .sort((one, other) => (order.indexOf(one) + 1 || 99) - (order.indexOf(other) + 1 || 99))
        .map((field) => FIELDS[field] || fieldWords(field));
      return changed.length ? `${by} changed ${listOf(changed)}.` : `${by} edited the order.`;
    }
    case "ORDER_CANCELLED":
      return `${by} cancelled the order.`;
    case "CANCELLATION_REQUESTED":
      return `${by} asked the warehouse to cancel the order${request && request.reason_code ? ` (${sellerReason(request.reason_code).toLowerCase()})` : ""}.`;
    case "CANCELLATION_APPROVED":
      return "The warehouse approved your request and cancelled the order.";
    case "CANCELLATION_REJECTED":
      if (entry.to_status === "DESPATCHED" && entry.from_status !== "DESPATCHED") {
        return "The warehouse despatched the order, which turned down your cancellation request.";
      }
      return `${rejection(request && request.decision_reason_code)}.`;
    case "CANCELLATION_REQUEST_OVERDUE":
      return "The warehouse had not answered your request in time: it is overdue and being chased.";
    default:
      return `The order changed (${wordsFor(entry.event).toLowerCase()}).`;
  }
}

// The cancellation request, in sentences: what was asked, and where it stands.
export function requestSummary(request) {
  const asked = `You asked on ${when(request.requested_at)}: ${sellerReason(request.reason_code || "OTHER").toLowerCase()}.`;
  switch (request.status) {
    case "REQUESTED":
      if (request.escalated_at) {
        return [
          asked,
          `Overdue: the warehouse should have answered by ${when(request.due_at)}. Your request is being chased.`,
        ];
      }
      return [
        asked,
        request.due_at
          ? `Waiting for the warehouse, which will answer by ${when(request.due_at)}.`
          : "Waiting for the warehouse to answer.",
      ];
    case "APPROVED":
      return [asked, `The warehouse approved it on ${when(request.decided_at)}: the order is cancelled.`];
    case "REJECTED":
      return [asked, `${rejection(request.decision_reason_code)} (${when(request.decided_at)}).`];
    default:
      return [asked];
  }
}

// -- the notifications panel ------------------------------------------------------------------------

// One event of the feed (docs/api.md §4) as a sentence naming the order.
export function eventSentence(event) {
  const reference = event.reference;
  const request = event.cancellation && event.cancellation.request;
  switch (event.event_type) {
    case "ORDER_CANCELLED":
      return `You cancelled ${reference}.`;
    case "CANCELLATION_REQUESTED":
      return `You asked the warehouse to cancel ${reference}.`;
    case "CANCELLATION_APPROVED":
      return `The warehouse cancelled ${reference}, as you asked.`;
    case "CANCELLATION_REJECTED":
      if (event.status === "DESPATCHED" && request && request.decision_reason_code === "ORDER_DESPATCHED") {
        return `${reference} was despatched, which turned down your cancellation request.`;
      }
      return `${rejection(request && request.decision_reason_code, `your request to cancel ${reference}`)}.`;
    case "CANCELLATION_REQUEST_OVERDUE":
      return `Your request to cancel ${reference} is overdue; the warehouse is being chased.`;
    case "ORDER_BACKORDERED":
      return `${reference} is on backorder: some of its stock is short.`;
    case "ORDER_SPLIT":
      return `You split what was in stock off ${reference} into a new order.`;
    default:
      return `${reference} changed (${wordsFor(event.event_type).toLowerCase()}).`;
  }
}

// -- refusals and failures --------------------------------------------------------------------------

const FIELD_NAMES = {
  "recipient.name": "Recipient's name",
  "recipient.address_line1": "Address line 1",
  "recipient.address_line2": "Address line 2",
  "recipient.city": "Town or city",
  "recipient.postcode": "Postcode",
  "recipient.country": "Country",
  courier_service: "Courier service",
  note: "Note for the warehouse",
  reason_code: "Reason",
};

// What went wrong, as { title, detail }, from the API's problem (`code`, `status`, `errors`) and what the
// seller was doing: "cancel", "request", "edit" or "read".
export function problemWords(problem, action = "read") {
  const cannot = { cancel: "cancelled", request: "cancelled", edit: "edited", split: "split", read: "changed" }[action] || "changed";
  switch (problem.code) {
    case "ORDER_IN_WAREHOUSE":
      return action === "edit"
        ? {
            title: "The order is already in the warehouse",
            detail: "It can no longer be edited. Ask the warehouse to cancel it instead, and send the order again as it should be.",
          }
        : {
            title: "The order is already in the warehouse",
            detail: "It reached the warehouse before your cancellation, so now it can only be cancelled by request: press Cancel Order again to ask the warehouse team.",
          };
    case "ORDER_NOT_IN_WAREHOUSE":
      return { title: "The order is not in the warehouse yet", detail: "It can be cancelled at once: press Cancel Order again." };
    case "CANCELLATION_PENDING":
      return { title: "A cancellation request is already waiting", detail: "The warehouse team has not decided yet; you will be told the outcome." };
    case "CANCELLATION_REJECTED":
      return { title: "The warehouse rejected the cancellation", detail: "The order can no longer be cancelled, and the request cannot be made again." };
    case "ORDER_DESPATCHED":
      return { title: "The order has been despatched", detail: `It can no longer be ${cannot}.` };
    case "ORDER_CANCELLED":
      return { title: "The order has been cancelled", detail: "It can no longer be changed." };
    case "EDIT_LIMIT":
      return { title: "The order cannot be edited again", detail: "It has been edited 100 times, as many as an order can be. Cancel it and send it anew to change it." };
    case "HISTORY_LIMIT":
      return { title: "The order can no longer change", detail: "It has changed as many times as an order can. Contact us if it must still change." };
    case "NOT_ON_BACKORDER":
      return { title: "The order is not on backorder", detail: "Only an order waiting for stock can be split; this one can be sent whole." };
    case "NOTHING_IN_STOCK":
      return { title: "Nothing is in stock yet", detail: "Every item of the order is waiting for stock (it may have been split already)." };
    case "SPLIT_LIMIT":
      return { title: "The order cannot be split again", detail: "It has been split 20 times, as many as an order can be." };
    case "REFERENCE_TAKEN":
      return { title: "The new order's reference is taken", detail: problem.detail ? withoutCodes(problem.detail) : "Another of your orders has it." };
    case "PRECONDITION_FAILED":
      return {
        title: "The order changed meanwhile",
        detail: "Someone changed it after this page read it (in another tab, perhaps). The page now shows the order as it is: check it, then make your change again.",
      };
    case "ORDER_NOT_FOUND":
      return { title: "This order cannot be found", detail: "There is no such order among yours." };
    case "VALIDATION_ERROR":
      return {
        title: "Some of what you entered cannot be accepted",
        detail: (problem.errors || [])
          .map((error) => `${FIELD_NAMES[error.field] || fieldWords(error.field)}: ${withoutCodes(error.message)}`)
          .join(". ") || "Check what you entered and try again.",
      };
    case "SERVICE_UNAVAILABLE":
      return { title: "The service is busy", detail: "Nothing was changed. Try again in a few seconds." };
    default:
      break;
  }
  if (problem.status === 0) {
    return {
      title: "The orders service cannot be reached",
      detail: "The browser could not reach it (it is down, or it does not accept this page's address). Nothing was changed.",
    };
  }
  if (problem.status === 401) {
    return { title: "You are signed out", detail: "Your sign-in has expired or is missing. Sign in again." };
  }
  return {
    title: "Something went wrong",
    detail: problem.detail ? withoutCodes(problem.detail) : `The orders service answered with an error (HTTP ${problem.status}).`,
  };
}

// -- many orders at once (Cancel selected, docs/api.md §13) ------------------------------------------

function orders(count) {
  return `${count} ${count === 1 ? "order" : "orders"}`;
}

// Why an order of a bulk cancellation cannot be cancelled, from its result's problem code.
const CANNOT_BULK = {
  ORDER_IN_WAREHOUSE: "in the warehouse, and no request was made",
  CANCELLATION_PENDING: "a cancellation request is already waiting",
  CANCELLATION_REJECTED: "the warehouse rejected their cancellation",
  ORDER_DESPATCHED: "already despatched",
  HISTORY_LIMIT: "changed as many times as an order can",
  ORDER_NOT_FOUND: "not found",
  SERVICE_UNAVAILABLE: "not done in time (try them again)",
};

function refusedWords(results) {
  const why = new Map();
  for (const result of results) {
    if (!result.problem) continue;
    const words = CANNOT_BULK[result.problem.code] || problemWords(result.problem, "cancel").title.toLowerCase();
    why.set(words, (why.get(words) || 0) + 1);
  }
  return [...why].map(([words, count]) => `${count}: ${words}`).join("; ");
}

// The dry run's results (sent with if_in_warehouse REQUEST) as sentences: what the real call would do.
export function bulkPreview(results) {
  const count = (action) => results.filter((result) => result.action === action).length;
  const sentences = [];
  if (count("CANCELLED")) sentences.push(`${orders(count("CANCELLED"))} will be cancelled at once.`);
  if (count("CANCELLATION_REQUESTED")) {
    sentences.push(`${orders(count("CANCELLATION_REQUESTED"))} already in the warehouse can only be cancelled by request: tick the box below to ask the warehouse team.`);
  }
  const unchanged = count("UNCHANGED");
  if (unchanged) sentences.push(`${orders(unchanged)} ${unchanged === 1 ? "is" : "are"} already cancelled, or already waiting for the warehouse.`);
  const refused = results.filter((result) => result.problem);
  if (refused.length) sentences.push(`${orders(refused.length)} cannot be cancelled (${refusedWords(refused)}).`);
  return sentences.join(" ") || "Nothing to cancel.";
}

// What the real call did, as one sentence.
export function bulkOutcome(summary) {
  const parts = [];
  if (summary.cancelled) parts.push(`${orders(summary.cancelled)} cancelled`);
  if (summary.requested) parts.push(`${orders(summary.requested)} sent to the warehouse as cancellation requests`);
  if (summary.unchanged) parts.push(`${orders(summary.unchanged)} already done`);
  const refused = summary.refused + summary.not_found + summary.not_done;
  if (refused) parts.push(`${orders(refused)} could not be cancelled`);
  return parts.length ? `${parts.join(", ")}.` : "Nothing was changed.";
}

// One order's result, in words.
export function bulkResultWords(result) {
  switch (result.action) {
    case "CANCELLED":
      return "Cancelled";
    case "CANCELLATION_REQUESTED":
      return "Cancellation requested from the warehouse";
    case "UNCHANGED":
      return result.order && result.order.status === "CANCELLED" ? "Already cancelled" : "Already waiting for the warehouse";
    default: {
      const { title, detail } = problemWords(result.problem || {}, "cancel");
      return result.problem && CANNOT_BULK[result.problem.code] ? `Not cancelled: ${CANNOT_BULK[result.problem.code]}` : `${title}. ${detail}`;
    }
  }
}
