// The DOM helper every module builds its elements with: text is always set as text, never parsed as
// HTML, so an order's data (a recipient's name, a note) can hold anything and still show as typed.
// Also: moving focus to a page's heading, and keeping focus on "the same" control across a redraw.

// h("button", { type: "button", onclick: fn }, "Save"): attributes (`on…` ones become listeners; false,
// null and undefined leave the attribute out; true sets it empty) and children (strings become text nodes).
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? "" : value);
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

// Replaces an element's children, skipping the empty ones as h() does.
export function fill(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

// A page's title is its h1; after a route change focus moves there, so that a screen reader reads
// where the seller now is and Tab goes on from the top of the page.
export function focusHeading(container) {
  const heading = container.querySelector("h1");
  if (!heading) return;
  heading.setAttribute("tabindex", "-1");
  heading.focus({ preventScroll: false });
}

// Runs `redraw` and puts focus back on the control with the same id (or, failing that, the page's h1)
// when the redraw replaced the focused element: a live update must not throw the keyboard user out.
export function keepingFocus(container, redraw) {
  const focused = document.activeElement;
  const inside = focused && focused !== document.body && container.contains(focused);
  const id = inside ? focused.id : null;
  const result = redraw();
  if (inside && !container.contains(focused)) {
    const again = id ? document.getElementById(id) : null;
    if (again && container.contains(again)) again.focus();
    else focusHeading(container);
  }
  return result;
}
