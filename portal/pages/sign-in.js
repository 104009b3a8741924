// The sign-in page (#/sign-in): the local stack's demo sellers, each a button that asks the local
// token route for an ID token. Signing out lands here, which is also how a seller switches.

import { signIn } from "../api.js";
import { h } from "../dom.js";
import { sayProblem } from "../messages.js";
import { navigate } from "../router.js";

const DEMO_SELLERS = ["S-1", "S-2"];

export async function signInPage(container, parameters) {
  document.title = "Sign in · Seller portal";
  const choose = async (sellerId) => {
    try {
      await signIn(sellerId);
      navigate("#/orders");
    } catch (error) {
      sayProblem(error, "read");
    }
  };
  container.append(
    h("h1", {}, "Choose a demo seller"),
    parameters.get("signed-out") ? h("p", {}, "You are signed out.") : null,
    h("p", { class: "muted" }, "The local stack signs you in with its own user pool."),
    h(
      "div",
      { class: "sellers" },
      DEMO_SELLERS.map((id) => h("button", { type: "button", onclick: () => choose(id) }, `Sign in as ${id}`)),
    ),
  );
}
