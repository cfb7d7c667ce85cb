// Orders: the list, a New order form, and Send M-Pesa prompt with the prompt's status
// followed live until the customer pays, cancels or the prompt times out.

import { api, query } from "../api.js";
import { action, field, h, kes, onSubmit, phone, pill, section, select, statusLine, table, when } from "../ui.js";

const NEXT = {
  confirmed: [["preparing", "Mark preparing"]],
  preparing: [["delivered", "Mark delivered"]],
};
const OUTCOME = {
  completed: "paid",
  cancelled: "cancelled by the customer",
  timeout: "not answered in time",
  failed: "failed",
};

function newOrderForm(status, onCreated) {
  const [phoneField] = field("Customer phone", h("input", { name: "customer_phone", required: true, inputmode: "tel", autocomplete: "off", placeholder: "07XX XXX XXX" }));
  const [amountField] = field("Amount (KES)", h("input", { name: "amount", required: true, type: "number", min: "1", step: "1", inputmode: "numeric" }));
  const [placeField] = field("Delivery location", h("input", { name: "delivery_location", required: true, autocomplete: "off" }));
  const cancel = h("button", { type: "button", class: "quiet" }, "Cancel");
  const form = h("form", { class: "stack", "aria-label": "New order" }, phoneField, amountField, placeField,
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Create order"), cancel));
  cancel.addEventListener("click", () => { form.reset(); form.closest("[data-form]").hidden = true; });
  return onSubmit(form, status, async (data) => {
    const order = await api("/api/orders", {
      method: "POST",
      body: {
        customer_phone: String(data.get("customer_phone")).trim(),
        amount: Number(data.get("amount")),
        delivery_location: String(data.get("delivery_location")).trim(),
      },
    });
    form.reset();
    form.closest("[data-form]").hidden = true;
    status.say(`Order #${order.id} created for ${kes(order.amount)}. Send the M-Pesa prompt when the customer is ready.`);
    await onCreated(order);
  });
}

/** Follow one prompt: its payment is `processing` until M-Pesa's answer arrives. */
async function follow(order, payment, line, reload) {
  const started = Date.now();
  line.say(`Order #${order.id}: prompt sent to ${phone(order.customer_phone)}. Waiting for the customer to enter their M-Pesa PIN…`, "wait");
  while (Date.now() - started < 180000) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    let now;
    try { now = await api(`/api/payments/${encodeURIComponent(payment.payment_id)}`); } catch { continue; }
    if (now.status === "processing") continue;
    const words = OUTCOME[now.status] || now.status;
    const receipt = now.receipt ? `, receipt ${now.receipt}` : "";
    line.say(`Order #${order.id}: ${words}${receipt}.`, now.status === "completed" ? "ok" : "error");
    await reload();
    return;
  }
  line.say(`Order #${order.id}: still no answer from M-Pesa; pesadesk will ask M-Pesa itself and update the order.`, "wait");
}

export async function render(ctx) {
  const { root } = ctx;
  const status = statusLine();
  const prompts = h("div", { class: "prompts" });
  const list = h("div");
  const filter = select([["", "All"], ["pending", "Pending"], ["confirmed", "Confirmed"], ["preparing", "Preparing"], ["delivered", "Delivered"], ["cancelled", "Cancelled"]], ctx.query.get("status"));
  const [filterField] = field("Status", filter);
  let region = null;
  const reload = () => region.refresh(true);
  const formBox = h("div", { "data-form": "", hidden: true });
  const header = h("div", { class: "toolbar head" }, h("h1", { class: "grow" }, "Orders"));
  if (ctx.can("operator")) {
    formBox.append(section("New order", newOrderForm(status, reload)));
    header.append(h("button", {
      type: "button",
      onclick: () => { formBox.hidden = false; formBox.querySelector("input").focus(); },
    }, "New order"));
  }
  root.append(header, status, prompts, formBox, section("Orders", h("div", { class: "toolbar" }, filterField), list));

  const pay = (order) => action("Send M-Pesa prompt", status, async () => {
    const line = statusLine();
    prompts.prepend(line);
    const payment = await api(`/api/orders/${order.id}/pay`, { method: "POST", body: {} });
    await reload();
    follow(order, payment, line, reload);
  }, { dataset: { focus: `pay-${order.id}` } });
  const move = (order, to, label) => action(label, status, async () => {
    await api(`/api/orders/${order.id}`, { method: "PATCH", body: { status: to } });
    status.say(`Order #${order.id} is now ${to}.`);
    await reload();
  }, { class: to === "cancelled" ? "danger" : "quiet", dataset: { focus: `${to}-${order.id}` } });
  const controls = (order) => {
    if (!ctx.can("operator")) return "";
    const buttons = [];
    if (order.status === "pending") buttons.push(pay(order));
    for (const [to, label] of NEXT[order.status] || []) buttons.push(move(order, to, label));
    if (["pending", "confirmed", "preparing"].includes(order.status)) buttons.push(move(order, "cancelled", "Cancel order"));
    return h("div", { class: "actions-cell" }, buttons);
  };
  region = ctx.live(list, async () => {
    const orders = (await api(`/api/orders${query({ status: filter.value, limit: 100 })}`)).data;
    return table({
      label: "Orders",
      rows: orders,
      rowKey: (o) => String(o.id),
      empty: "No orders yet.",
      columns: [
        { label: "Order", value: (o) => `#${o.id}` },
        { label: "Created", value: (o) => when(o.created_at) },
        { label: "Customer", value: (o) => phone(o.customer_phone) },
        { label: "Deliver to", value: (o) => o.delivery_location },
        { label: "Amount", value: (o) => kes(o.amount), num: true },
        { label: "Status", value: (o) => pill(o.status) },
        ...(ctx.can("operator") ? [{ label: "Next", value: controls }] : []),
      ],
    });
  });
  filter.addEventListener("change", () => {
    for (const opt of filter.options) opt.defaultSelected = opt.selected;
    ctx.remember({ status: filter.value });
    region.refresh(true);
  });
}
