// The desk: log in with an API key, then a page per hash route (#/payments/PAY-…),
// rendered from the JSON API. Lists refresh every few seconds; forms never do.

import { api, features, session, whenUnauthorized } from "./api.js";
import { h, Live } from "./ui.js";

const PAGES = {
  overview: () => import("./pages/overview.js"),
  orders: () => import("./pages/orders.js"),
  payments: () => import("./pages/payments.js"),
  customers: () => import("./pages/customers.js"),
  invoices: () => import("./pages/invoices.js"),
  refunds: () => import("./pages/refunds.js"),
  reconciliation: () => import("./pages/reconciliation.js"),
  callbacks: () => import("./pages/callbacks.js"),
  settings: () => import("./pages/settings.js"),
};
const ROLES = ["viewer", "operator", "admin"];
const REFRESH_MS = Number(sessionStorage.getItem("pesadesk-refresh-ms")) || 10000;

const $ = (id) => document.getElementById(id);
let me = null;
let server = null;
let lives = [];
let generation = 0;

async function whoAmI() {
  return api("/api/me");
}

function route() {
  const [path, search] = location.hash.replace(/^#\/?/, "").split("?");
  const [page, ...rest] = path.split("/").map(decodeURIComponent);
  return { page: PAGES[page] ? page : "overview", params: rest, query: new URLSearchParams(search || "") };
}

function context(root, where) {
  return {
    me,
    server,
    root,
    params: where.params,
    query: where.query,
    can: (role) => ROLES.indexOf(me.role) >= ROLES.indexOf(role),
    /** Register a live region and start filling it (`region.ready` settles when the
     *  first load is in), so the page's controls work while lists still load. */
    live(el, load) {
      const region = new Live(el, load);
      lives.push(region);
      region.ready = region.refresh(true);
      return region;
    },
    /** Keep a page's filters in the address without reloading the page. */
    remember(params) {
      const search = new URLSearchParams(Object.entries(params).filter(([, v]) => v));
      const text = search.toString();
      history.replaceState(null, "", `#/${where.page}${where.params.length ? `/${where.params.map(encodeURIComponent).join("/")}` : ""}${text ? `?${text}` : ""}`);
    },
  };
}

async function show() {
  const where = route();
  const mine = ++generation;
  lives = [];
  for (const a of document.querySelectorAll("#nav a")) {
    if (a.getAttribute("href") === `#/${where.page}`) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  const root = h("div", { class: "page" });
  $("page").setAttribute("aria-busy", "true");
  const page = await PAGES[where.page]();
  if (mine !== generation) return;
  $("page").replaceChildren(root);
  try {
    await page.render(context(root, where));
  } catch (error) {
    if (mine !== generation) return;
    root.append(h("p", { class: "status error", role: "alert" }, error.message || String(error)));
  }
  if (mine !== generation) return;
  $("page").removeAttribute("aria-busy");
  const title = root.querySelector("h1");
  document.title = title ? `${title.textContent} – pesadesk` : "pesadesk";
  if (title) { title.tabIndex = -1; title.focus({ preventScroll: true }); }
}

async function tick() {
  if (document.hidden || !me) return;
  const mine = generation;
  for (const region of lives) {
    if (mine !== generation) return;
    try { await region.refresh(); } catch { /* the next tick tries again */ }
  }
}

function showLogin(message = "") {
  me = null;
  $("desk").hidden = true;
  $("nav").hidden = true;
  $("logout").hidden = true;
  $("who").textContent = "";
  $("login").hidden = false;
  $("login-error").textContent = message;
  $("key").value = "";
}

async function openDesk() {
  try {
    server = await features();
    me = await whoAmI();
  } catch (error) {
    session.clear();
    showLogin(error.status === 401 || error.message.includes("API key") ? "That API key is not known, or it was revoked." : error.message);
    return;
  }
  $("who").textContent = `${me.owner || me.name} · ${me.role}`;
  for (const a of document.querySelectorAll("#nav [data-role]")) a.hidden = ROLES.indexOf(me.role) < ROLES.indexOf(a.dataset.role);
  $("login").hidden = true;
  $("nav").hidden = false;
  $("desk").hidden = false;
  $("logout").hidden = false;
  if (!location.hash) history.replaceState(null, "", "#/overview");
  await show();
}

function start() {
  whenUnauthorized(() => { session.clear(); showLogin("Your key is no longer accepted; log in again."); });
  $("login-form").addEventListener("submit", (event) => {
    event.preventDefault();
    session.set($("key").value.trim());
    $("key").value = "";
    openDesk();
  });
  $("logout").addEventListener("click", () => {
    session.clear();
    history.replaceState(null, "", location.pathname);
    showLogin("You are logged out.");
  });
  window.addEventListener("hashchange", () => { if (me) show(); });
  setInterval(tick, REFRESH_MS);
  // A key in the fragment (#key=…) logs in once and leaves the address at once;
  // fragments never reach the server.
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (fragment.get("key")) {
    session.set(fragment.get("key"));
    history.replaceState(null, "", location.pathname);
  }
  if (session.key()) openDesk(); else showLogin();
}

start();
