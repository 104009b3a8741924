// The notifications panel: the seller's feed (GET /notifications, docs/api.md §7), read every 3 s.
// This is the only polling the portal does: the open page subscribes (onFeed) and reads an order
// again only when the feed names a newer version of it than the page shows.
// Each item is a sentence linking to its order. The list is redrawn only when its events change,
// each new event is announced once (#news), and a failure is said once in the panel, not every 3 s.

import { request } from "./api.js";
import { fill, h } from "./dom.js";
import { announce, wordsOf } from "./messages.js";
import { eventSentence, when } from "./words.js";

const EVERY_MS = 3000;
const PAGE_SIZE = 10;

let timer = null;
let running = false;
let shown = null; // the event ids on screen, in order, as one string; null before the first read
let seen = new Set();
const listeners = new Set();

// `listener(notifications)` after every read that succeeded; returns the unsubscribe function.
export function onFeed(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function startFeed() {
  if (running) return;
  running = true;
  document.getElementById("notifications").hidden = false;
  read();
}

export function stopFeed() {
  running = false;
  clearTimeout(timer);
  timer = null;
  shown = null;
  seen = new Set();
  fill(document.getElementById("notification-list"));
  sayStatus("");
  document.getElementById("notifications").hidden = true;
}

async function read() {
  if (!running) return;
  try {
    const { body } = await request("GET", `/notifications?limit=${PAGE_SIZE}`);
    if (!running) return;
    sayStatus("");
    show(body.notifications);
    for (const listener of [...listeners]) listener(body.notifications);
  } catch (error) {
    if (!running) return;
    const { title } = wordsOf(error);
    sayStatus(`The notifications could not be brought up to date: ${title.toLowerCase()}. Trying again every few seconds.`);
    if (error.status === 401) return stopPolling();
  }
  timer = setTimeout(read, EVERY_MS);
}

function stopPolling() {
  running = false;
  clearTimeout(timer);
}

// The panel's own status line (a polite live region): changed only when what it says changes.
function sayStatus(text) {
  const status = document.getElementById("feed-status");
  if (status.textContent !== text) status.textContent = text;
}

function show(notifications) {
  const ids = notifications.map((event) => event.event_id).join(" ");
  const fresh = shown === null ? [] : notifications.filter((event) => !seen.has(event.event_id));
  for (const event of notifications) seen.add(event.event_id);
  if (ids !== shown) {
    shown = ids;
    redraw(notifications);
  }
  if (fresh.length) announce(`New notification: ${fresh.map(eventSentence).join(" ")}`);
}

function redraw(notifications) {
  const list = document.getElementById("notification-list");
  const focusedEvent = list.contains(document.activeElement) ? document.activeElement.dataset.event : null;
  fill(
    list,
    notifications.length
      ? notifications.map((event) =>
          h(
            "li",
            {},
            h("a", { href: `#/orders/${event.order_id}`, "data-event": event.event_id }, eventSentence(event)),
            h("time", { datetime: event.occurred_at }, when(event.occurred_at)),
          ),
        )
      : h("li", { class: "muted" }, "Nothing yet: outcomes of your cancellations will appear here."),
  );
  if (focusedEvent) {
    const again = list.querySelector(`a[data-event="${CSS.escape(focusedEvent)}"]`);
    (again || document.getElementById("notifications-title")).focus();
  }
}
