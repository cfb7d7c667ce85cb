// Payments: search (receipt, phone, name or reference), filters, paging, Export CSV;
// #/payments/ID opens one payment.

import { api, download, query } from "../api.js";
import { eatDay, field, h, kes, link, phone, pill, section, select, statusLine, table, when } from "../ui.js";

const STATUSES = [["", "Any status"], ["completed", "Completed"], ["unallocated", "To place"], ["processing", "Processing"],
  ["failed", "Failed"], ["cancelled", "Cancelled"], ["timeout", "Timed out"], ["refunded", "Refunded"],
  ["partially_refunded", "Partly refunded"], ["pending_verification", "Being verified"]];
const SOURCES = [["", "Any source"], ["stk", "M-Pesa prompt (STK)"], ["c2b", "Paybill (C2B)"]];
const PAGE = 25;

export function paymentRow(p) {
  return h("span", {}, pill(p.status), p.needs_review ? [" ", pill("review", "needs a look")] : null);
}

export async function render(ctx) {
  if (ctx.params[0]) {
    const detail = await import("./payment.js");
    await detail.render(ctx, ctx.params[0]);
    return;
  }
  const { root } = ctx;
  const status = statusLine();
  const q = ctx.query;
  const search = h("input", { type: "search", name: "q", value: q.get("q") || "", placeholder: "Receipt, phone, name or reference", autocomplete: "off" });
  const statusSel = select(STATUSES, q.get("status"));
  const sourceSel = select(SOURCES, q.get("source"));
  const from = h("input", { type: "date", name: "from", value: q.get("from") || "" });
  const to = h("input", { type: "date", name: "to", value: q.get("to") || "" });
  const [searchField] = field("Search", search);
  const filters = h("form", { class: "toolbar", role: "search", "aria-label": "Find payments" },
    h("div", { class: "grow" }, searchField), field("Status", statusSel)[0], field("Source", sourceSel)[0],
    field("From", from)[0], field("To", to)[0], h("button", { type: "submit" }, "Find"));
  const listBox = h("div", { class: "results" });
  const exportButton = h("button", { type: "button", class: "quiet" }, "Export CSV");
  root.append(h("div", { class: "toolbar head" }, h("h1", { class: "grow" }, "Payments"), exportButton), status,
    section("Find a payment", filters), section("Payments", listBox));

  const values = () => ({
    q: search.value.trim(), status: statusSel.value, source: sourceSel.value, from: from.value, to: to.value,
  });
  let cursors = [null];  // the cursor of each page seen, to go back
  let region = null;

  const load = async () => {
    const filter = values();
    const cursor = cursors[cursors.length - 1];
    const answer = await api(`/api/payments${query({ ...filter, limit: PAGE, cursor })}`);
    const first = (cursors.length - 1) * PAGE + 1;
    const prev = h("button", { type: "button", class: "quiet", disabled: cursors.length === 1, dataset: { focus: "prev" } }, "Previous page");
    const next = h("button", { type: "button", class: "quiet", disabled: !answer.next_cursor, dataset: { focus: "next" } }, "Next page");
    prev.addEventListener("click", () => { cursors.pop(); region.refresh(true); });
    next.addEventListener("click", () => { cursors.push(answer.next_cursor); region.refresh(true); });
    const shown = answer.data.length ? `Showing ${first}–${first + answer.data.length - 1}` : "";
    return [
      table({
        label: "Payments",
        rows: answer.data,
        rowKey: (p) => p.id,
        empty: filter.q ? `No payment matches “${filter.q}”.` : "No payments match these filters.",
        columns: [
          { label: "Paid", value: (p) => when(p.paid_at || p.created_at) },
          { label: "Receipt", value: (p) => link(`#/payments/${encodeURIComponent(p.id)}`, p.receipt || p.id) },
          { label: "From", value: (p) => p.payer_name || phone(p.phone) },
          { label: "Reference", value: (p) => p.reference || "" },
          { label: "Source", value: (p) => (p.source === "c2b" ? "Paybill" : "Prompt") },
          { label: "Amount", value: (p) => kes(p.amount), num: true },
          { label: "Status", value: paymentRow },
        ],
      }),
      h("div", { class: "pager" }, prev, next, h("span", {}, shown)),
    ];
  };
  region = ctx.live(listBox, async (force) => {
    // Live updates only on the first page: later pages stay as the person left them.
    if (!force && cursors.length > 1) return undefined;
    return load();
  });

  const apply = () => {
    cursors = [null];
    for (const control of [search, from, to]) control.defaultValue = control.value;
    for (const sel of [statusSel, sourceSel]) for (const opt of sel.options) opt.defaultSelected = opt.selected;
    ctx.remember(values());
    region.refresh(true);
  };
  filters.addEventListener("submit", (event) => { event.preventDefault(); apply(); });
  for (const control of [statusSel, sourceSel, from, to]) control.addEventListener("change", apply);

  exportButton.addEventListener("click", async () => {
    const filter = values();
    const name = `payments-${filter.from || "start"}-to-${filter.to || eatDay()}.csv`;
    exportButton.disabled = true;
    try {
      await download(`/api/payments${query({ ...filter, format: "csv" })}`, name);
      status.say(`Exported ${name}.`);
    } catch (error) {
      status.say(error.message, "error");
    } finally {
      exportButton.disabled = false;
    }
  });
}
