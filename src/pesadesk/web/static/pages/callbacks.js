// Callbacks: every raw message M-Pesa sent, filtered, with Re-run for an admin and the
// result of a re-run shown on the page.

import { api, query } from "../api.js";
import { action, field, h, pill, section, select, statusLine, table, when } from "../ui.js";

const SOURCES = [["", "Any kind"], ["stk", "Prompt result (STK)"], ["c2b_confirmation", "Paybill confirmation"],
  ["c2b_validation", "Paybill validation"], ["b2c_result", "Refund result (B2C)"], ["b2c_timeout", "Refund timeout (B2C)"]];
const STATES = [["", "Any state"], ["unprocessed", "Not processed"], ["flagged", "Flagged"], ["duplicate", "Duplicates"]];
const STATE_QUERY = {
  unprocessed: { processed: "false" },
  flagged: { flagged: "true" },
  duplicate: { is_duplicate: "true" },
};

function state(l) {
  if (l.flagged) return pill("flagged");
  if (l.is_duplicate) return pill("duplicate", "duplicate");
  if (!l.processed) return pill(l.error ? "failed" : "processing", l.error ? "failed" : "waiting");
  return pill("ok", "processed");
}

/** An error as a person reads it: without the internal error class in front. */
function plain(error) {
  return error ? String(error).replace(/^[A-Z][A-Za-z]+: /, "") : "";
}

function pretty(raw) {
  try { return JSON.stringify(JSON.parse(raw), null, 2); } catch { return raw; }
}

export async function render(ctx) {
  const { root } = ctx;
  const status = statusLine();
  const list = h("div");
  const source = select(SOURCES, ctx.query.get("source"));
  const which = select(STATES, ctx.query.get("state"));
  root.append(h("h1", {}, "Callbacks"), status,
    h("p", { class: "lead" }, "Every message M-Pesa sent, stored before anything else. A failed or flagged one can be re-run; money is never credited twice."),
    section("Callback log", h("div", { class: "toolbar" }, field("Kind", source)[0], field("State", which)[0]), list));
  let region = null;
  const rerun = (l) => action("Re-run", status, async () => {
    const answer = await api(`/api/webhooks/logs/${l.id}/reprocess`, { method: "POST" });
    const after = answer.log || {};
    const problem = plain(after.error);
    let words;
    let kind = "error";
    if (after.flagged || (after.error && !after.processed)) {
      words = `Callback #${l.id} re-run: it still needs a person${problem ? ` (${problem})` : ""}.`;
    } else if (answer.reprocessed) {
      words = `Callback #${l.id} re-run: processed.`;
      kind = "ok";
    } else {
      words = `Callback #${l.id} was already processed; nothing to do.`;
      kind = "ok";
    }
    status.say(words, kind);
    await region.refresh(true);
  }, { dataset: { focus: `rerun-${l.id}` } });
  region = ctx.live(list, async () => {
    const rows = (await api(`/api/webhooks/logs${query({ source: source.value, ...(STATE_QUERY[which.value] || {}), limit: 100 })}`)).data;
    return table({
      label: "Callbacks",
      rows,
      rowKey: (l) => String(l.id),
      empty: "No callbacks match.",
      columns: [
        { label: "#", value: (l) => String(l.id) },
        { label: "Received", value: (l) => when(l.received_at) },
        { label: "Kind", value: (l) => (SOURCES.find(([v]) => v === l.source) || [l.source, l.source])[1] },
        { label: "M-Pesa id", value: (l) => h("span", { class: "mono" }, l.external_id || "") },
        { label: "State", value: state },
        { label: "Problem", value: (l) => plain(l.error) },
        { label: "Body", value: (l) => h("details", {}, h("summary", {}, "Show"), h("pre", { class: "raw" }, pretty(l.raw_payload))) },
        ...(ctx.can("admin") ? [{ label: "Action", value: (l) => (!l.processed || l.flagged ? rerun(l) : "") }] : []),
      ],
    });
  });
  for (const control of [source, which]) {
    control.addEventListener("change", () => {
      for (const sel of [source, which]) for (const opt of sel.options) opt.defaultSelected = opt.selected;
      ctx.remember({ source: source.value, state: which.value });
      region.refresh(true);
    });
  }
}
