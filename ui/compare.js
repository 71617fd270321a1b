// Two sessions side by side: metrics, files, decisions, errors, open items opened and closed.
import { api, paths } from "./api.js";
import { clear, duration, emptyState, h, num, plural, select, statusBadge } from "./dom.js";
import { crumbs, pageHead } from "./projects.js";

async function allPages(path, query = {}) {
  const out = [];
  let cursor = null;
  for (let i = 0; i < 20; i++) {
    const page = await api("GET", path, { query: { ...query, limit: 100, cursor } });
    out.push(...((page && page.items) || []));
    cursor = page && page.next_cursor;
    if (!cursor) break;
  }
  return out;
}

function list(items, render = (x) => String(x)) {
  if (!items.length) return h("p", { class: "muted small" }, "none");
  const ul = h("ul", { class: "small" });
  for (const it of items) ul.append(h("li", null, render(it)));
  return ul;
}

/** One column: a session and what it did. `ledger` is the project's open items (all statuses). */
function column(project, s, files, ledger) {
  const pid = encodeURIComponent(project.id);
  const opened = ledger.filter((it) => it.opened_by === s.number);
  const closed = ledger.filter((it) => it.closed_by === s.number);
  const added = files.reduce((a, f) => a + (Number(f.lines_added) || 0), 0);
  const removed = files.reduce((a, f) => a + (Number(f.lines_removed) || 0), 0);
  const dl = h("dl", { class: "dl compare-metrics" });
  const item = (k, v) => dl.append(h("div", null, h("dt", null, k), h("dd", null, v)));
  item("Status", statusBadge(s.status));
  item("Credits", `${num(s.credits_used)}${Number(s.credit_budget) ? ` / ${num(s.credit_budget)}` : " used"}`);
  item("Tasks", `${num(s.tasks_completed)} / ${num(s.tasks_planned)}`);
  item("Duration", duration(s.duration_s));
  item("Model", s.model || "—");
  // errors the session recorded plus the tool calls that failed in its transcript
  const recorded = (s.errors || []).length;
  const toolErrors = Number((s.transcript && s.transcript.tool_errors) || 0);
  item("Errors", h("span", { class: "compare-errors" }, num(recorded + toolErrors),
    recorded && toolErrors ? ` (${num(recorded)} recorded, ${num(toolErrors)} tool)` : toolErrors ? ` (${plural(toolErrors, "tool error")})` : ""));
  item("Files", `${num(files.length)} (+${num(added)} −${num(removed)})`);
  item("Started from", s.started_from_handoff ? `handoff of session ${s.started_from_handoff}` : "a cold start");
  const section = (title, node) => h("section", { class: "compare-part" }, h("h3", null, title), node);
  return h("div", { class: "card compare-col", dataset: { session: String(s.number) } },
    h("h2", null, h("a", { href: `#/projects/${pid}/sessions/${s.number}` }, `Session ${s.number}`), s.title ? `: ${s.title}` : ""),
    dl,
    section("Files changed", list(files, (f) => `${f.path} (+${num(f.lines_added || 0)} −${num(f.lines_removed || 0)})`)),
    section("Decisions", list(s.decisions || [])),
    section("Errors", list(s.errors || [])),
    section("Open items opened", list(opened, (it) => `${it.text} (${it.kind.replace(/_/g, " ")})`)),
    section("Open items closed", list(closed, (it) => it.text)));
}

export async function renderCompare(main, [projectId, aStr, bStr], ctx) {
  const project = await api("GET", paths.project(projectId));
  if (!ctx.isCurrent()) return;
  ctx.setTitle(`Compare sessions · ${project.name}`);
  const pid = encodeURIComponent(project.id);
  const total = Number((project.sessions && project.sessions.total) || 0);
  const a = Math.min(Math.max(Number(aStr) || Math.max(total - 1, 1), 1), Math.max(total, 1));
  const b = Math.min(Math.max(Number(bStr) || total, 1), Math.max(total, 1));
  const options = Array.from({ length: total }, (_, i) => ({ value: String(i + 1), label: `Session ${i + 1}` }));
  const pickA = select(options, { "aria-label": "First session", id: "compare-a" });
  const pickB = select(options, { "aria-label": "Second session", id: "compare-b" });
  pickA.value = String(a);
  pickB.value = String(b);
  const go = () => ctx.navigate(`#/projects/${pid}/compare/${pickA.value}/${pickB.value}`);
  pickA.addEventListener("change", go);
  pickB.addEventListener("change", go);
  clear(main);
  main.append(pageHead("Compare sessions", project.name, [h("div", { class: "toolbar compare-pick" }, pickA, "and", pickB)],
    crumbs([["Projects", "#/projects"], [project.name, `#/projects/${pid}`], ["Compare", null]])));
  if (total < 2) {
    main.append(emptyState("Nothing to compare yet", "Comparison needs two sessions."));
    return;
  }
  const grid = h("div", { class: "grid grid-2 section compare" }, h("p", { class: "muted" }, "Loading…"));
  main.append(grid);
  const [sa, sb, fa, fb, ledger] = await Promise.all([
    api("GET", paths.session(project.id, a)), api("GET", paths.session(project.id, b)),
    allPages(paths.files(project.id, a)), allPages(paths.files(project.id, b)),
    allPages(paths.openItems(project.id), { status: "all" }),
  ]);
  if (!ctx.isCurrent()) return;
  clear(grid).append(column(project, sa, fa, ledger), column(project, sb, fb, ledger));
}
