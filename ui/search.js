// Search across sessions: a dialog opened with "/" (or the top bar's Search button). Hits from
// GET /api/search (every project) or GET /api/projects/{p}/search (the project in view), grouped by
// session, each snippet's highlight ranges wrapped in <mark> (text nodes only), linking to the message.
import { api } from "./api.js";
import { button, clear, errorState, h, num, openModal, select } from "./dom.js";
import { messageHref } from "./timeline.js";

const LIMIT = 20;
const KINDS = [ // the API's kinds (chalicelib/search/documents.py KINDS)
  ["", "Everything"], ["prompt", "User prompts"], ["assistant", "Assistant text"], ["command", "Commands"],
  ["error", "Errors"], ["path", "File paths"], ["handoff", "Handoffs"], ["note", "Notes"], ["knowledge", "Knowledge"],
  ["open_item", "Open items"],
];

/** The snippet as nodes: text, with each [start, end) highlight range in a <mark>. The API counts
 * characters as code points (Python), so the text is sliced by code point, not UTF-16 unit. */
export function highlighted(snippet, ranges) {
  const chars = Array.from(String(snippet || ""));
  const text = { length: chars.length, slice: (a, b) => chars.slice(a, b).join("") };
  const out = [];
  let at = 0;
  const valid = (Array.isArray(ranges) ? ranges : [])
    .filter((r) => Array.isArray(r) && Number.isInteger(r[0]) && Number.isInteger(r[1]) && r[0] < r[1])
    .map(([a, b]) => [Math.max(0, a), Math.min(text.length, b)])
    .sort((x, y) => x[0] - y[0]);
  for (const [a, b] of valid) {
    if (a < at || a >= text.length) continue; // overlapping or past the end: skipped, never mis-cut
    if (a > at) out.push(document.createTextNode(text.slice(at, a)));
    out.push(h("mark", null, text.slice(a, b)));
    at = b;
  }
  if (at < text.length) out.push(document.createTextNode(text.slice(at)));
  return out;
}

function currentProject() {
  const m = location.hash.match(/^#\/(?:projects|analytics)\/([A-Za-z0-9_-]+)/);
  return m ? decodeURIComponent(m[1]) : null;
}

export function openSearch() {
  if (document.getElementById("search-dialog")) return;
  const projectId = currentProject();
  const q = h("input", { type: "search", id: "search-q", placeholder: "Search prompts, commands, files, handoffs…",
    "aria-label": "Search sessions", autocomplete: "off", maxlength: "200" });
  const kind = select(KINDS.map(([value, label]) => ({ value, label })), { id: "search-kind", "aria-label": "What to search" });
  const scope = projectId ? select([{ value: "project", label: "This project" }, { value: "all", label: "All projects" }],
    { id: "search-scope", "aria-label": "Where to search" }) : null;
  const status = h("p", { class: "muted small", role: "status", id: "search-status" });
  const results = h("div", { class: "search-results", id: "search-results" });
  const more = h("div", { class: "load-more" });
  const body = h("div", { class: "search-box" },
    h("div", { class: "search-row" }, q, kind, scope), status, results, more);
  const m = openModal({ title: "Search sessions", body, wide: true, initialFocus: q });
  m.dialog.id = "search-dialog";

  let seq = 0;
  let groups = new Map();
  const run = async (cursor = null) => {
    const my = ++seq;
    const text = q.value.trim();
    if (!cursor) {
      clear(results);
      clear(more);
      groups = new Map();
    }
    if (!text) {
      status.textContent = "Type to search every session's prompts, answers, commands, files and handoffs.";
      return;
    }
    status.textContent = "Searching…";
    const query = { q: text, limit: LIMIT, cursor };
    if (kind.value) query.kind = kind.value;
    const path = scope && scope.value === "project" ? `/api/projects/${encodeURIComponent(projectId)}/search` : "/api/search";
    let page;
    try {
      page = await api("GET", path, { query });
    } catch (e) {
      if (my !== seq) return;
      status.textContent = "";
      clear(results).append(errorState(e));
      return;
    }
    if (my !== seq) return;
    const items = (page && page.items) || [];
    for (const it of items) {
      const key = `${it.project_id}/${it.session}`;
      let g = groups.get(key);
      if (!g) {
        const list = h("ol", { class: "search-hits" });
        const el = h("section", { class: "search-group", dataset: { session: String(it.session), project: String(it.project_id) } },
          h("h3", null, Number.isInteger(it.session)
            ? h("a", { href: `#/projects/${encodeURIComponent(it.project_id)}/sessions/${encodeURIComponent(it.session)}` }, `Session ${it.session}`)
            : h("a", { href: `#/projects/${encodeURIComponent(it.project_id)}` }, "Project (knowledge, open items)"), !scope || scope.value === "all" ? h("span", { class: "muted small" }, ` · ${it.project_id}`) : null),
          list);
        g = { el, list };
        groups.set(key, g);
        results.append(el);
      }
      // a hit in a message opens that message; a handoff or note hit (no message) opens its session
      const inMessage = Number.isInteger(it.message_index);
      const href = inMessage ? messageHref(it.project_id, it.session, it.message_index)
        : Number.isInteger(it.session) ? `#/projects/${encodeURIComponent(it.project_id)}/sessions/${encodeURIComponent(it.session)}`
          : `#/projects/${encodeURIComponent(it.project_id)}`;
      const link = h("a", { href, class: "search-hit", dataset: inMessage ? { index: String(it.message_index) } : null },
      h("span", { class: "search-meta muted small" }, [String(it.kind || "").replace(/_/g, " "), inMessage ? `message ${it.message_index}` : null,
        it.at ? new Date(it.at).toLocaleString() : null].filter(Boolean).join(" · ")),
      h("span", { class: "search-snippet" }, highlighted(it.snippet, it.highlights)));
      link.addEventListener("click", () => m.close());
      g.list.append(h("li", null, link));
    }
    const shown = results.querySelectorAll(".search-hit").length;
    status.textContent = shown ? `${num(shown)} hit${shown === 1 ? "" : "s"}${page.next_cursor ? " so far" : ""} in ${num(groups.size)} session${groups.size === 1 ? "" : "s"}` : `Nothing found for “${text}”.`;
    clear(more);
    if (page && page.next_cursor) more.append(button("More results", { small: true, onclick: () => run(page.next_cursor) }));
  };
  let timer = null;
  q.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => run(), 200);
  });
  kind.addEventListener("change", () => run());
  if (scope) scope.addEventListener("change", () => run());
  run();
}

/** "/" opens the search (not while typing in a field), and a Search button goes in the top bar. */
export function installSearch() {
  document.addEventListener("keydown", (e) => {
    if (e.key !== "/" || e.ctrlKey || e.metaKey || e.altKey) return;
    const t = e.target;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
    if (document.querySelector("dialog.modal[open]")) return;
    e.preventDefault();
    openSearch();
  });
  const bar = document.querySelector(".topbar-inner");
  if (bar && !document.getElementById("search-open")) {
    const b = button("", { small: true, variant: "ghost", class: "search-open", icon: "search", label: "Search sessions (press /)", onclick: openSearch });
    b.append(h("span", { class: "search-open-text" }, "Search"));
    b.id = "search-open";
    b.append(h("kbd", { class: "kbd", "aria-hidden": "true" }, "/"));
    bar.append(b);
  }
}
