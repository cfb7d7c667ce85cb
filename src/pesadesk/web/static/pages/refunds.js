// Refunds: those waiting for a second admin (Approve / Reject, never by the person who
// asked) and the whole history.

import { action, field, h, kes, link, phone, pill, section, select, statusLine, table, when } from "../ui.js";
import { api, query } from "../api.js";

function mine(ctx, r) {
  if (r.requested_owner && ctx.me.owner) return r.requested_owner === ctx.me.owner;
  return r.requested_by === ctx.me.name;
}

function decide(ctx, r, status, reload) {
  if (r.status !== "pending_approval") return "";
  if (!ctx.can("admin")) return "Waits for an admin.";
  if (mine(ctx, r)) return "You asked for it; another admin approves it.";
  const verb = (word, label, cls) => action(label, status, async () => {
    const answer = await api(`/api/refunds/${encodeURIComponent(r.refund_id)}/${word}`, { method: "POST" });
    status.say(word === "approve"
      ? `Refund ${r.refund_id} approved: ${answer.message || answer.status}.`
      : `Refund ${r.refund_id} rejected; no money moves.`);
    await reload();
  }, { class: cls, dataset: { focus: `${word}-${r.refund_id}` } });
  return h("div", { class: "actions-cell" }, verb("approve", "Approve"), verb("reject", "Reject", "danger"));
}

/** Refund rows with their Approve / Reject controls where they apply. */
export function refundTable(ctx, rows, status, reload, { actions = true } = {}) {
  return table({
    label: "Refunds",
    rows,
    rowKey: (r) => r.refund_id,
    empty: "No refunds.",
    columns: [
      { label: "Refund", value: (r) => r.refund_id },
      { label: "Asked", value: (r) => when(r.created_at) },
      { label: "Payment", value: (r) => (r.payment_id ? link(`#/payments/${encodeURIComponent(r.payment_id)}`, r.payment_id) : r.kind) },
      { label: "To", value: (r) => phone(r.phone) },
      { label: "Amount", value: (r) => kes(r.amount), num: true },
      { label: "Reason", value: (r) => r.reason || "" },
      { label: "Asked by", value: (r) => r.requested_owner || r.requested_by || "" },
      { label: "Status", value: (r) => h("span", {}, pill(r.status), r.result_desc && r.status === "failed" ? ` ${r.result_desc}` : "") },
      { label: "Decision", value: (r) => (r.status !== "pending_approval" ? (r.decided_by || "")
        : actions ? decide(ctx, r, status, reload) : "Waiting for approval")  },
    ],
  });
}

export async function render(ctx) {
  const { root } = ctx;
  const status = statusLine();
  const waiting = h("div");
  const history = h("div");
  const filter = select([["", "Any status"], ["pending_approval", "Waiting for approval"], ["processing", "Processing"],
    ["completed", "Completed"], ["failed", "Failed"], ["rejected", "Rejected"]], ctx.query.get("status"));
  root.append(h("h1", {}, "Refunds"), status,
    section("Waiting for approval", h("p", { class: "lead" }, "Refunds above the approval threshold move money only after a second person approves them."), waiting),
    section("History", h("div", { class: "toolbar" }, field("Status", filter)[0]), history));
  let waitingRegion = null;
  let historyRegion = null;
  const reload = async () => { await waitingRegion.refresh(true); await historyRegion.refresh(true); };
  waitingRegion = ctx.live(waiting, async () =>
    refundTable(ctx, (await api(`/api/refunds${query({ status: "pending_approval", limit: 100 })}`)).data, status, reload));
  historyRegion = ctx.live(history, async () =>
    refundTable(ctx, (await api(`/api/refunds${query({ status: filter.value, limit: 100 })}`)).data, status, reload, { actions: false }));
  const requests = h("div");
  root.append(section("Requests from customers",
    h("p", { class: "lead" }, "Sent through the public form at /refund-request. One that matches a payment is a refund above, waiting for approval; the others wait here for a person to look into them."),
    requests));
  ctx.live(requests, async () => table({
    label: "Requests from customers",
    rows: (await api(`/api/refund-requests${query({ limit: 100 })}`)).data,
    rowKey: (r) => r.request_id,
    empty: "No requests from customers.",
    columns: [
      { label: "Request", value: (r) => r.request_id },
      { label: "Sent", value: (r) => when(r.created_at) },
      { label: "Receipt", value: (r) => r.receipt },
      { label: "Phone", value: (r) => phone(r.phone) },
      { label: "Amount", value: (r) => (r.amount === null ? "all of it" : kes(r.amount)), num: true },
      { label: "Why", value: (r) => r.reason },
      { label: "Where it is", value: (r) => (r.refund_id ? `refund ${r.refund_id}` : pill(r.status, r.status === "unmatched" ? "matches no payment" : r.status)) },
    ],
  }));
  filter.addEventListener("change", () => {
    for (const opt of filter.options) opt.defaultSelected = opt.selected;
    ctx.remember({ status: filter.value });
    historyRegion.refresh(true);
  });
}
