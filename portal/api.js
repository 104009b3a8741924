// The orders API, as the portal calls it: the seller's ID token in Authorization, JSON in and out,
// and the signed-in seller kept in sessionStorage (one tab, one seller). Every refusal becomes an
// ApiProblem carrying the problem document (its `code`, `status`, `errors`); words.js says it in words.

let config = null;

export class ApiProblem extends Error {
  constructor(status, problem) {
    super(`HTTP ${status}${problem.code ? ` ${problem.code}` : ""}`);
    this.status = status;
    this.code = problem.code || null;
    this.detail = problem.detail || problem.message || "";
    this.errors = problem.errors || [];
  }
}

export async function loadConfig() {
  if (!config) {
    const answer = await fetch("config.json", { cache: "no-store" });
    config = await answer.json();
  }
  return config;
}

export function token() {
  return sessionStorage.getItem("id_token");
}

export function seller() {
  return sessionStorage.getItem("seller_id");
}

export async function signIn(sellerId) {
  const { apiUrl } = await loadConfig();
  const answer = await call(`${apiUrl}/_local/tokens`, { method: "POST", body: JSON.stringify({ seller_id: sellerId }) }, false);
  sessionStorage.clear(); // another seller's list pages must not survive a switch
  sessionStorage.setItem("id_token", answer.body.id_token);
  sessionStorage.setItem("seller_id", sellerId);
}

export function signOut() {
  sessionStorage.clear();
}

export async function request(method, path, { body, headers } = {}) {
  const { apiUrl } = await loadConfig();
  const init = { method, headers: { ...(headers || {}) } };
  if (body !== undefined) init.body = JSON.stringify(body);
  return call(`${apiUrl}${path}`, init, true);
}

async function call(url, init, signed) {
  init.headers = { ...(init.headers || {}) };
  if (init.body !== undefined) init.headers["Content-Type"] = "application/json";
  if (signed) init.headers["Authorization"] = token() || "";
  let answer;
  try {
    answer = await fetch(url, init);
  } catch (error) {
    throw new ApiProblem(0, {}); // down, or the API does not allow this page's origin (CORS)
  }
  const text = await answer.text();
  let document = null;
  try {
    document = text ? JSON.parse(text) : null;
  } catch (error) {
    document = { detail: text };
  }
  if (signed && answer.status === 401) signOut(); // the token is no good: the seller signs in again
  if (!answer.ok) throw new ApiProblem(answer.status, document || {});
  return { status: answer.status, body: document, etag: answer.headers.get("ETag") };
}
