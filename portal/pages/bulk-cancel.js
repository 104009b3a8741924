// Cancel selected (docs/api.md §13): the order list's checkboxes, and the pop-ups of one bulk
// cancellation. First a dry run (with requests, to say how many could become requests), its summary in
// words and the choice to ask the warehouse; then the real call and each order's result, with a link to
// each order that was not cancelled.

import { ApiProblem, request } from "../api.js";
import { openDialog } from "../dialog.js";
import { h } from "../dom.js";
import { sayProblem } from "../messages.js";
import { SELLER_REASONS, bulkOutcome, bulkPreview, bulkResultWords } from "../words.js";

// The selection of one page of the list: a checkbox per row, "select all on this page", and the button.
export function selection(orders, onCancelled) {
  const chosen = new Set();
  const boxes = new Map();
  const button = h("button", { type: "button", id: "cancel-selected", disabled: true }, "Cancel selected");
  const all = h("input", { type: "checkbox", id: "select-all" });
  const sync = () => {
    button.disabled = chosen.size === 0;
    button.textContent = chosen.size ? `Cancel selected (${chosen.size})` : "Cancel selected";
    all.checked = chosen.size > 0 && chosen.size === boxes.size;
    all.indeterminate = chosen.size > 0 && chosen.size < boxes.size;
  };
  all.addEventListener("change", () => {
    for (const [id, box] of boxes) {
      box.checked = all.checked;
      if (all.checked) chosen.add(id);
      else chosen.delete(id);
    }
    sync();
  });
  const references = new Map(orders.map((order) => [order.order_id, order.reference]));
  // Once the results are read, the selection starts again (the rows the call changed are redrawn).
  const done = (changed) => {
    chosen.clear();
    for (const box of boxes.values()) box.checked = false;
    sync();
    onCancelled(changed);
  };
  button.addEventListener("click", () => cancelSelected([...chosen], references, done));

  return {
    // The checkbox of one row (made again when the row is redrawn: it keeps its state).
    box(order) {
      const box = h("input", {
        type: "checkbox",
        id: `select-${order.order_id}`,
        class: "select-order",
        "aria-label": `Select order ${order.reference}`,
        checked: chosen.has(order.order_id),
      });
      box.addEventListener("change", () => {
        if (box.checked) chosen.add(order.order_id);
        else chosen.delete(order.order_id);
        sync();
      });
      boxes.set(order.order_id, box);
      return box;
    },
    toolbar: h(
      "div",
      { class: "bulk-bar" },
      h("label", { for: "select-all", class: "select-all" }, all, " Select all on this page"),
      button,
    ),
  };
}

async function cancelSelected(orderIds, references, onCancelled) {
  let preview;
  try {
    ({ body: preview } = await request("POST", "/bulk-cancellations", {
      body: { order_ids: orderIds, if_in_warehouse: "REQUEST", dry_run: true },
    }));
  } catch (error) {
    if (!(error instanceof ApiProblem)) console.error(error);
    sayProblem(error, "cancel");
    return;
  }
  const requests = preview.summary.requested;
  const ask = h("input", { type: "checkbox", id: "bulk-ask-warehouse" });
  const reason = h(
    "select",
    { id: "bulk-reason" },
    Object.entries(SELLER_REASONS).map(([value, words]) => h("option", { value }, words)),
  );
  const fields = requests
    ? [
        h("p", { class: "field" }, h("label", { for: "bulk-ask-warehouse" }, ask, ` Ask the warehouse to cancel the ${requests === 1 ? "order" : `${requests} orders`} it has`)),
        h("p", { class: "field" }, h("label", { for: "bulk-reason" }, "Reason"), reason),
      ]
    : [];
  const changes = preview.summary.cancelled + requests;
  openDialog({
    title: `Cancel ${orderIds.length === 1 ? "1 order" : `${orderIds.length} orders`}?`,
    intro: bulkPreview(preview.results),
    fields,
    back: "Keep them",
    submit: {
      label: changes ? "Cancel the orders" : "Try anyway",
      id: "confirm-bulk-cancel",
      run: async () => {
        const body = { order_ids: orderIds, if_in_warehouse: ask.checked ? "REQUEST" : "SKIP" };
        if (ask.checked) body.reason_code = reason.value;
        let answer;
        try {
          ({ body: answer } = await request("POST", "/bulk-cancellations", { body }));
        } catch (error) {
          if (!(error instanceof ApiProblem)) console.error(error);
          return "The orders could not be cancelled: nothing was changed. Try again in a few seconds.";
        }
        // The results open once this pop-up has closed.
        setTimeout(() => showResults(answer, references, onCancelled), 0);
        return undefined;
      },
    },
  });
}

function showResults(answer, references, onCancelled) {
  const items = answer.results.map((result) => {
    const reference = references.get(result.order_id) || result.order_id;
    const done = result.order !== undefined;
    return h(
      "li",
      { class: done ? "bulk-done" : "bulk-refused", id: `bulk-result-${result.order_id}` },
      done ? h("bdi", {}, reference) : h("a", { href: `#/orders/${result.order_id}` }, h("bdi", {}, reference)),
      ": ",
      bulkResultWords(result),
    );
  });
  openDialog({
    title: "Cancel selected: done",
    intro: bulkOutcome(answer.summary),
    fields: [h("ul", { class: "bulk-results", id: "bulk-results" }, items)],
    back: "Close",
    submit: { label: "Done", id: "bulk-done", run: () => undefined },
    onClose: () => onCancelled(answer.results.filter((result) => result.order).map((result) => result.order)),
  });
}
