// Reconciliation: upload an M-Pesa statement, read the report with names and amounts,
// import what pesadesk never heard of, and check the statement's own arithmetic.

import { api, query } from "../api.js";
import { action, dl, field, h, kes, link, onSubmit, section, statusLine, table, when } from "../ui.js";

function uploadForm(status, onDone) {
  const file = h("input", { type: "file", name: "file", accept: ".csv,text/csv", required: true });
  const form = h("form", { class: "stack", "aria-label": "Upload a statement" },
    field("Statement file (CSV from the M-Pesa org portal)", file)[0],
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Upload statement")));
  return onSubmit(form, status, async () => {
    const data = new FormData();
    data.append("file", file.files[0]);
    status.say("Reading the statement…", "wait");
    const report = await api("/api/reconciliation/statements", { method: "POST", form: data });
    form.reset();
    status.say(`Statement read: ${report.matched.length} matched, ${report.missing_in_pesadesk.length} missing in pesadesk.`);
    await onDone(report);
  });
}

async function renderList(ctx) {
  const { root } = ctx;
  const status = statusLine();
  const list = h("div");
  root.append(h("h1", {}, "Reconciliation"), status,
    h("p", { class: "lead" }, "Compare an M-Pesa business statement with what pesadesk recorded: payments missing on either side, amounts that differ, and withdrawals."));
  if (ctx.can("admin")) {
    root.append(section("Upload a statement", uploadForm(status, (report) => { location.hash = `#/reconciliation/${report.id}`; })));
  }
  root.append(section("Statements read", list));
  ctx.live(list, async () => table({
    label: "Statements read",
    rows: (await api(`/api/reconciliation/statements${query({ limit: 50 })}`)).data,
    empty: "No statement uploaded yet.",
    columns: [
      { label: "Statement", value: (s) => link(`#/reconciliation/${s.id}`, s.filename) },
      { label: "Period", value: (s) => `${when(s.period.from)} – ${when(s.period.to)}` },
      { label: "Rows", value: (s) => String(s.rows), num: true },
      { label: "Read", value: (s) => when(s.imported_at) },
      { label: "By", value: (s) => s.imported_by || "" },
    ],
  }));
}

/** The statement's own line for each receipt (name, amount, time), where the report has it. */
function receiptRows(report, receipts) {
  const rows = report.rows && typeof report.rows === "object" ? report.rows : {};
  return receipts.map((receipt) => ({ receipt, ...(rows[receipt] || {}) }));
}

function rowCount(report) {
  return typeof report.rows === "number" ? report.rows : (report.counts || {}).rows;
}

function balanceCheck(check) {
  if (!check) return "";
  const ok = check.ok;
  return section("Does the statement add up?",
    h("p", { class: ok ? "check-ok" : "check-bad" },
      ok ? "Yes: opening balance + paid in − withdrawn = closing balance." : "No: opening balance + paid in − withdrawn does not give the closing balance."),
    dl([["Opening balance", kes(check.opening)], ["Paid in", kes(check.paid_in)], ["Withdrawn", kes(check.withdrawn)], ["Closing balance", kes(check.closing)]]));
}

function withdrawals(w) {
  if (!w) return "";
  const cols = [
    { label: "Receipt", value: (r) => r.receipt || "" },
    { label: "When", value: (r) => when(r.time) },
    { label: "To", value: (r) => r.name || r.details || "" },
    { label: "Amount", value: (r) => kes(r.amount), num: true },
    { label: "pesadesk", value: (r) => r.refund_id || r.payout_id || r.pesadesk_id || "" },
  ];
  return section("Withdrawals",
    h("h3", {}, "Matched to pesadesk's refunds and payouts"), table({ label: "Matched withdrawals", rows: w.matched || [], columns: cols, empty: "None." }),
    h("h3", {}, "Not sent by pesadesk"), table({ label: "Unmatched withdrawals", rows: w.unmatched || [], columns: cols, empty: "None: every withdrawal is one of pesadesk's." }));
}

async function renderOne(ctx, id) {
  const { root } = ctx;
  const status = statusLine();
  const report = await api(`/api/reconciliation/statements/${encodeURIComponent(id)}`);
  const detailed = report.rows && typeof report.rows === "object";
  const missingCols = [
    { label: "Receipt", value: (r) => r.receipt },
    { label: "When", value: (r) => when(r.time) },
    { label: "From", value: (r) => r.name || "" },
    { label: "Details", value: (r) => r.details || "" },
    { label: "Amount", value: (r) => (r.amount !== undefined ? kes(r.amount) : ""), num: true },
  ].slice(0, detailed ? undefined : 1);  // a report without the statement's lines: receipts
  const missing = receiptRows(report, report.missing_in_pesadesk);
  const importBox = h("div");
  if (ctx.can("admin") && missing.length) {
    importBox.append(action("Import missing", status, async () => {
      const done = await api(`/api/reconciliation/statements/${encodeURIComponent(id)}/import-missing`, { method: "POST", body: {} });
      const imported = done.imported || [];
      const skipped = done.skipped || [];
      status.say(`Imported ${imported.length} payment${imported.length === 1 ? "" : "s"}${imported.length ? `: ${imported.join(", ")}` : ""}.${skipped.length ? ` Already known: ${skipped.join(", ")}.` : ""} They are on Overview if they need placing.`);
    }));
  }
  root.append(h("p", {}, link("#/reconciliation", "← All statements")), h("h1", {}, `Statement ${report.filename}`), status,
    section("Summary", dl([
      ["Period", `${when(report.period.from)} – ${when(report.period.to)}`],
      ["Rows read", String(rowCount(report) ?? "")],
      ["Matched", String(report.matched.length)],
      ["Missing in pesadesk", String(report.missing_in_pesadesk.length)],
      ["Missing in the statement", String(report.missing_in_statement.length)],
      ["Amounts that differ", String(report.amount_mismatches.length)],
      ["Statuses that differ", String(report.status_mismatches.length)],
    ])),
    balanceCheck(report.balance_check),
    section("Missing in pesadesk", h("p", { class: "lead" }, "On the statement, never recorded by pesadesk (a callback that did not arrive)."),
      table({ label: "Missing in pesadesk", rows: missing, columns: missingCols, empty: "None: pesadesk recorded every payment on the statement." }), importBox),
    section("Amounts that differ", table({
      label: "Amounts that differ", rows: report.amount_mismatches, empty: "None.",
      columns: [
        { label: "Receipt", value: (m) => link(`#/payments?q=${encodeURIComponent(m.receipt)}`, m.receipt) },
        { label: "Statement", value: (m) => kes(m.statement_amount), num: true },
        { label: "pesadesk", value: (m) => kes(m.pesadesk_amount), num: true },
      ],
    })),
    section("Statuses that differ", table({
      label: "Statuses that differ", rows: receiptRows(report, (report.status_mismatches || []).map((m) => (typeof m === "string" ? m : m.receipt))),
      empty: "None.", columns: missingCols,
    })),
    section("Missing in the statement", h("p", { class: "lead" }, "Recorded by pesadesk inside the statement's period but not on it."),
      table({
        label: "Missing in the statement", rows: report.missing_in_statement.map((receipt) => ({ receipt })), empty: "None.",
        columns: [{ label: "Receipt", value: (r) => link(`#/payments?q=${encodeURIComponent(r.receipt)}`, r.receipt) }],
      })),
    withdrawals(report.withdrawals));
}

export async function render(ctx) {
  if (ctx.params[0]) await renderOne(ctx, ctx.params[0]);
  else await renderList(ctx);
}
