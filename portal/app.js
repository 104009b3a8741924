// The portal's entry point: which page each address shows, the header (who is signed in, Sign out),
// and the notifications panel, which runs while a seller is signed in.
//   portal/api.js       the API client          portal/dom.js       the DOM helper
//   portal/dialog.js    the one pop-up          portal/words.js     every word a seller reads
//   portal/feed.js      the notifications       portal/messages.js  the live regions
//   portal/router.js    addresses → pages       portal/pages/       sign-in, orders, order (+ its pop-ups), tracking
//   portal/couriers.js  the courier catalogue and statuses, from the API

import { loadConfig, seller, signOut, token } from "./api.js";
import { h } from "./dom.js";
import { startFeed, stopFeed } from "./feed.js";
import { navigate, startRouter } from "./router.js";
import { orderPage } from "./pages/order.js";
import { ordersPage } from "./pages/orders.js";
import { signInPage } from "./pages/sign-in.js";
import { trackingPage } from "./pages/tracking.js";

const ORDER = /^\/orders\/(ord_[a-z2-7]{26})$/;
const TRACKING = /^\/orders\/(ord_[a-z2-7]{26})\/tracking$/;

function notFound(container) {
  document.title = "Page not found · Seller portal";
  container.append(h("h1", {}, "This page does not exist"), h("p", {}, h("a", { href: "#/orders" }, "Back to your orders")));
}

function resolve(path) {
  showWho();
  if (!token()) {
    stopFeed();
    return path === "/sign-in" ? signInPage : "#/sign-in";
  }
  if (path === "/" || path === "/sign-in") return "#/orders";
  startFeed();
  if (path === "/orders") return ordersPage;
  const order = path.match(ORDER);
  if (order) return (container) => orderPage(container, order[1]);
  const tracked = path.match(TRACKING);
  if (tracked) return (container) => trackingPage(container, tracked[1]);
  return notFound;
}

function showWho() {
  const signedIn = Boolean(token());
  document.getElementById("who").textContent = signedIn ? `Signed in as ${seller()}` : "";
  document.getElementById("sign-out").hidden = !signedIn;
}

document.getElementById("sign-out").addEventListener("click", () => {
  signOut();
  stopFeed();
  navigate("#/sign-in?signed-out=1");
});

loadConfig().then(() => startRouter(resolve));
