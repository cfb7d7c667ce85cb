// One payment: what it is, where the money went, its refunds (with a Refund form), its
// ledger legs and the raw callbacks M-Pesa sent about it.

import { api, query } from "../api.js";
import { dl, field, h, kes, link, onSubmit, phone, pill, section, statusLine, table, when } from "../ui.js";
import { closeReviewForm, reviewWords } from "./queues.js";
import { refundTable } from "./refunds.js";

const REFUNDABLE = new Set(["completed", "partially_refunded"]);

function summary(p) {
  const placed = [
    p.invoice_id ? link(`#/invoices?q=${encodeURIComponent(p.invoice_id)}`, p.invoice_id) : null,
    p.customer_id ? link(`#/customers/${encodeURIComponent(p.customer_id)}`, p.customer_id) : null,
    p.pos_id || null,
    p.order_id !== null && p.order_id !== undefined ? link(`#/orders`, `Order #${p.order_id}`) : null,
  ].filter(Boolean);
  return dl([
    ["Amount", kes(p.amount)],
    ["Status", h("span", {}, pill(p.status), p.needs_review ? [" ", pill("review", "needs a look")] : null)],
    ["Receipt", p.receipt || "–"],
    ["From", [p.payer_name, phone(p.phone)].filter(Boolean).join(" · ") || "–"],
    ["Reference", p.reference],
    ["Source", p.source === "c2b" ? "Paybill (C2B)" : "M-Pesa prompt (STK)"],
    ["Account", p.account ? `${p.account}${p.shortcode ? ` (${p.shortcode})` : ""}` : null],
    ["Placed on", placed.length ? h("span", {}, placed.flatMap((x, i) => (i ? [", ", x] : [x]))) : (p.status === "unallocated" ? "Not placed yet" : "–")],
    ["Not yet placed", Number(p.unplaced_amount) ? kes(p.unplaced_amount) : null],
    ["Paid (M-Pesa's time)", when(p.paid_at)],
    ["Recorded", when(p.created_at)],
    ["Last change", when(p.updated_at)],
    ["M-Pesa reference", h("span", { class: "mono" }, p.provider_ref || "–")],
    ["M-Pesa said", p.result_desc],
  ]);
}

function refundForm(p, refunded, status, reload) {
  const left = Math.round(Number(p.amount) * 100) - refunded;
  const [amountField, amount] = field("Amount to refund (KES)", h("input", { name: "amount", type: "number", min: "1", step: "0.01", required: true, value: String(left / 100) }), `Up to ${kes(left / 100)} is left to refund.`);
  const [reasonField] = field("Reason", h("input", { name: "reason", maxlength: "300", autocomplete: "off", placeholder: "Why the money goes back" }));
  const form = h("form", { class: "stack", "aria-label": "Refund this payment" }, amountField, reasonField,
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Refund")));
  return onSubmit(form, status, async (data) => {
    const answer = await api(`/api/payments/${encodeURIComponent(p.id)}/refund`, {
      method: "POST",
      body: { amount: Number(data.get("amount")), reason: String(data.get("reason") || "").trim() || undefined },
    });
    const words = answer.status === "pending_approval"
      ? `Refund ${answer.refund_id} of ${kes(data.get("amount"))} waits for a second admin's approval.`
      : answer.message || `Refund ${answer.refund_id} is ${answer.status}.`;
    status.say(words);
    form.reset();
    amount.value = "";
    await reload();
  });
}

async function ledger(p) {
  const legs = (await api(`/api/payments/${encodeURIComponent(p.id)}/ledger`)).data;
  return table({
    label: "Ledger legs",
    rows: legs,
    empty: "No ledger legs: no money moved for this payment.",
    columns: [
      { label: "Journal", value: (l) => String(l.journal_id) },
      { label: "What", value: (l) => l.kind },
      { label: "Account", value: (l) => h("span", { class: "mono" }, l.account) },
      { label: "For", value: (l) => l.invoice_id || l.customer_id || "" },
      { label: "Debit", value: (l) => (Number(l.debit) ? kes(l.debit) : ""), num: true },
      { label: "Credit", value: (l) => (Number(l.credit) ? kes(l.credit) : ""), num: true },
      { label: "When", value: (l) => when(l.created_at) },
    ],
  });
}

function pretty(raw) {
  try { return JSON.stringify(JSON.parse(raw), null, 2); } catch { return raw; }
}

async function callbacks(p) {
  const logs = p.provider_ref
    ? (await api(`/api/webhooks/logs${query({ external_id: p.provider_ref, limit: 50 })}`)).data
    : [];
  if (!logs.length) return h("p", { class: "lead" }, "No callbacks are stored for this payment.");
  return h("div", {}, logs.map((l) => h("details", {},
    h("summary", {}, `#${l.id} ${l.source} · ${when(l.received_at)}${l.flagged ? " · flagged" : ""}${l.error ? ` · ${l.error}` : ""}`),
    h("pre", { class: "raw" }, pretty(l.raw_payload)))));
}

export async function render(ctx, paymentId) {
  const { root } = ctx;
  const status = statusLine();
  const p = await api(`/api/payments/${encodeURIComponent(paymentId)}`);
  const refundsBox = h("div");
  const formBox = h("div");
  const top = h("div");
  let refundsRegion = null;
  let refunded = 0;
  const loadRefunds = async () => {
    const rows = (await api(`/api/refunds${query({ payment_id: p.id, limit: 100 })}`)).data;
    refunded = rows.filter((r) => !["failed", "rejected"].includes(r.status)).reduce((sum, r) => sum + Math.round(Number(r.amount) * 100), 0);
    return refundTable(ctx, rows, status, () => refundsRegion.refresh(true));
  };
  root.append(h("p", {}, link("#/payments", "← All payments")), h("h1", {}, `Payment ${p.receipt || p.id}`), status, top);
  const topRegion = ctx.live(top, async () => section("Details", summary(await api(`/api/payments/${encodeURIComponent(p.id)}`))));
  if (p.needs_review) {
    const order = p.order_id !== null ? await api(`/api/orders/${p.order_id}`) : null;
    root.append(section("Needs a look", h("p", {}, reviewWords(p, order)),
      ctx.can("admin") ? closeReviewForm(p, status, async () => { await topRegion.refresh(true); }) : h("p", { class: "lead" }, "An admin closes reviews.")));
  }
  root.append(section("Refunds", refundsBox, formBox));
  refundsRegion = ctx.live(refundsBox, loadRefunds);
  await refundsRegion.ready;  // the form offers what is left to refund
  if (ctx.can("operator") && REFUNDABLE.has(p.status)) {
    formBox.append(h("h3", {}, "Refund part or all of it"),
      refundForm(p, refunded, status, async () => { await refundsRegion.refresh(true); await topRegion.refresh(true); }));
  }
  const legs = h("div");
  const hooks = h("div");
  root.append(section("Ledger", legs), section("Raw callbacks", hooks));
  ctx.live(legs, () => ledger(p));
  hooks.append(await callbacks(p));
}
