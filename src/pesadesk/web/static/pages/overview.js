// Overview: today's numbers (the same as GET /api/stats for today), the charts, and the
// two things that wait for a person: money to place and payments that need a look.

import { api, query } from "../api.js";
import { fillDays, successChart, takingsChart } from "../charts.js";
import { eatDay, h, shortDay, kes, section, select, field, statusLine } from "../ui.js";
import { placeForm, reviewList } from "./queues.js";

function numbers(stats) {
  const items = [
    ["Net takings", kes(stats.payment_revenue)],
    ["Payments received", String(stats.completed_payments)],
    ["Failed or cancelled", String(stats.failed_payments)],
    ["Waiting to be placed", kes(stats.unallocated_amount)],
    ["Refunded", kes(stats.refunded_amount)],
    ["Orders pending", String(stats.pending_orders)],
  ];
  return h("dl", { class: "numbers" }, items.map(([label, value]) => h("div", {}, h("dt", {}, label), h("dd", {}, value))));
}

export async function render(ctx) {
  const { root } = ctx;
  const status = statusLine();
  const today = h("div");
  const charts = h("div", { class: "two" });
  const period = select([["7", "Last 7 days"], ["30", "Last 30 days"]], ctx.query.get("days") || "7");
  const [periodField] = field("Period", period);
  const toPlace = h("div");
  const review = h("div");
  root.append(
    h("h1", {}, "Overview"),
    section("Today", h("p", { class: "lead" }, `${shortDay(eatDay())} ${eatDay().slice(0, 4)}, East Africa Time`), today),
    section("Takings", h("div", { class: "toolbar" }, periodField), charts),
    status,
    h("section", { class: "card todo", "aria-labelledby": "to-place" },
      h("h2", { id: "to-place" }, "Money to place"),
      h("p", { class: "lead" }, "Paybill payments whose account number matched no invoice, sale or customer. Put each on the right one."),
      toPlace),
    h("section", { class: "card todo", "aria-labelledby": "needs-look" },
      h("h2", { id: "needs-look" }, "Payments that need a look"),
      h("p", { class: "lead" }, "Money pesadesk would not place by itself. Check each, do what is right (refund, deliver, or place it), then close the review with a note."),
      review),
  );
  const day = eatDay();
  ctx.live(today, async () => numbers(await api(`/api/stats${query({ from: day, to: day })}`)));
  const chartRegion = ctx.live(charts, async () => {
    const days = Number(period.value);
    const from = eatDay(-(days - 1));
    const rows = (await api(`/api/stats/daily${query({ from, to: day })}`)).data;
    const filled = fillDays(rows, from, day);
    return [takingsChart(filled), successChart(filled)];
  });
  period.addEventListener("change", () => {
    for (const opt of period.options) opt.defaultSelected = opt.selected;
    ctx.remember({ days: period.value === "7" ? "" : period.value });
    chartRegion.refresh(true);
  });
  let places = null;
  let reviews = null;
  const reloadAll = async () => {
    await Promise.all([places.refresh(true), reviews.refresh(true)]);
  };
  places = ctx.live(toPlace, async () => placeForm(ctx, status, reloadAll));
  reviews = ctx.live(review, async () => reviewList(ctx, status, reloadAll));
}
