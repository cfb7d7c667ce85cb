// The JSON API as the dashboard uses it: the key lives in this tab's sessionStorage only
// and goes out as `Authorization: Bearer`, never in a URL.

const KEY = "pesadesk-key";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export const session = {
  key: () => sessionStorage.getItem(KEY),
  set: (key) => sessionStorage.setItem(KEY, key),
  clear: () => sessionStorage.removeItem(KEY),
};

let onUnauthorized = () => {};
export function whenUnauthorized(handler) { onUnauthorized = handler; }

function headers(extra = {}) {
  return { Authorization: `Bearer ${session.key() || ""}`, ...extra };
}

async function fail(answer) {
  let body = null;
  try { body = await answer.json(); } catch { /* not JSON: the status says enough */ }
  const message = (body && (body.error || body.message)) || `${answer.status} ${answer.statusText}`;
  const error = new ApiError(answer.status, body && body.code, message);
  if (answer.status === 401) onUnauthorized(error);
  throw error;
}

/** Call the API; JSON in, JSON out. `form` sends multipart (statement uploads). */
export async function api(path, { method = "GET", body, form } = {}) {
  const init = { method, headers: headers() };
  if (form) init.body = form;
  else if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const answer = await fetch(path, init);
  if (!answer.ok) await fail(answer);
  if (answer.status === 204) return null;
  return answer.json();
}

/** A file from the API (CSV export) handed to the browser as a download. */
export async function download(path, filename) {
  const answer = await fetch(path, { headers: headers() });
  if (!answer.ok) await fail(answer);
  const url = URL.createObjectURL(await answer.blob());
  const anchor = document.createElement("a");
  anchor.href = url;
  anchor.download = filename;
  document.body.append(anchor);
  anchor.click();
  anchor.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/** A query string from the values that are set. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(name, value);
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

/** Which endpoints this pesadesk has (from its OpenAPI document), so that a feature
 *  still to come (webhook endpoints) shows only where the server has it, and the desk
 *  never sends a request that must fail. */
export async function features() {
  const answer = await fetch("/openapi.json");
  const doc = answer.ok ? await answer.json() : { paths: {} };
  const have = new Set();
  for (const [path, ops] of Object.entries(doc.paths || {})) {
    for (const verb of Object.keys(ops)) have.add(`${verb.toUpperCase()} ${path}`);
  }
  return { has: (verb, path) => have.has(`${verb} ${path}`) };
}
