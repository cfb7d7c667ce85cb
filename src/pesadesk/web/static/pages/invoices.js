// Invoices: the list by status, and New invoice (also used from a customer's page).

import { api, query } from "../api.js";
import { field, h, kes, link, onSubmit, pill, section, select, statusLine, table, when } from "../ui.js";

/** A New invoice form; `customerId` fixed (a customer's page) or typed. */
export function invoiceForm(status, onCreated, customerId = null) {
  const controls = [];
  if (!customerId) {
    controls.push(field("Customer", h("input", { name: "customer_id", required: true, autocomplete: "off", placeholder: "CUST-001" }))[0]);
  }
  controls.push(
    field("Amount (KES)", h("input", { name: "amount", type: "number", min: "1", step: "0.01", required: true }))[0],
    field("Description", h("input", { name: "description", maxlength: "500", autocomplete: "off" }))[0],
  );
  const cancel = h("button", { type: "button", class: "quiet" }, "Cancel");
  const form = h("form", { class: "stack", "aria-label": "New invoice" }, controls,
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Create invoice"), cancel));
  cancel.addEventListener("click", () => { form.reset(); form.closest("[data-form]").hidden = true; });
  return onSubmit(form, status, async (data) => {
    const invoice = await api("/api/invoices", {
      method: "POST",
      body: {
        customer_id: customerId || String(data.get("customer_id")).trim(),
        amount: Number(data.get("amount")),
        description: String(data.get("description") || "").trim() || undefined,
      },
    });
    form.reset();
    form.closest("[data-form]").hidden = true;
    status.say(`Invoice ${invoice.invoice_id} for ${kes(invoice.amount)} created.`);
    await onCreated(invoice);
  });
}

/** A hidden New invoice form and the button that opens it (operators only). */
export function newInvoice(ctx, status, onCreated, customerId = null) {
  if (!ctx.can("operator")) return [null, ""];
  const box = h("div", { "data-form": "", hidden: true }, section("New invoice", invoiceForm(status, onCreated, customerId)));
  const button = h("button", {
    type: "button",
    onclick: () => { box.hidden = false; box.querySelector("input").focus(); },
  }, "New invoice");
  return [button, box];
}

export function invoiceTable(rows, empty = "No invoices.") {
  return table({
    label: "Invoices",
    rows,
    rowKey: (i) => i.invoice_id,
    empty,
    columns: [
      { label: "Invoice", value: (i) => i.invoice_id },
      { label: "Customer", value: (i) => (i.customer_id ? link(`#/customers/${encodeURIComponent(i.customer_id)}`, i.customer_id) : "") },
      { label: "Description", value: (i) => i.description || "" },
      { label: "Created", value: (i) => when(i.created_at) },
      { label: "Amount", value: (i) => kes(i.amount), num: true },
      { label: "Paid", value: (i) => kes(i.amount_paid), num: true },
      { label: "Owed", value: (i) => kes(i.balance), num: true },
      { label: "Status", value: (i) => pill(i.status) },
    ],
  });
}

export async function render(ctx) {
  const { root } = ctx;
  const status = statusLine();
  const list = h("div");
  const filter = select([["", "Any status"], ["UNPAID", "Unpaid"], ["PARTIALLY_PAID", "Partly paid"], ["PAID", "Paid"], ["CANCELLED", "Cancelled"]], ctx.query.get("status"));
  let region = null;
  const [button, box] = newInvoice(ctx, status, () => region.refresh(true));
  const wanted = (ctx.query.get("q") || "").toUpperCase();
  root.append(h("div", { class: "toolbar head" }, h("h1", { class: "grow" }, "Invoices"), button), status, box || "",
    section("Invoices", h("div", { class: "toolbar" }, field("Status", filter)[0]), list));
  region = ctx.live(list, async () => {
    const rows = (await api(`/api/invoices${query({ status: filter.value, limit: 200 })}`)).data;
    return invoiceTable(wanted ? rows.filter((i) => i.invoice_id === wanted) : rows);
  });
  filter.addEventListener("change", () => {
    for (const opt of filter.options) opt.defaultSelected = opt.selected;
    ctx.remember({ status: filter.value });
    region.refresh(true);
  });
}
