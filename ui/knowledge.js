// Knowledge base: search across projects, copy an item (counts a use), and a project's card with "Add".
import { api, paths, requestSchema } from "./api.js";
import {
  busy, button, clear, confirmModal, copyText, dateTime, emptyState, errorState, formDialog, h, input, loading, plural,
  relTime, select, toast,
} from "./dom.js";
import { renderMarkdown } from "./markdown.js";
import { pageHead } from "./projects.js";

const PAGE = 20;
const SEARCH_DELAY = 300;
const KINDS = [["lesson", "Lesson"], ["pattern", "Pattern"], ["solution", "Solution"]];
const KIND_LABEL = Object.fromEntries(KINDS);

// ---------------------------------------------------------------- project names (id -> name)
/** id -> name of the tenant's projects (an item whose project is not found shows its id). */
async function projectNames() {
  const names = new Map();
  let cursor = null;
  for (let i = 0; i < 10; i++) {
    const page = await api("GET", paths.projects(), { query: { limit: 100, cursor } });
    for (const p of (page && page.items) || []) names.set(p.id, p.name);
    cursor = page && page.next_cursor;
    if (!cursor) break;
  }
  return names;
}

// ---------------------------------------------------------------- one item
let itemSeq = 0;

/**
 * An item as a card: title, kind, project, tags, uses, source session, the body as text (folded), Copy.
 * opts: {names: Map (project names; null = inside that project), level: heading tag, onChange: after an edit or delete}
 */
export function knowledgeItem(item, { names = null, level = "h2", onChange = null } = {}) {
  const pid = encodeURIComponent(item.project_id);
  const bodyId = `kb-body-${++itemSeq}`;
  const uses = h("span", { class: "kb-uses" }, plural(item.uses || 0, "use"));
  const meta = h("div", { class: "kb-meta" },
    names ? h("a", { href: `#/projects/${pid}`, class: "kb-project" }, names.get(item.project_id) || item.project_id) : null,
    item.source_session !== null && item.source_session !== undefined
      ? h("a", { href: `#/projects/${pid}/sessions/${encodeURIComponent(item.source_session)}` }, `from session ${item.source_session}`)
      : null,
    uses,
    item.created_at ? h("span", { title: dateTime(item.created_at) }, relTime(item.created_at)) : null);
  const body = renderMarkdown(item.body || ""); // sanitized; raw HTML in it is shown as text
  body.classList.add("kb-body", "clamped");
  body.id = bodyId;
  if (!item.body) body.hidden = true; // a one-line lesson: its title says it all
  const more = button("Show more", { small: true, variant: "ghost", class: "kb-more" });
  more.hidden = true;
  more.setAttribute("aria-controls", bodyId);
  more.setAttribute("aria-expanded", "false");
  more.addEventListener("click", () => {
    const open = body.classList.toggle("clamped") === false;
    more.setAttribute("aria-expanded", String(open));
    more.textContent = open ? "Show less" : "Show more";
  });
  const copy = button("Copy", { small: true, icon: "copy", label: `Copy “${item.title}”`, title: "Copy the text (counts a use)" });
  copy.addEventListener("click", () => busy(copy, async () => {
    const ok = await copyText(item.body ? `${item.title}\n\n${item.body}` : item.title);
    if (!ok) {
      toast("Copy failed: select the text instead", "error");
      return;
    }
    try {
      const updated = await api("POST", paths.knowledgeUse(item.project_id, item.id));
      item.uses = updated && updated.uses !== undefined ? updated.uses : (item.uses || 0) + 1;
      uses.textContent = plural(item.uses, "use");
      toast("Copied to the clipboard", "success");
    } catch (e) {
      toast(`Copied, but the use was not counted: ${e.message}`, "error");
    }
  }));
  const edit = button("Edit", { small: true, variant: "ghost", icon: "edit", iconOnly: true, label: `Edit “${item.title}”`, onclick: async () => {
    const saved = await knowledgeModal({ id: item.project_id, name: names ? names.get(item.project_id) || item.project_id : "" }, item);
    if (saved && onChange) onChange();
  } });
  const del = button("Delete", { small: true, variant: "ghost", icon: "trash", iconOnly: true, class: "danger", label: `Delete “${item.title}”`, onclick: async () => {
    if (!await confirmModal({ title: "Delete this item?", message: `“${item.title}” leaves the knowledge base.`, confirmLabel: "Delete", danger: true })) return;
    try {
      await api("DELETE", `${paths.knowledge(item.project_id)}/${encodeURIComponent(item.id)}`);
      toast("Deleted", "success");
      if (onChange) onChange();
      else el.remove();
    } catch (e) {
      toast(e.message, "error");
    }
  } });
  const tags = (item.tags || []).length
    ? h("ul", { class: "chips kb-tags", "aria-label": "Tags" }, item.tags.map((t) => h("li", { class: "chip" }, t)))
    : null;
  const kind = String(item.kind || "lesson");
  const el = h("article", { class: "kb-item", dataset: { itemId: item.id } },
    h("div", { class: "kb-head" },
      h(level, { class: "kb-title" }, item.title),
      h("span", { class: `badge plain kb-kind kb-${kind.replace(/[^a-z]/g, "")}` }, KIND_LABEL[kind] || kind)),
    meta, body,
    h("div", { class: "kb-foot" }, tags, h("div", { class: "kb-actions" }, more, edit, del, copy)));
  // Offer "Show more" only when the text is cut (measured once it is laid out).
  requestAnimationFrame(() => {
    if (body.isConnected && body.scrollHeight > body.clientHeight + 8) more.hidden = false; // margins are not text
  });
  return el;
}

// ---------------------------------------------------------------- add (modal)
/** Modal: add a knowledge item to a project, or edit `item`. Resolves to the saved item, or null. */
export function knowledgeModal(project, item = null) {
  return formDialog({
    title: item ? "Edit knowledge" : `Add knowledge · ${project.name}`,
    schema: item ? requestSchema("/api/projects/{project_id}/knowledge/{item_id}", "patch")
      : requestSchema("/api/projects/{project_id}/knowledge", "post"),
    fields: {
      title: { label: "Title", required: true, value: item && item.title, placeholder: "e.g. Retry webhooks with an idempotency key" },
      kind: { label: "Kind", kind: "select", value: item ? item.kind : undefined, options: KINDS.map(([value, label]) => ({ value, label })) },
      tags: { label: "Tags", kind: "tags", optional: true, value: item && item.tags, placeholder: "e.g. billing, webhooks", hint: "Comma-separated." },
      body: { label: "Text", kind: "textarea", rows: 6, required: !item, value: item && item.body, placeholder: "What to do, and why it works (Markdown)" },
    },
    layout: (f) => [f.title, h("div", { class: "form-row" }, f.kind, f.tags), f.body],
    submitLabel: item ? "Save changes" : "Add to knowledge",
    busyLabel: item ? "Saving…" : "Adding…",
    submit: async (v) => {
      if (item) {
        const changes = {};
        if (v.title !== item.title) changes.title = v.title;
        if (v.kind !== item.kind) changes.kind = v.kind;
        if (v.body !== (item.body || "")) changes.body = v.body;
        if (JSON.stringify(v.tags) !== JSON.stringify(item.tags || [])) changes.tags = v.tags;
        if (!Object.keys(changes).length) return item;
        const saved = await api("PATCH", `${paths.knowledge(item.project_id)}/${encodeURIComponent(item.id)}`, { body: changes });
        toast("Saved", "success");
        return saved;
      }
      const payload = { title: v.title, body: v.body, kind: v.kind };
      if (v.tags.length) payload.tags = v.tags;
      const created = await api("POST", paths.knowledge(project.id), { body: payload });
      toast(`“${created.title}” added to the knowledge base`, "success");
      return created;
    },
  });
}

// ---------------------------------------------------------------- the project's card
const CARD_ITEMS = 5;

/** The "Knowledge" card of the Project view: the latest few items, "Add", a link to the search. */
export function knowledgeCard(project) {
  const list = h("div", { class: "kb-list compact" });
  const body = h("div", null, loading("Loading knowledge…"));
  const add = button("Add", { small: true, icon: "plus", label: "Add a knowledge item", onclick: async () => {
    const item = await knowledgeModal(project);
    if (item && card.isConnected) load();
  } });
  const all = h("a", { class: "btn btn-sm btn-ghost", href: "#/knowledge" }, "See all");
  const card = h("section", { class: "card kb-card", "aria-labelledby": "kb-h", id: "project-knowledge" },
    h("div", { class: "card-title-row" }, h("h2", { id: "kb-h" }, "Knowledge"), all, add), body);

  const load = async () => {
    try {
      const page = await api("GET", paths.knowledge(project.id), { query: { limit: CARD_ITEMS } });
      if (!card.isConnected) return;
      const items = (page && page.items) || [];
      clear(list);
      for (const it of items) list.append(knowledgeItem(it, { level: "h3", onChange: load }));
      clear(body).append(items.length ? list
        : h("p", { class: "muted" }, "Patterns, solutions and lessons worth reusing. Session learnings are added when their handoff is made; add your own with “Add”."));
    } catch (e) {
      if (e.status === 401) return;
      clear(body).append(errorState(e, load));
    }
  };
  load();
  return card;
}

// ---------------------------------------------------------------- #/knowledge
function readQuery() {
  const raw = location.hash.replace(/^#/, "");
  const i = raw.indexOf("?");
  return new URLSearchParams(i >= 0 ? raw.slice(i + 1) : "").get("q") || "";
}

export async function renderKnowledge(main, _params, ctx) {
  ctx.setTitle("Knowledge");
  const search = input({ type: "search", maxlength: 200, placeholder: "Search titles, text and tags", "aria-label": "Search knowledge", id: "kb-search", value: readQuery() });
  const go = button("Search", { type: "submit" });
  const projectSel = select([{ value: "", label: "All projects" }], { "aria-label": "Project", id: "kb-project" });
  const kindSel = select([{ value: "", label: "All kinds" }, ...KINDS.map(([value, label]) => ({ value, label }))], { "aria-label": "Kind", id: "kb-kind" });
  const form = h("form", { class: "kb-search", role: "search", novalidate: true }, search, projectSel, kindSel, go);
  const status = h("p", { class: "muted small kb-status", role: "status" });
  const list = h("div", { class: "kb-list", id: "knowledge-list" });
  const more = h("div", { class: "load-more" });
  const results = h("div", { class: "kb-results" });

  clear(main);
  main.append(pageHead("Knowledge", "Patterns, solutions and lessons from all your projects: newest first, or the best matches first when you search."), form, status, results);

  let names = null; // loaded once per visit (with the first page)
  let seq = 0;
  let cursor = null;
  let count = 0;
  let current = null;

  const loadPage = async (my, q) => {
    // A filtered page may come back short, even empty, with a cursor: follow a few to fill the first screen.
    let got = 0;
    for (let i = 0; i < 5; i++) {
      const page = await api("GET", paths.knowledgeSearch(), { query: { q, limit: PAGE, cursor, project: projectSel.value || undefined, kind: kindSel.value || undefined } });
      if (my !== seq || !ctx.isCurrent()) return;
      const items = (page && page.items) || [];
      for (const it of items) list.append(knowledgeItem(it, { names, onChange: () => { current = null; run(search.value.trim()); } }));
      got += items.length;
      count += items.length;
      cursor = (page && page.next_cursor) || null;
      if (!cursor || got >= PAGE / 2) break;
    }
    clear(more);
    if (cursor) {
      const b = button("Load more", { onclick: () => busy(b, () => loadPage(my, q).catch((e) => toast(e.message, "error")), "Loading…") });
      more.append(b);
    }
    if (count) status.textContent = `${plural(count, "item")}${cursor ? " shown" : ""}${q ? ` matching “${q}”` : ""}`;
    else status.textContent = cursor ? "Nothing matches among the most recent items: load more to look further back." : "";
    if (!count && !cursor) {
      clear(results).append(q
        ? emptyState("Nothing matches", `No item contains “${q}”. Try a shorter or different word.`)
        : emptyState("No knowledge yet",
          "Items appear here when a session's handoff is made (its learnings become lessons), or when you add one from a project."));
    }
  };

  const run = async (q) => {
    const key = `${q}|${projectSel.value}|${kindSel.value}`;
    if (key === current) return;
    current = key;
    const my = ++seq;
    cursor = null;
    count = 0;
    clear(list);
    clear(more);
    status.textContent = "";
    clear(results).append(loading(q ? "Searching…" : "Loading knowledge…"));
    history.replaceState(null, "", `#/knowledge${q ? `?q=${encodeURIComponent(q)}` : ""}`);
    try {
      if (!names) {
        names = await projectNames().catch(() => new Map());
        for (const [id, name] of names) projectSel.append(h("option", { value: id }, name));
      }
      if (my !== seq || !ctx.isCurrent()) return;
      clear(results).append(list, more);
      await loadPage(my, q);
    } catch (e) {
      if (my !== seq || !ctx.isCurrent()) return;
      if (e.status === 401) return;
      current = null;
      clear(results).append(errorState(e, () => run(q)));
    }
  };

  let timer = null;
  ctx.onLeave(() => clearTimeout(timer));
  search.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => run(search.value.trim()), SEARCH_DELAY);
  });
  projectSel.addEventListener("change", () => run(search.value.trim()));
  kindSel.addEventListener("change", () => run(search.value.trim()));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    clearTimeout(timer);
    run(search.value.trim());
  });
  await run(search.value.trim());
}
