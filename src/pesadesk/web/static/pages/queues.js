// The two queues a person works through: money to place (unallocated Paybill payments)
// and payments flagged for review. Shown on Overview and reused by the payment page.

import { api, query } from "../api.js";
import { h, kes, link, onSubmit, phone, pill, table, when } from "../ui.js";

async function targets() {
  const options = [];
  const invoices = await api(`/api/invoices${query({ limit: 200 })}`);
  for (const i of invoices.data) {
    if (i.status === "UNPAID" || i.status === "PARTIALLY_PAID") {
      options.push(h("option", { value: i.invoice_id }, `${i.customer_id || ""} owes ${kes(i.balance)}`));
    }
  }
  const customers = await api(`/api/customers${query({ limit: 200 })}`);
  for (const c of customers.data) options.push(h("option", { value: c.customer_id }, c.name));
  return h("datalist", { id: "place-targets" }, options);
}

function payer(p) {
  return p.payer_name || phone(p.phone) || "an unknown payer";
}

/** Unallocated payments, each with a Place payment form for an operator. */
export async function placeForm(ctx, status, reload) {
  const rows = (await api(`/api/payments${query({ status: "unallocated", limit: 100 })}`)).data;
  const canPlace = ctx.can("operator");
  const place = (p) => {
    if (!canPlace) return "";
    const input = h("input", {
      name: "target", required: true, list: "place-targets", autocomplete: "off",
      placeholder: "INV-… or CUST-…", "aria-label": `Place ${p.receipt || p.id} on (invoice or customer)`,
    });
    const form = h("form", { class: "inline" }, input, h("button", { type: "submit", dataset: { focus: `place-${p.id}` } }, "Place payment"));
    return onSubmit(form, status, async (data) => {
      const target = String(data.get("target")).trim();
      const body = target.toUpperCase().startsWith("INV-") ? { invoice_id: target } : { customer_id: target };
      await api(`/api/payments/${encodeURIComponent(p.id)}/allocate`, { method: "POST", body });
      input.value = "";
      await reload();
      status.say(`${kes(p.amount)} (${p.receipt}) placed on ${target}.`);
    });
  };
  const list = table({
    label: "Money to place",
    rows,
    rowKey: (p) => p.id,
    empty: "Nothing to place: every payment found its invoice or customer.",
    columns: [
      { label: "Paid", value: (p) => when(p.paid_at || p.created_at) },
      { label: "Receipt", value: (p) => link(`#/payments/${encodeURIComponent(p.id)}`, p.receipt || p.id) },
      { label: "From", value: payer },
      { label: "Account typed", value: (p) => p.reference || "(blank)" },
      { label: "Amount", value: (p) => kes(p.amount), num: true },
      ...(canPlace ? [{ label: "Place on", value: place }] : []),
    ],
  });
  return canPlace && rows.length ? [await targets(), list] : [list];
}

/** Why a payment waits for a person, in plain words (`order`: its order, when it has one). */
export function reviewWords(p, order = null) {
  const what = `${kes(p.amount)} from ${payer(p)}${p.receipt ? ` (receipt ${p.receipt})` : ""}`;
  const note = p.result_desc ? String(p.result_desc).trim().replace(/\.+$/, "") : "";
  const why = note ? ` M-Pesa said: “${note}”.` : "";
  if (p.status === "processing") return `${what}: M-Pesa has not told us whether this prompt was paid.${why}`;
  if (order && order.status === "cancelled") {
    return `${what} arrived for Order #${order.id}, which had been cancelled. Deliver it after all, or refund the money.`;
  }
  if (p.order_id) {
    const now = order ? ` (now ${order.status})` : "";
    return `${what} for Order #${p.order_id}${now} is ${p.status}, but pesadesk did not confirm the order by itself.${why}`;
  }
  return `${what} is ${p.status}, but pesadesk did not place it by itself.${why}`;
}

/** A Close review form (admin) for one payment. */
export function closeReviewForm(p, status, reload) {
  const input = h("input", { name: "note", required: true, maxlength: "500", placeholder: "What was done", "aria-label": `Note on the review of ${p.receipt || p.id}` });
  const form = h("form", { class: "inline" }, input, h("button", { type: "submit", dataset: { focus: `review-${p.id}` } }, "Close review"));
  return onSubmit(form, status, async (data) => {
    await api(`/api/payments/${encodeURIComponent(p.id)}/review`, { method: "POST", body: { note: String(data.get("note")).trim() } });
    input.value = "";
    await reload();
    status.say(`Review of ${p.receipt || p.id} closed.`);
  });
}

/** Payments flagged for review, explained, with Close review for an admin. */
export async function reviewList(ctx, status, reload) {
  const rows = (await api(`/api/payments${query({ needs_review: "true", limit: 100 })}`)).data;
  const orders = new Map();
  await Promise.all([...new Set(rows.map((p) => p.order_id).filter((id) => id !== null))].map(async (id) => {
    try { orders.set(id, await api(`/api/orders/${id}`)); } catch { /* the words do without it */ }
  }));
  return table({
    label: "Payments that need a look",
    rows,
    rowKey: (p) => p.id,
    empty: "Nothing needs a look.",
    columns: [
      { label: "Payment", value: (p) => h("span", {}, link(`#/payments/${encodeURIComponent(p.id)}`, p.receipt || p.id), " ", pill(p.status)) },
      { label: "What happened", value: (p) => reviewWords(p, orders.get(p.order_id)) },
      { label: "Decision", value: (p) => (ctx.can("admin") ? closeReviewForm(p, status, reload) : "An admin closes reviews.") },
    ],
  });
}
