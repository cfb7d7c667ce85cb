// Small DOM helpers shared by every page: element building, money and East Africa Time
// formatting, tables that turn into cards on a phone, and regions that refresh live
// without disturbing what a person is typing.

let nextId = 0;

/** Build an element: h("button", {type: "button", onclick}, "Label"). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") el.className = value;
    else if (name === "text") el.textContent = value;
    else if (name === "dataset") Object.assign(el.dataset, value);
    else if (name.startsWith("on") && typeof value === "function") el.addEventListener(name.slice(2), value);
    else if (name in el && typeof value !== "string") el[name] = value;
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false || child === "") continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

export function uid(prefix = "f") {
  nextId += 1;
  return `${prefix}-${nextId}`;
}

// ---- money and time -------------------------------------------------------------------

/** KES 1,234.00 from a JSON amount in shillings (at most two decimals). */
export function kes(amount) {
  if (amount === null || amount === undefined || amount === "") return "";
  const cents = Math.round(Number(amount) * 100);
  const sign = cents < 0 ? "-" : "";
  const whole = Math.floor(Math.abs(cents) / 100);
  const part = String(Math.abs(cents) % 100).padStart(2, "0");
  return `${sign}KES ${whole.toLocaleString("en-US")}.${part}`;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const EAT_MS = 3 * 3600 * 1000;

function eatParts(date) {
  const shifted = new Date(date.getTime() + EAT_MS);
  return {
    y: shifted.getUTCFullYear(), m: shifted.getUTCMonth(), d: shifted.getUTCDate(),
    hh: String(shifted.getUTCHours()).padStart(2, "0"),
    mm: String(shifted.getUTCMinutes()).padStart(2, "0"),
  };
}

/** "6 Feb 2026, 12:00" in East Africa Time, from ISO-8601 or the seed's EAT text. */
export function when(value) {
  if (!value) return "";
  let date;
  if (/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})?$/.test(value)) {
    date = new Date(value.replace(" ", "T") + "+03:00");  // seed fields are already EAT
  } else {
    date = new Date(value);
  }
  if (Number.isNaN(date.getTime())) return String(value);
  const p = eatParts(date);
  return `${p.d} ${MONTHS[p.m]} ${p.y}, ${p.hh}:${p.mm}`;
}

/** "6 Feb" from YYYY-MM-DD. */
export function shortDay(isoDay) {
  const [, m, d] = isoDay.split("-").map(Number);
  return `${d} ${MONTHS[m - 1]}`;
}

/** Today's date in Nairobi as YYYY-MM-DD, `offsetDays` from today. */
export function eatDay(offsetDays = 0) {
  return new Date(Date.now() + EAT_MS + offsetDays * 86400000).toISOString().slice(0, 10);
}

export function phone(value) {
  return value ? (/^\d{12}$/.test(value) ? `+${value}` : value) : "";
}

// ---- building blocks ------------------------------------------------------------------

const STATUS_WORDS = {
  processing: "processing", completed: "completed", failed: "failed", cancelled: "cancelled",
  timeout: "timed out", unallocated: "to place", refunded: "refunded",
  partially_refunded: "partly refunded", pending_approval: "waiting for approval",
  rejected: "rejected", pending: "pending", confirmed: "confirmed", preparing: "preparing",
  delivered: "delivered", UNPAID: "unpaid", PARTIALLY_PAID: "partly paid", PAID: "paid",
  CANCELLED: "cancelled", pending_verification: "being verified",
};

export function pill(status, label) {
  return h("span", { class: `pill s-${status}` }, label || STATUS_WORDS[status] || status);
}

/** A table whose cells carry their column name, so CSS can stack rows on a phone. */
export function table({ label, columns, rows, empty = "Nothing here yet.", rowKey }) {
  const head = h("tr", {}, columns.map((c) => h("th", { scope: "col", class: c.num ? "num" : null }, c.label)));
  const body = rows.length
    ? rows.map((row) => h("tr", { dataset: rowKey ? { key: rowKey(row) } : {} },
        columns.map((c) => h("td", { class: c.num ? "num" : null, "data-label": c.label }, c.value(row)))))
    : [h("tr", { class: "empty" }, h("td", { colspan: String(columns.length) }, empty))];
  return h("table", { class: "grid", "aria-label": label }, h("thead", {}, head), h("tbody", {}, body));
}

/** A labelled control; returns [wrapper, control]. */
export function field(label, control, hint) {
  control.id = control.id || uid();
  const wrap = h("div", { class: "field" }, h("label", { for: control.id }, label), control);
  if (hint) {
    const hintId = uid("hint");
    control.setAttribute("aria-describedby", hintId);
    wrap.append(h("small", { id: hintId, class: "hint" }, hint));
  }
  return [wrap, control];
}

export function select(options, value) {
  const el = h("select", {}, options.map(([v, text]) => h("option", { value: v }, text)));
  el.value = value ?? "";
  for (const opt of el.options) opt.defaultSelected = opt.value === el.value;
  return el;
}

export function dl(pairs) {
  return h("dl", { class: "facts" },
    pairs.filter(([, v]) => v !== null && v !== undefined && v !== "")
      .map(([k, v]) => h("div", {}, h("dt", {}, k), h("dd", {}, v))));
}

/** A status line: role="status" so screen readers hear results without moving focus. */
export function statusLine() {
  const el = h("p", { role: "status", class: "status", "aria-live": "polite" });
  el.say = (text, kind = "ok") => { el.textContent = text; el.className = `status ${kind}`; };
  return el;
}

export function section(title, ...children) {
  const id = uid("h");
  return h("section", { class: "card", "aria-labelledby": id }, h("h2", { id }, title), children);
}

export function link(hash, text) {
  return h("a", { href: hash }, text);
}

/** A submit handler that disables the form's buttons while the request runs and reports
 *  any error on the status line (one clear sentence). */
export function onSubmit(form, status, work) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const buttons = [...form.querySelectorAll("button")];
    buttons.forEach((b) => { b.disabled = true; });
    try {
      await work(new FormData(form));
    } catch (error) {
      status.say(error.message || String(error), "error");
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  });
  return form;
}

/** A button whose click runs `work`, reporting failures on `status`. */
export function action(label, status, work, attrs = {}) {
  const button = h("button", { type: "button", ...attrs }, label);
  button.addEventListener("click", async () => {
    button.disabled = true;
    try { await work(button); } catch (error) { status.say(error.message || String(error), "error"); }
    finally { button.disabled = false; }
  });
  return button;
}

// ---- live regions ---------------------------------------------------------------------

function dirty(control) {
  if (control.type === "checkbox" || control.type === "radio") return control.checked !== control.defaultChecked;
  if (control.tagName === "SELECT") return [...control.options].some((o) => o.selected !== o.defaultSelected);
  if (control.type === "file") return control.files && control.files.length > 0;
  return control.value !== control.defaultValue;
}

/** A part of a page that reloads itself on the live tick (`load(force)` builds its
 *  content; `undefined` leaves it as it is). It waits while a person is
 *  typing in it (an input with focus or content), or has a detail opened in it, and keeps
 *  keyboard focus on the same button or link when it does reload. */
export class Live {
  constructor(el, load) {
    this.el = el;
    this.load = load;
  }

  busy() {
    const active = document.activeElement;
    if (active && this.el.contains(active) && active.matches("input, textarea, select")) return true;
    if (this.el.querySelector("details[open]")) return true;
    return [...this.el.querySelectorAll("input, textarea, select")].some(dirty);
  }

  /** Reload now (`force`: even while busy, after the person's own action). The answer
   *  of the latest call wins, so a slow earlier load never overwrites a newer one. */
  async refresh(force = false) {
    if (!force && this.busy()) return false;
    const mine = (this.calls = (this.calls || 0) + 1);
    if (force) this.el.setAttribute("aria-busy", "true");
    let content;
    try {
      content = await this.load(force);
    } catch (error) {
      if (!force || mine !== this.calls) return false;  // a tick's failure: try again later
      content = h("p", { class: "status error", role: "alert" }, error.message || String(error));
    } finally {
      if (mine === this.calls) this.el.removeAttribute("aria-busy");
    }
    if (content === undefined || mine !== this.calls || (!force && this.busy())) return false;
    const active = document.activeElement;
    const key = active && this.el.contains(active) ? active.dataset.focus : null;
    this.el.replaceChildren(...[content].flat());
    if (key) {
      const again = this.el.querySelector(`[data-focus="${CSS.escape(key)}"]`);
      if (again) again.focus({ preventScroll: true });
    }
    return true;
  }
}
