// Settings (admin): API keys for people and scripts, and the webhook endpoints that
// receive pesadesk's signed events once the server offers them.

import { api, query } from "../api.js";
import { action, field, h, section, select, statusLine, table, when } from "../ui.js";

function keyForm(ctx, status, shown, onCreated) {
  const role = select([["viewer", "Viewer (reads)"], ["operator", "Operator (sells, takes payments, asks refunds)"], ["admin", "Admin (everything)"]], "viewer");
  const form = h("form", { class: "stack", "aria-label": "New API key" },
    field("Name", h("input", { name: "name", required: true, maxlength: "100", autocomplete: "off", placeholder: "front-desk-tablet" }))[0],
    field("Owner (the person)", h("input", { name: "owner", maxlength: "100", autocomplete: "off", value: ctx.me.owner || "" }))[0],
    field("Role", role)[0],
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Create key")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    try {
      const body = { name: String(data.get("name")).trim(), role: String(data.get("role") || role.value) };
      const owner = String(data.get("owner") || "").trim();
      if (owner) body.owner = owner;
      const created = await api("/api/keys", { method: "POST", body });
      form.reset();
      shown.replaceChildren(
        h("p", {}, `Key “${created.name}” (${created.role}) created. Copy it now: it is not shown again.`),
        h("output", { class: "secret" }, created.key));
      status.say("");
      await onCreated();
    } catch (error) {
      status.say(error.message, "error");
    }
  });
  role.name = "role";
  return form;
}

async function keys(ctx, status, reload) {
  const rows = (await api(`/api/keys${query({ limit: 200 })}`)).data;
  return table({
    label: "API keys",
    rows,
    rowKey: (k) => String(k.id),
    columns: [
      { label: "Name", value: (k) => k.name },
      { label: "Owner", value: (k) => k.owner || "" },
      { label: "Role", value: (k) => k.role },
      { label: "Starts with", value: (k) => h("span", { class: "mono" }, k.prefix) },
      { label: "Created", value: (k) => when(k.created_at) },
      { label: "State", value: (k) => (k.revoked_at ? `revoked ${when(k.revoked_at)}` : "active") },
      {
        label: "Action",
        value: (k) => {
          if (k.revoked_at || k.id === ctx.me.key_id) return "";
          const button = action("Revoke", status, async () => {
            if (button.dataset.armed !== "yes") {
              button.dataset.armed = "yes";
              button.textContent = "Confirm revoke";
              return;
            }
            await api(`/api/keys/${k.id}`, { method: "DELETE" });
            status.say(`Key “${k.name}” revoked; it stops working at once.`);
            await reload();
          }, { class: "danger", dataset: { focus: `revoke-${k.id}` } });
          return button;
        },
      },
    ],
  });
}

function endpointForm(status, shown, onCreated) {
  const form = h("form", { class: "stack", "aria-label": "New webhook endpoint" },
    field("URL", h("input", { name: "url", type: "url", required: true, placeholder: "https://example.com/pesadesk-events" }))[0],
    field("Events", h("input", { name: "events", value: "*", autocomplete: "off" }), "Comma separated, or * for every event")[0],
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Add endpoint")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    try {
      const events = String(data.get("events")).split(",").map((e) => e.trim()).filter(Boolean);
      const created = await api("/api/webhook-endpoints", { method: "POST", body: { url: String(data.get("url")).trim(), events } });
      form.reset();
      shown.replaceChildren(h("p", {}, "Endpoint added. Its signing secret, shown once:"), h("output", { class: "secret" }, created.secret));
      await onCreated();
    } catch (error) {
      status.say(error.message, "error");
    }
  });
  return form;
}

async function endpoints(status, reload) {
  const rows = (await api(`/api/webhook-endpoints${query({ limit: 100 })}`)).data;
  return table({
    label: "Webhook endpoints",
    rows,
    empty: "No endpoint yet.",
    columns: [
      { label: "URL", value: (e) => h("span", { class: "mono" }, e.url) },
      { label: "Events", value: (e) => (e.events || []).join(", ") },
      { label: "Created", value: (e) => when(e.created_at) },
      {
        label: "Action",
        value: (e) => action("Remove", status, async () => {
          await api(`/api/webhook-endpoints/${encodeURIComponent(e.id)}`, { method: "DELETE" });
          await reload();
        }, { class: "danger" }),
      },
    ],
  });
}

export async function render(ctx) {
  const { root } = ctx;
  if (!ctx.can("admin")) {
    root.append(h("h1", {}, "Settings"), h("p", {}, "Settings are for admins."));
    return;
  }
  const status = statusLine();
  const keyList = h("div");
  const keyShown = h("div");
  let keyRegion = null;
  root.append(h("h1", {}, "Settings"), status,
    section("API keys", h("p", { class: "lead" }, "One key per person or script. A refund above the threshold needs an admin key of a different owner to approve it."),
      keyForm(ctx, status, keyShown, () => keyRegion.refresh(true)), keyShown, keyList));
  keyRegion = ctx.live(keyList, () => keys(ctx, status, () => keyRegion.refresh(true)));
  if (ctx.server.has("GET", "/api/webhook-endpoints")) {
    const list = h("div");
    const shown = h("div");
    let region = null;
    root.append(section("Webhook endpoints", h("p", { class: "lead" }, "Your own systems, told of every payment and refund by signed webhooks."),
      endpointForm(status, shown, () => region.refresh(true)), shown, list));
    region = ctx.live(list, () => endpoints(status, () => region.refresh(true)));
  } else {
    root.append(section("Webhook endpoints", h("p", { class: "lead" },
      "Signed webhooks to your own systems come with a later version of pesadesk; they will be set up here.")));
  }
}
