// Two small charts drawn as inline SVG (no chart library): takings per day by source
// with refunds below the line, and the share of payment attempts that succeeded.
// Each comes with its numbers in a table for people who do not read charts.

import { h, kes, shortDay, table, uid } from "./ui.js";

const NS = "http://www.w3.org/2000/svg";
// Drawn for the screen at hand so that labels keep a readable size on a phone.
let W = 640;
const H = 220;
const PAD = { left: 64, right: 8, top: 12, bottom: 28 };

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, String(value));
  for (const child of children.flat()) if (child) el.append(child);
  return el;
}

function text(x, y, value, anchor = "end", cls = "tick") {
  const el = s("text", { x, y, "text-anchor": anchor, class: cls });
  el.textContent = value;
  return el;
}

function cents(amount) { return Math.round(Number(amount || 0) * 100); }

function compact(c) {
  const shillings = c / 100;
  if (Math.abs(shillings) >= 1e6) return `${(shillings / 1e6).toFixed(1)}M`;
  if (Math.abs(shillings) >= 1e4) return `${Math.round(shillings / 1000)}k`;
  return Math.round(shillings).toLocaleString("en-US");
}

function frame(caption, svg, legend, numbers) {
  const id = uid("chart");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-labelledby", id);
  return h("figure", { class: "chart" },
    h("figcaption", { id }, caption),
    svg,
    h("ul", { class: "legend" }, legend.map(([cls, label]) => h("li", {}, h("span", { class: `swatch ${cls}` }), label))),
    h("details", {}, h("summary", {}, "Show the numbers"), numbers));
}

function xLabels(days, step) {
  const every = Math.max(1, Math.ceil(days.length / 8));
  return days.map((d, i) => (i % every === 0 || i === days.length - 1)
    ? text(PAD.left + step * (i + 0.5), H - 8, shortDay(d.date), "middle") : null);
}

function fit() {
  W = window.innerWidth < 640 ? 360 : 640;
}

/** Bars of money received per day (STK and C2B stacked), refunds drawn below zero. */
export function takingsChart(days) {
  fit();
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const rows = days.map((d) => ({ ...d, s: cents(d.stk), c: cents(d.c2b), r: cents(d.refunded) }));
  const top = Math.max(100, ...rows.map((d) => d.s + d.c));
  const bottom = Math.max(0, ...rows.map((d) => d.r));
  const scale = plotH / (top + bottom);
  const zero = PAD.top + top * scale;
  const step = plotW / Math.max(1, rows.length);
  const bar = Math.max(2, step * 0.7);
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, class: "plot" });
  svg.append(s("line", { x1: PAD.left, x2: W - PAD.right, y1: zero, y2: zero, class: "axis" }));
  for (const value of [top, top / 2, ...(bottom ? [-bottom] : [])]) {
    const y = zero - value * scale;
    svg.append(s("line", { x1: PAD.left, x2: W - PAD.right, y1: y, y2: y, class: "gridline" }));
    svg.append(text(PAD.left - 6, y + 4, compact(value)));
  }
  svg.append(text(PAD.left - 6, zero + 4, "0"));
  rows.forEach((d, i) => {
    const x = PAD.left + step * i + (step - bar) / 2;
    const title = s("title");
    title.textContent = `${shortDay(d.date)}: STK ${kes(d.s / 100)}, C2B ${kes(d.c / 100)}, refunded ${kes(d.r / 100)}, net ${kes(d.net)}`;
    svg.append(s("g", { class: "day" }, title,
      d.s ? s("rect", { x, y: zero - d.s * scale, width: bar, height: d.s * scale, class: "stk" }) : null,
      d.c ? s("rect", { x, y: zero - (d.s + d.c) * scale, width: bar, height: d.c * scale, class: "c2b" }) : null,
      d.r ? s("rect", { x, y: zero, width: bar, height: d.r * scale, class: "refund" }) : null));
  });
  svg.append(...xLabels(rows, step).filter(Boolean));
  const numbers = table({
    label: "Takings per day",
    rows: [...days].reverse(),
    columns: [
      { label: "Day", value: (d) => shortDay(d.date) },
      { label: "STK", value: (d) => kes(d.stk), num: true },
      { label: "C2B", value: (d) => kes(d.c2b), num: true },
      { label: "Refunded", value: (d) => kes(d.refunded), num: true },
      { label: "Net", value: (d) => kes(d.net), num: true },
    ],
  });
  return frame("Takings per day, net of refunds", svg,
    [["stk", "M-Pesa prompts (STK)"], ["c2b", "Paybill (C2B)"], ["refund", "Refunded"]], numbers);
}

/** The share of payment attempts each day that brought money in. */
export function successChart(days) {
  fit();
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const step = plotW / Math.max(1, days.length);
  const y = (rate) => PAD.top + plotH * (1 - rate);
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, class: "plot" });
  for (const rate of [0, 0.5, 1]) {
    svg.append(s("line", { x1: PAD.left, x2: W - PAD.right, y1: y(rate), y2: y(rate), class: rate ? "gridline" : "axis" }));
    svg.append(text(PAD.left - 6, y(rate) + 4, `${rate * 100}%`));
  }
  const points = days.map((d, i) => (d.success_rate === null || d.success_rate === undefined)
    ? null : [PAD.left + step * (i + 0.5), y(Number(d.success_rate)), d]).filter(Boolean);
  if (points.length > 1) {
    svg.append(s("polyline", { points: points.map(([px, py]) => `${px},${py}`).join(" "), class: "rate" }));
  }
  for (const [px, py, d] of points) {
    const title = s("title");
    title.textContent = `${shortDay(d.date)}: ${Math.round(d.success_rate * 100)}% of ${d.payments} payment attempts succeeded`;
    svg.append(s("circle", { cx: px, cy: py, r: 4, class: "rate-dot" }, title));
  }
  svg.append(...xLabels(days, step).filter(Boolean));
  const numbers = table({
    label: "Payment success rate per day",
    rows: [...days].reverse(),
    columns: [
      { label: "Day", value: (d) => shortDay(d.date) },
      { label: "Attempts", value: (d) => String(d.payments), num: true },
      { label: "Succeeded", value: (d) => String(d.completed_payments), num: true },
      { label: "Rate", value: (d) => (d.success_rate === null ? "–" : `${Math.round(d.success_rate * 100)}%`), num: true },
    ],
  });
  return frame("Payment success rate", svg, [["rate", "Share of attempts paid"]], numbers);
}

/** Every day from `from` to `to`, filled from the API's rows (days without payments are
 *  zeros), with the per-source figures derived when the server does not send them. */
export function fillDays(rows, from, to) {
  const byDay = new Map(rows.map((r) => [r.date, r]));
  const out = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += 86400000) {
    const date = new Date(t).toISOString().slice(0, 10);
    const r = byDay.get(date) || {};
    const received = cents(r.amount_received);
    const stk = r.stk !== undefined ? cents(r.stk) : received;
    const c2b = r.c2b !== undefined ? cents(r.c2b) : 0;
    const refunded = cents(r.refunded);
    const tried = (r.completed_payments || 0) + (r.failed_payments || 0);
    const rate = r.success_rate !== undefined ? r.success_rate : (tried ? r.completed_payments / tried : null);
    out.push({
      date, stk: stk / 100, c2b: c2b / 100, refunded: refunded / 100,
      net: r.net !== undefined ? r.net : (stk + c2b - refunded) / 100,
      payments: r.payments || 0, completed_payments: r.completed_payments || 0, success_rate: rate,
    });
  }
  return out;
}
