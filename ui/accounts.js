// AI accounts: list with spend, create in a modal.
import { api, paths, requestSchema } from "./api.js";
import {
  busy, button, clear, emptyState, errorState, formDialog, h, loading, meter, num, toast,
} from "./dom.js";
import { forgetAccounts } from "./project.js";
import { pageHead } from "./projects.js";

function accountModal() {
  const providers = h("datalist", { id: "providers" },
    ...["anthropic", "openai", "google", "cursor", "github-copilot", "mistral", "other"].map((p) => h("option", { value: p })));
  return formDialog({
    title: "New AI account",
    schema: requestSchema("/api/accounts", "post"),
    fields: {
      name: { label: "Name", placeholder: "e.g. Team Anthropic account" },
      provider: { label: "Provider", placeholder: "e.g. anthropic, openai, cursor", attrs: { list: "providers" } },
      credit_budget: { label: "Credit budget", kind: "number", optional: true, hint: "Sessions drawing from this account count against it." },
    },
    after: providers,
    submitLabel: "Create account",
    busyLabel: "Creating…",
    submit: async (v) => {
      const body = { name: v.name, provider: v.provider };
      if (v.credit_budget !== null) body.credit_budget = v.credit_budget;
      const created = await api("POST", paths.accounts(), { body });
      forgetAccounts();
      toast(`Account “${created.name}” created`, "success");
      return created;
    },
  });
}

export async function renderAccounts(main, params, ctx) {
  ctx.setTitle("AI accounts");
  const add = button("New account", { variant: "primary", icon: "plus", onclick: async () => {
    if (await accountModal()) renderAccounts(main, params, ctx);
  } });
  const body = h("div", null, loading("Loading accounts…"));
  clear(main);
  main.append(pageHead("AI accounts", "Provider accounts and the credit budgets sessions draw from.", [add]), body);

  const tbody = h("tbody");
  const more = h("div", { class: "load-more" });
  let cursor = null;
  let count = 0;
  const loadPage = async () => {
    const page = await api("GET", paths.accounts(), { query: { limit: 50, cursor } });
    if (!ctx.isCurrent()) return;
    for (const a of (page && page.items) || []) {
      count++;
      const usedBox = h("div", { class: "cell-meter" }, num(a.credits_used));
      const used = h("td", { class: "num", "data-label": "Used" }, usedBox);
      const left = Number(a.credits_left);
      tbody.append(h("tr", { dataset: { accountId: a.id } },
        h("td", { class: "primary", "data-label": "Name" }, a.name),
        h("td", { "data-label": "Provider" }, a.provider),
        h("td", { class: "num", "data-label": "Budget" }, Number(a.credit_budget) ? num(a.credit_budget) : "—"),
        used,
        h("td", { class: `num${left < 0 ? " num-neg" : ""}`, "data-label": "Left" }, Number(a.credit_budget) ? num(a.credits_left) : "—"),
        h("td", { class: "num", "data-label": "Sessions" }, num(a.sessions))));
      const m = meter(a.credits_used, a.credit_budget);
      if (m) usedBox.append(m);
    }
    cursor = page && page.next_cursor;
    clear(more);
    if (cursor) {
      const b = button("Load more", { onclick: () => busy(b, () => loadPage().catch((e) => toast(e.message, "error")), "Loading…") });
      more.append(b);
    }
  };
  try {
    await loadPage();
  } catch (e) {
    if (e.status === 401) throw e;
    clear(body).append(errorState(e, () => renderAccounts(main, params, ctx)));
    return;
  }
  if (!ctx.isCurrent()) return;
  clear(body);
  if (!count) {
    body.append(emptyState("No AI accounts yet",
      "Add the provider accounts your sessions run on, with their credit budgets, to see spend per account.",
      button("Add an account", { variant: "primary", icon: "plus", onclick: () => add.click() })));
    return;
  }
  body.append(h("div", { class: "table-wrap" }, h("table", { class: "table stack", id: "accounts-table" },
    h("thead", null, h("tr", null, h("th", null, "Name"), h("th", null, "Provider"), h("th", { class: "num" }, "Budget"),
      h("th", { class: "num" }, "Used"), h("th", { class: "num" }, "Left"), h("th", { class: "num" }, "Sessions"))),
    tbody)), more);
}
