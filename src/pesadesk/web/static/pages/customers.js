// Customers: search, New customer, and each customer's statement of account with
// New invoice.

import { api, query } from "../api.js";
import { dl, field, h, kes, link, onSubmit, phone, section, statusLine, table, when } from "../ui.js";
import { newInvoice } from "./invoices.js";

function owes(c) {
  const balance = Number(c.balance);
  if (balance > 0) return `owes ${kes(balance)}`;
  if (balance < 0) return `${kes(-balance)} credit`;
  return "settled";
}

async function listCustomers(q) {
  return (await api(`/api/customers${query({ q, limit: 100 })}`)).data;
}

function customerForm(status, onCreated) {
  const form = h("form", { class: "stack", "aria-label": "New customer" },
    field("Name", h("input", { name: "name", required: true, maxlength: "200", autocomplete: "off" }))[0],
    field("Phone", h("input", { name: "phone", required: true, inputmode: "tel", autocomplete: "off", placeholder: "07XX XXX XXX" }))[0],
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Create customer")));
  return onSubmit(form, status, async (data) => {
    const customer = await api("/api/customers", { method: "POST", body: { name: String(data.get("name")).trim(), phone: String(data.get("phone")).trim() } });
    form.reset();
    form.closest("[data-form]").hidden = true;
    status.say(`${customer.name} is ${customer.customer_id}; payments to that account number land on them.`);
    await onCreated(customer);
  });
}

async function renderList(ctx) {
  const { root } = ctx;
  const status = statusLine();
  const list = h("div");
  const search = h("input", { type: "search", value: ctx.query.get("q") || "", autocomplete: "off", placeholder: "Name, phone or customer id" });
  const finder = h("form", { class: "toolbar", role: "search", "aria-label": "Find customers" },
    h("div", { class: "grow" }, field("Search", search)[0]), h("button", { type: "submit" }, "Find"));
  let region = null;
  const header = h("div", { class: "toolbar head" }, h("h1", { class: "grow" }, "Customers"));
  const box = h("div", { "data-form": "", hidden: true });
  if (ctx.can("operator")) {
    box.append(section("New customer", customerForm(status, () => region.refresh(true))));
    header.append(h("button", { type: "button", class: "quiet", onclick: () => { box.hidden = false; box.querySelector("input").focus(); } }, "New customer"));
  }
  root.append(header, status, box, section("Find a customer", finder), section("Customers", list));
  region = ctx.live(list, async () => table({
    label: "Customers",
    rows: await listCustomers(search.defaultValue.trim()),
    rowKey: (c) => c.customer_id,
    empty: "No customer matches.",
    columns: [
      { label: "Customer", value: (c) => link(`#/customers/${encodeURIComponent(c.customer_id)}`, c.customer_id) },
      { label: "Name", value: (c) => c.name },
      { label: "Phone", value: (c) => phone(c.phone) },
      { label: "Owes", value: (c) => (Number(c.balance) > 0 ? kes(c.balance) : ""), num: true },
      { label: "Credit", value: (c) => (Number(c.balance) < 0 ? kes(-Number(c.balance)) : ""), num: true },
    ],
  }));
  finder.addEventListener("submit", (event) => {
    event.preventDefault();
    search.defaultValue = search.value;
    ctx.remember({ q: search.value.trim() });
    region.refresh(true);
  });
}

async function statement(id) {
  const answer = await api(`/api/customers/${encodeURIComponent(id)}/statement`);
  const ref = (line) => (line.reference && line.reference.startsWith("PAY-")
    ? link(`#/payments/${encodeURIComponent(line.reference)}`, line.reference) : line.reference || "");
  return [
    table({
      label: "Statement of account",
      rows: answer.lines,
      empty: "Nothing on this account yet.",
      columns: [
        { label: "Date", value: (l) => when(l.date) },
        { label: "Reference", value: ref },
        { label: "Description", value: (l) => l.description || l.kind },
        { label: "Debit", value: (l) => (Number(l.debit) ? kes(l.debit) : ""), num: true },
        { label: "Credit", value: (l) => (Number(l.credit) ? kes(l.credit) : ""), num: true },
        { label: "Balance", value: (l) => kes(l.balance), num: true },
      ],
    }),
    h("p", {}, h("strong", {}, "Balance: "), kes(answer.balance)),
  ];
}

async function renderOne(ctx, id) {
  const { root } = ctx;
  const status = statusLine();
  const facts = h("div");
  const lines = h("div");
  let factsRegion = null;
  let linesRegion = null;
  const reload = async () => { await factsRegion.refresh(true); await linesRegion.refresh(true); };
  const first = await api(`/api/customers/${encodeURIComponent(id)}`);
  const [button, box] = newInvoice(ctx, status, reload, first.customer_id);
  root.append(h("p", {}, link("#/customers", "← All customers")),
    h("div", { class: "toolbar head" }, h("h1", { class: "grow" }, first.name), button), status, box, facts,
    section("Statement of account", lines));
  factsRegion = ctx.live(facts, async () => {
    const c = await api(`/api/customers/${encodeURIComponent(id)}`);
    return section("Account", dl([
      ["Customer id", c.customer_id], ["Phone", phone(c.phone)], ["Balance", owes(c)], ["Customer since", when(c.created_at)],
      ["Pays to", `Paybill account number ${c.customer_id}`],
    ]));
  });
  linesRegion = ctx.live(lines, () => statement(id));
}

export async function render(ctx) {
  if (ctx.params[0]) await renderOne(ctx, ctx.params[0]);
  else await renderList(ctx);
}
