// One project: goal, pinned context, the session timeline; start and complete sessions.
import { api, paths, requestSchema } from "./api.js";
import {
  busy, button, clear, dateTime, duration, emptyState, errorState, formDialog, h, icon, input, loading, meter, num,
  relTime, select, statusBadge, textarea, toast,
} from "./dom.js";
import { handoffDoc } from "./handoff.js";
import { knowledgeCard } from "./knowledge.js";
import { crumbs, deleteProject, pageHead, projectModal, statCard } from "./projects.js";
import { costText, projectCost, projectTimelineCard } from "./timeline.js";

const SESSIONS_PAGE = 20;

// ---------------------------------------------------------------- accounts (for the selects and names)
let accountsCache = null;
export async function loadAccounts() {
  if (accountsCache) return accountsCache;
  const all = [];
  let cursor = null;
  for (let i = 0; i < 5; i++) {
    const page = await api("GET", paths.accounts(), { query: { limit: 100, cursor } });
    all.push(...((page && page.items) || []));
    cursor = page && page.next_cursor;
    if (!cursor) break;
  }
  accountsCache = all;
  setTimeout(() => { accountsCache = null; }, 30000);
  return all;
}
export function forgetAccounts() {
  accountsCache = null;
}

// ---------------------------------------------------------------- start a session
/** The newest session of a project (for Start defaults), or null. */
async function latestSession(project) {
  const page = await api("GET", paths.sessions(project.id), { query: { limit: 1, order: "desc" } });
  return (page && page.items && page.items[0]) || null;
}

/** Toast what the API warned about when the session was started (e.g. another session still runs). */
export function announceStart(s) {
  for (const w of (s && s.warnings) || []) toast(w.message, "warn", 10000);
  if (!(s && s.warnings && s.warnings.length)) toast(`Session ${s.number} started`, "success");
}

/**
 * Modal: start a session. Account, model and budget default to the previous session's (`prev`, or
 * the newest session when not given). Resolves to the created session (with starting_handoff), or null.
 */
export function startSessionModal(project, prev) {
  let f = null;
  const note = h("p", { class: "form-note", id: "start-note" }, "The previous session's handoff becomes the starting context of the new session.");
  const dialog = formDialog({
    title: `Start a session · ${project.name}`,
    schema: requestSchema("/api/projects/{project_id}/sessions", "post"),
    fields: {
      title: { label: "Title", optional: true, placeholder: "e.g. Wire the payment webhooks" },
      goal: { label: "Goal of this session", kind: "textarea", rows: 2, optional: true },
      ai_account: { label: "AI account", kind: "select", optional: true, options: [{ value: "", label: "Loading accounts…" }],
        attrs: { disabled: true }, hint: "Credits are drawn from this account's budget." },
      model: { label: "Model", optional: true, placeholder: "e.g. claude-sonnet-4.5" },
      credit_budget: { label: "Credit budget", kind: "number", optional: true },
    },
    layout: (fields) => {
      f = fields;
      return [f.title, f.goal, h("div", { class: "form-row" }, f.ai_account, f.model), f.credit_budget, note];
    },
    submitLabel: "Start session",
    submitIcon: "play",
    busyLabel: "Starting…",
    submit: async (v) => {
      const body = {};
      for (const [k, val] of Object.entries(v)) if (val !== "" && val !== null) body[k] = val;
      const created = await api("POST", paths.sessions(project.id), { body });
      forgetAccounts();
      setTimeout(() => announceStart(created)); // after the dialog closes: a toast inside it would go with it
      return created;
    },
  });
  const acctSelect = f.ai_account.control;
  const defaults = (prev !== undefined ? Promise.resolve(prev) : latestSession(project)).catch(() => null);
  Promise.all([loadAccounts(), defaults]).then(([accts, last]) => {
    clear(acctSelect);
    acctSelect.append(h("option", { value: "" }, accts.length ? "No account" : "No accounts yet (add them under AI accounts)"));
    for (const a of accts) {
      const left = Number(a.credit_budget) ? ` · ${num(a.credits_left)} left` : "";
      acctSelect.append(h("option", { value: a.id }, `${a.name} (${a.provider})${left}`));
    }
    acctSelect.disabled = false;
    if (!last) return;
    if (last.ai_account && accts.some((a) => a.id === last.ai_account)) acctSelect.value = last.ai_account;
    if (last.model && !f.model.control.value) f.model.control.value = last.model;
    if (Number(last.credit_budget) && !f.credit_budget.control.value) f.credit_budget.control.value = String(last.credit_budget);
    clear(note).append(
      last.status === "in_progress"
        ? `Session ${last.number} is still in progress: this session starts from the latest ready handoff. `
        : `This session starts from the handoff of session ${last.number}${last.handoff && last.handoff.status !== "ready" ? " (shown as soon as it is written)" : ""}. `,
      last.ai_account || last.model || Number(last.credit_budget) ? `Account, model and budget are taken from session ${last.number}.` : "");
  }).catch(() => {
    clear(acctSelect);
    acctSelect.append(h("option", { value: "" }, "Accounts could not be loaded"));
    acctSelect.disabled = false;
  });
  return dialog;
}

// ---------------------------------------------------------------- complete a session
const RECORD_FIELDS = [
  ["accomplishments", "Accomplishments", "What got done"],
  ["next_steps", "Next steps", "What the next session should do first"],
  ["decisions", "Decisions", "Choices made, and why"],
  ["learnings", "Learnings", "Patterns and lessons worth keeping"],
  ["blockers", "Blockers", "What is stuck"],
  ["errors", "Errors", "Errors met (and how they were fixed)"],
  ["links", "Links", "PRs, docs, URLs"],
];

/** The open-items checklist of the Complete form: ticked items go to `done_items` (by their text). */
function openItemsChecklist(project, session) {
  const legend = () => h("legend", null, "Open items done in this session");
  const group = h("fieldset", { class: "group", id: "open-items-checklist" }, legend(),
    h("p", { class: "muted small" }, "Loading the project's open items…"));
  const doneIds = new Set(session.done_items || []);
  api("GET", paths.openItems(project.id), { query: { status: "open", limit: 100 } }).then((page) => {
    const items = (page && page.items) || [];
    clear(group).append(legend());
    if (!items.length) {
      group.append(h("p", { class: "muted small" }, "No open items: next steps and blockers of earlier sessions appear here until they are marked done."));
      return;
    }
    const list = h("div", { class: "checklist" });
    for (const it of items) {
      // the text, not the id: the session's record then reads as words (the API closes by either)
      list.append(h("label", null, h("input", { type: "checkbox", name: "done_item", value: it.text, checked: doneIds.has(it.id) || doneIds.has(it.text) }),
        h("span", { class: "grow" }, it.text), h("span", { class: "badge plain" }, it.kind.replace(/_/g, " ")),
        h("span", { class: "muted small" }, `since session ${it.opened_by}`)));
    }
    group.append(h("p", { class: "muted small" }, "Ticked items are closed: the next handoffs stop carrying them."), list);
  }).catch((e) => {
    clear(group).append(legend(), h("p", { class: "small err" }, e.message));
  });
  return group;
}

/** Modal: complete a session. Resolves to {queued, response} or null when cancelled. */
export function completeSessionModal(project, session) {
  const radios = h("fieldset", { class: "radio-group" }, h("legend", null, "Outcome"),
    ...[["completed", "Completed"], ["failed", "Failed"]].map(([v, label], i) => h("label", { class: "radio-pill" },
      h("input", { type: "radio", name: "status", value: v, checked: i === 0 }), h("span", null, label))));
  const nonZero = (v) => (v !== null && v !== undefined && Number(v) !== 0 ? v : undefined);
  const fields = {
    credits_used: { label: "Credits used", kind: "number", value: nonZero(session.credits_used) },
    tasks_planned: { label: "Tasks planned", kind: "integer", value: nonZero(session.tasks_planned) },
    tasks_completed: { label: "Tasks completed", kind: "integer", value: nonZero(session.tasks_completed) },
  };
  for (const [key, label, hint] of RECORD_FIELDS) {
    fields[key] = { label, kind: "lines", optional: true, rows: key === "accomplishments" || key === "next_steps" ? 3 : 2,
      placeholder: hint, value: session[key] || [], span: key === "links" ? "span-2" : undefined };
  }
  fields.handoff_mode = { label: "Handoff", kind: "select", hint: "How the next session's master prompt is written.", options: [
    { value: "auto", label: "Auto: LLM when configured, rules otherwise" },
    { value: "rules", label: "Rules: deterministic, no LLM" },
    { value: "llm", label: "LLM: summarize with the model (checked, falls back to rules)" },
  ] };
  return formDialog({
    title: `Complete session ${session.number}`,
    wide: true,
    schema: requestSchema("/api/projects/{project_id}/sessions/{number}/complete", "post"),
    fields,
    layout: (f) => [radios, h("div", { class: "form-row three" }, f.credits_used, f.tasks_planned, f.tasks_completed),
      openItemsChecklist(project, session),
      h("fieldset", { class: "group two" }, h("legend", null, "Record (one item per line)"), ...RECORD_FIELDS.map(([k]) => f[k])),
      f.handoff_mode],
    submitLabel: "Complete session",
    submitIcon: "check",
    submit: async (v, { form }) => {
      const status = form.querySelector('input[name="status"]:checked').value;
      const body = { status };
      const ticked = Array.from(form.querySelectorAll('input[name="done_item"]:checked')).map((el) => el.value);
      if (ticked.length) body.done_items = ticked;
      for (const [k, val] of Object.entries(v)) {
        if (val === null) continue;
        if (Array.isArray(val) && !val.length && !(session[k] || []).length) continue;
        body[k] = val;
      }
      const res = await api("POST", paths.complete(project.id, session.number), { body });
      toast(`Session ${session.number} ${status}. The handoff is being written.`, "success");
      return { queued: true, response: res };
    },
  });
}

// ---------------------------------------------------------------- pinned context
function pinsCard(project) {
  const card = h("section", { class: "card", "aria-labelledby": "pins-h" });
  let pins = Array.isArray(project.pins) ? project.pins.slice() : [];

  const showView = () => {
    clear(card);
    const edit = button("Edit", { small: true, variant: "ghost", icon: "edit", label: "Edit pinned context", onclick: showEditor });
    card.append(h("div", { class: "card-title-row" }, h("h2", { id: "pins-h" }, "Pinned context"), edit));
    if (pins.length) {
      const ul = h("ul", { class: "pins-view" });
      for (const p of pins) ul.append(h("li", null, p));
      card.append(ul);
    } else {
      card.append(h("p", { class: "muted" }, "Facts every handoff must carry verbatim (constraints, credentials' location, conventions). None yet."));
    }
  };

  // the API's limits for pins (PUT .../pins takes a list: its maxItems and item maxLength)
  const limits = { items: Infinity, chars: Infinity };
  requestSchema("/api/projects/{project_id}/pins", "put").then((sch) => {
    const list = sch && (sch.type === "array" ? sch : (sch.oneOf || []).find((x) => x.type === "array"));
    if (list && list.maxItems) limits.items = list.maxItems;
    if (list && list.items && list.items.maxLength) limits.chars = list.items.maxLength;
  });

  const showEditor = () => {
    clear(card);
    const list = h("ul", { class: "pins", "aria-label": "Pinned items" });
    const addRow = (text = "") => {
      const ta = textarea({ rows: 2, maxlength: Number.isFinite(limits.chars) ? limits.chars : undefined, "aria-label": "Pinned item" });
      ta.value = text;
      const rm = button("Remove", { iconOnly: true, icon: "x", variant: "ghost", label: "Remove this item", onclick: () => {
        li.remove();
        const first = list.querySelector("textarea");
        (first || add).focus();
      } });
      const li = h("li", { class: "pin-row" }, ta, rm);
      list.append(li);
      return ta;
    };
    for (const p of pins) addRow(p);
    if (!pins.length) addRow("");
    const err = h("div", { class: "err", role: "alert" });
    const add = button("Add item", { small: true, icon: "plus", onclick: () => {
      if (list.children.length >= limits.items) {
        err.textContent = `At most ${limits.items} pinned items.`;
        return;
      }
      addRow("").focus();
    } });
    const save = button("Save", { small: true, variant: "primary" });
    const cancel = button("Cancel", { small: true, onclick: showView });
    save.addEventListener("click", () => busy(save, async () => {
      const items = Array.from(list.querySelectorAll("textarea")).map((t) => t.value.trim()).filter(Boolean);
      const long = items.findIndex((s) => s.length > limits.chars);
      if (items.length > limits.items) {
        err.textContent = `At most ${limits.items} pinned items (you have ${items.length}).`;
        return;
      }
      if (long >= 0) {
        err.textContent = `Item ${long + 1} is longer than ${limits.chars} characters.`;
        return;
      }
      try {
        const res = await api("PUT", paths.pins(project.id), { body: { items } });
        pins = (res && Array.isArray(res.items)) ? res.items : items;
        project.pins = pins;
        toast("Pinned context saved", "success");
        showView();
        card.querySelector("button").focus();
      } catch (e) {
        err.textContent = e.message;
      }
    }, "Saving…"));
    card.append(h("div", { class: "card-title-row" }, h("h2", { id: "pins-h" }, "Pinned context")),
      h("p", { class: "muted small" }, "Each item is carried verbatim into every handoff. Empty items are dropped."),
      list, err, h("div", { class: "toolbar" }, add, h("span", { class: "spacer" }), cancel, save));
    const first = list.querySelector("textarea");
    if (first) first.focus();
  };

  showView();
  // The pins route is the source of truth (the project JSON carries them too).
  api("GET", paths.pins(project.id)).then((res) => {
    if (res && Array.isArray(res.items) && card.isConnected && !card.querySelector(".pins")) {
      pins = res.items;
      showView();
    }
  }).catch(() => {});
  return card;
}

// ---------------------------------------------------------------- latest handoff, open items
/** The project's latest ready handoff, Copy and Download first: what the next session is started with. */
function latestHandoffCard(project, ctx) {
  const card = h("section", { class: "card latest-handoff", "aria-labelledby": "latest-h" },
    h("div", { class: "card-title-row" }, h("h2", { id: "latest-h" }, "Latest handoff")), loading("Loading the latest handoff…"));
  if (project.latest_handoff === null || project.latest_handoff === undefined) {
    card.replaceChildren(h("div", { class: "card-title-row" }, h("h2", { id: "latest-h" }, "Latest handoff")),
      h("p", { class: "muted" }, "None yet. Complete a session: the handoff for the next one is written from its record and transcript."));
    return card;
  }
  api("GET", paths.latestHandoff(project.id)).then((ho) => {
    if (!ctx.isCurrent()) return;
    const pid = encodeURIComponent(project.id);
    const from = ho.from_session;
    card.replaceChildren(
      h("div", { class: "card-title-row" }, h("h2", { id: "latest-h" }, `Handoff for session ${ho.for_session}`),
        h("a", { class: "small", href: `#/projects/${pid}/sessions/${from}` }, `written from session ${from}`)),
      handoffDoc(ho, { project, fromSession: from, id: "latest-handoff", frame: true, copyLabel: "Copy the latest handoff to the clipboard" }));
  }).catch((e) => {
    if (ctx.isCurrent()) card.replaceChildren(h("h2", { id: "latest-h" }, "Latest handoff"), errorState(e));
  });
  return card;
}

function openItemsCard(project) {
  const card = h("section", { class: "card", "aria-labelledby": "open-h" },
    h("div", { class: "card-title-row" }, h("h2", { id: "open-h" }, "Open items")), loading("Loading…"));
  api("GET", paths.openItems(project.id), { query: { status: "open", limit: 100 } }).then((page) => {
    const items = (page && page.items) || [];
    const head = h("div", { class: "card-title-row" }, h("h2", { id: "open-h" }, "Open items"),
      items.length ? h("span", { class: "badge plain" }, num(items.length) + (page.next_cursor ? "+" : "")) : null);
    if (!items.length) {
      card.replaceChildren(head, h("p", { class: "muted" }, "Nothing open. Next steps, blockers and unfinished todos stay here until a session marks them done."));
      return;
    }
    const ul = h("ul", { class: "open-items", id: "open-items" });
    // closed on behalf of the project's latest session (the ledger records who closed an item)
    const latest = Math.max(Number((project.sessions && project.sessions.total) || 0), ...items.map((it) => Number(it.opened_by) || 1));
    for (const it of items) {
      const li = h("li", { dataset: { item: it.id } });
      const done = button("Done", { small: true, icon: "check", label: `Mark done: ${it.text}`, onclick: () => busy(done, async () => {
        try {
          await api("POST", paths.openItemsClose(project.id), { body: { items: [it.id], session: latest } });
          li.remove();
          toast(`Closed: ${it.text}`, "success");
          if (!ul.children.length) card.replaceChildren(head, h("p", { class: "muted" }, "Nothing open."));
        } catch (e) {
          toast(e.message, "error");
        }
      }, "Closing…") });
      li.append(h("span", { class: `badge ${it.kind === "blocker" ? "badge-failed" : "plain"}` }, it.kind.replace(/_/g, " ")),
        h("span", null, it.text), h("span", { class: "muted small since" }, `since session ${it.opened_by}`), done);
      ul.append(li);
    }
    card.replaceChildren(head, ul, h("p", { class: "muted small section" },
      `Done closes an item for session ${latest}; the Complete form of a session closes them too.`));
  }).catch((e) => card.replaceChildren(h("h2", { id: "open-h" }, "Open items"), errorState(e)));
  return card;
}

// ---------------------------------------------------------------- timeline
export function sessionRow(project, s, { onComplete } = {}) {
  const href = `#/projects/${encodeURIComponent(project.id)}/sessions/${s.number}`;
  const meta = h("div", { class: "tl-meta" }, statusBadge(s.status),
    h("span", null, `${num(s.credits_used)}${Number(s.credit_budget) ? ` / ${num(s.credit_budget)}` : ""} credits`),
    s.duration_s !== null && s.duration_s !== undefined ? h("span", null, duration(s.duration_s)) : null,
    s.model ? h("span", null, s.model) : null,
    s.transcript && s.transcript.tokens ? h("span", { class: "tl-cost" }, costText(s.cost, s.transcript.tokens)) : null,
    s.started_at ? h("span", { title: dateTime(s.started_at) }, `started ${relTime(s.started_at)}`) : null);
  const link = h("a", { class: "tl-row", href, "aria-label": `Session ${s.number}${s.title ? `: ${s.title}` : ""}` },
    h("span", { class: "tl-num", "aria-hidden": "true" }, String(s.number)),
    h("div", { class: "tl-main" },
      h("div", { class: `tl-title${s.title ? "" : " untitled"}` }, s.title || `Session ${s.number}`),
      meta));
  const side = h("div", { class: "tl-side" });
  if (s.status === "in_progress" && onComplete) {
    side.append(button("Complete", { small: true, icon: "check", label: `Complete session ${s.number}`, onclick: () => onComplete(s) }));
  }
  return h("li", { class: "tl-item", dataset: { session: String(s.number) } }, link, side.childNodes.length ? side : null);
}

export async function renderProject(main, [projectId], ctx) {
  const project = await api("GET", paths.project(projectId));
  if (!ctx.isCurrent()) return;
  ctx.setTitle(project.name);
  const reload = () => {
    if (ctx.isCurrent()) renderProject(main, [projectId], ctx).catch((e) => toast(e.message, "error"));
  };
  const pid = encodeURIComponent(project.id);

  const start = button("Start session", { variant: "primary", icon: "play", onclick: async () => {
    const s = await startSessionModal(project);
    if (!s || !ctx.isCurrent()) return;
    // the session page opens on its starting handoff, Copy first (a spinner while it is written)
    ctx.navigate(`#/projects/${pid}/sessions/${s.number}`);
  } });
  const analytics = h("a", { class: "btn", href: `#/analytics/${pid}` }, icon("chart"), "Analytics");
  const compare = Number(project.sessions && project.sessions.total) >= 2
    ? h("a", { class: "btn", href: `#/projects/${pid}/compare` }, "Compare sessions") : null;
  const edit = button("Edit", { icon: "edit", onclick: async () => {
    const saved = await projectModal(project);
    if (saved && saved !== project) reload();
  } });
  const del = button("Delete", { icon: "trash", variant: "ghost", class: "danger", label: "Delete project", onclick: async () => {
    if (await deleteProject(project)) ctx.navigate("#/projects");
  } });

  const s = project.sessions || {};
  // dollars from the transcripts' tokens (the timeline's answer); credits above stay as typed
  const costCard = statCard("Cost", s.total ? "…" : "—", null, "priced from transcripts' tokens");
  costCard.id = "stat-project-cost";
  const showCost = (data) => {
    const c = projectCost((data && data.sessions) || []);
    costCard.querySelector(".value").textContent = c.value;
    costCard.querySelector(".hint").textContent = c.hint;
  };
  const stats = h("div", { class: "grid grid-stats" },
    statCard("Sessions", num(s.total), s.in_progress ? `· ${num(s.in_progress)} open` : null,
      `${num(s.completed)} completed · ${num(s.failed)} failed`),
    (() => {
      const c = statCard("Credits used", num(project.credits_used), project.credit_budget ? `/ ${num(project.credit_budget)}` : null);
      const m = meter(project.credits_used, project.credit_budget);
      if (m) c.append(m);
      return c;
    })(),
    statCard("Tasks done", num(project.tasks_completed), `/ ${num(project.tasks_planned)}`),
    statCard("Time in sessions", duration(project.duration_s), null, `${num(project.handoffs_ready)} handoffs ready`),
    costCard);

  const goal = h("section", { class: "card", "aria-labelledby": "goal-h" },
    h("div", { class: "card-title-row" }, h("h2", { id: "goal-h" }, "Goal")),
    project.goal ? h("p", { class: "prose-text" }, project.goal)
      : h("p", { class: "muted" }, "No goal yet. Edit the project to set one: every handoff carries it forward."));

  const timeline = h("ol", { class: "timeline", id: "timeline", "aria-label": "Sessions, newest first" });
  const tlCard = h("div", { class: "card" }, loading("Loading sessions…"));
  const more = h("div", { class: "load-more" });
  const sessionsSection = h("section", { class: "section", "aria-labelledby": "sessions-h" },
    h("div", { class: "section-head" }, h("h2", { id: "sessions-h" }, "Sessions"),
      s.total ? h("span", { class: "muted small" }, "Newest first") : null),
    tlCard, more);

  clear(main);
  main.append(
    pageHead(project.name, project.description || project.goal || null, [start, analytics, compare, edit, del].filter(Boolean),
      crumbs([["Projects", "#/projects"], [project.name, null]])),
    latestHandoffCard(project, ctx),
    s.total ? h("div", { class: "section" }, projectTimelineCard(project, ctx, { onData: showCost })) : null,
    sessionsSection,
    stats,
    h("div", { class: "grid grid-2 section" }, goal, openItemsCard(project)),
    h("div", { class: "section" }, pinsCard(project)),
    h("div", { class: "section" }, knowledgeCard(project)));

  const onComplete = async (sess) => {
    const res = await completeSessionModal(project, sess);
    if (res && ctx.isCurrent()) ctx.navigate(`#/projects/${pid}/sessions/${sess.number}`);
  };
  let cursor = null;
  let count = 0;
  const loadPage = async () => {
    const page = await api("GET", paths.sessions(project.id), { query: { limit: SESSIONS_PAGE, cursor, order: "desc" } });
    if (!ctx.isCurrent()) return;
    for (const it of (page && page.items) || []) {
      timeline.append(sessionRow(project, it, { onComplete }));
      count++;
    }
    cursor = page && page.next_cursor;
    clear(more);
    if (cursor) {
      const b = button("Load older sessions", { onclick: () => busy(b, () => loadPage().catch((e) => toast(e.message, "error")), "Loading…") });
      more.append(b);
    }
  };
  try {
    await loadPage();
  } catch (e) {
    if (e.status === 401) throw e;
    clear(tlCard).append(errorState(e, reload));
    return;
  }
  if (!ctx.isCurrent()) return;
  clear(tlCard);
  if (count) tlCard.append(timeline);
  else {
    tlCard.replaceWith(emptyState("No sessions yet",
      "Start a session when you open your AI assistant. Complete it when you stop: the handoff for the next one is written from its record.",
      button("Start the first session", { variant: "primary", icon: "play", onclick: () => start.click() })));
  }
}
