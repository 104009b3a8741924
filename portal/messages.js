// What the portal says about a result, each said once to a screen reader. The regions are in
// index.html from the start (a live region must exist before its text changes to be read):
// - #done (role=status, polite) and #problem (role=alert): a command's outcome on the page, above it;
// - #news (polite, visually hidden): what the feed brought while the seller was looking.
// Pages themselves are not live regions: a route change moves focus to the new page's h1 instead.

import { ApiProblem } from "./api.js";
import { fill, h } from "./dom.js";
import { problemWords } from "./words.js";

const done = () => document.getElementById("done");
const problem = () => document.getElementById("problem");

export function clearMessages() {
  fill(done());
  fill(problem());
}

export function sayDone(text) {
  fill(problem());
  fill(done(), text);
}

// An error as the seller reads it: an ApiProblem in the portal's words, anything else as "something went wrong".
export function wordsOf(error, action = "read") {
  if (error instanceof ApiProblem) return problemWords(error, action);
  return { title: "Something went wrong", detail: "The page hit an error. Reload it and try again." };
}

export function sayProblem(error, action) {
  const { title, detail } = wordsOf(error, action);
  fill(done());
  fill(problem(), h("strong", {}, title), ". ", detail);
}

export function announce(text) {
  fill(document.getElementById("news"), text);
}
