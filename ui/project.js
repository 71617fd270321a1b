// One project: goal, pinned context, the session timeline; start and complete sessions.
import { api, paths } from "./api.js";
import {
  busy, button, checks, clear, copyText, dateTime, duration, emptyState, errorState, field, formId, h, icon, input,
  linesValue, loading, meter, notice, num, numberValue, openModal, relTime, select, showFieldError, statusBadge,
  textarea, toast, validate,
} from "./dom.js";
import { renderMarkdown } from "./markdown.js";
import { knowledgeCard } from "./knowledge.js";
import { crumbs, deleteProject, pageHead, projectModal, statCard } from "./projects.js";

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
/** Modal: start a session. Resolves to the created session (with starting_handoff), or null. */
export function startSessionModal(project) {
  return new Promise((resolve) => {
    let created = null;
    const fTitle = field("Title", input({ maxlength: 300, placeholder: "e.g. Wire the payment webhooks" }), { optional: true });
    const fGoal = field("Goal of this session", textarea({ rows: 2, maxlength: 4000 }), { optional: true });
    const acctSelect = select([{ value: "", label: "Loading accounts…" }], { disabled: true });
    const fAcct = field("AI account", acctSelect, { optional: true, hint: "Credits are drawn from this account's budget." });
    const fModel = field("Model", input({ maxlength: 200, placeholder: "e.g. claude-sonnet-4.5" }), { optional: true });
    const fBudget = field("Credit budget", input({ type: "number", min: 0, step: "any", inputmode: "decimal" }), { optional: true });
    const form = h("form", { class: "form", novalidate: true, id: formId() },
      fTitle, fGoal, h("div", { class: "form-row" }, fAcct, fModel), fBudget,
      h("p", { class: "form-note" }, "The latest handoff of this project becomes the starting context of the new session."));
    loadAccounts().then((accts) => {
      clear(acctSelect);
      acctSelect.append(h("option", { value: "" }, accts.length ? "No account" : "No accounts yet (add them under AI accounts)"));
      for (const a of accts) {
        const left = Number(a.credit_budget) ? ` · ${num(a.credits_left)} left` : "";
        acctSelect.append(h("option", { value: a.id }, `${a.name} (${a.provider})${left}`));
      }
      acctSelect.disabled = false;
    }).catch(() => {
      clear(acctSelect);
      acctSelect.append(h("option", { value: "" }, "Accounts could not be loaded"));
    });
    const submit = button("Start session", { variant: "primary", type: "submit", icon: "play" });
    submit.setAttribute("form", form.id);
    const cancel = button("Cancel", { onclick: () => m.close() });
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      if (submit.disabled) return;
      const v = validate({
        title: { field: fTitle, get: () => fTitle.control.value.trim(), check: checks.text(300, { label: "Title" }) },
        goal: { field: fGoal, get: () => fGoal.control.value.trim(), check: checks.text(4000, { label: "Goal" }) },
        ai_account: { field: fAcct, get: () => acctSelect.value, check: () => null },
        model: { field: fModel, get: () => fModel.control.value.trim(), check: checks.text(200, { label: "Model" }) },
        credit_budget: { field: fBudget, get: () => numberValue(fBudget.control), check: checks.number({ label: "Credit budget" }) },
      });
      if (!v) return;
      const body = {};
      for (const [k, val] of Object.entries(v)) if (val !== "" && val !== null) body[k] = val;
      await busy(submit, async () => {
        try {
          created = await api("POST", paths.sessions(project.id), { body });
          forgetAccounts();
          m.close();
        } catch (err) {
          if (!showFieldError(err, { title: fTitle, goal: fGoal, ai_account: fAcct, model: fModel, credit_budget: fBudget })) {
            toast(err.message, "error");
          }
        }
      }, "Starting…");
    });
    const m = openModal({ title: `Start a session · ${project.name}`, body: form, actions: [cancel, submit], onClose: () => resolve(created) });
  });
}

/** After a start: show the starting handoff (rendered, with copy). */
export function startedModal(project, session, navigate) {
  const sh = session.starting_handoff;
  let body;
  if (sh && sh.markdown) {
    const copy = button("Copy handoff", { icon: "copy", small: true, onclick: async () => {
      toast(await copyText(sh.markdown) ? "Handoff copied to the clipboard" : "Copy failed: select the text instead", "success");
    } });
    body = h("div", null,
      h("div", { class: "toolbar" },
        h("span", { class: "muted small" }, `Starting context: the handoff from session ${sh.from_session}`, sh.method ? ` (${sh.method})` : ""),
        h("span", { class: "spacer" }), copy),
      h("div", { class: "md-frame", id: "starting-handoff" }, renderMarkdown(sh.markdown)),
      h("p", { class: "muted small" }, "Paste it as the first message of the new AI session."));
  } else {
    body = notice("info", "No earlier handoff",
      "This session starts cold: there is no ready handoff from an earlier session of this project yet.");
  }
  const open = button("Open session", { variant: "primary", onclick: () => {
    m.close();
    navigate(`#/projects/${encodeURIComponent(project.id)}/sessions/${session.number}`);
  } });
  const close = button("Close", { onclick: () => m.close() });
  const m = openModal({ title: `Session ${session.number} started`, body, actions: [close, open], wide: Boolean(sh && sh.markdown), initialFocus: open });
  return m;
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

/** Modal: complete a session. Resolves to {session?, queued: bool} or null when cancelled. */
export function completeSessionModal(project, session) {
  return new Promise((resolve) => {
    let result = null;
    const radios = h("fieldset", { class: "radio-group" }, h("legend", null, "Outcome"),
      ...[["completed", "Completed"], ["failed", "Failed"]].map(([v, label], i) => h("label", { class: "radio-pill" },
        h("input", { type: "radio", name: "status", value: v, checked: i === 0 }), h("span", null, label))));
    const numInput = (v, integer) => {
      const el = input({ type: "number", min: 0, step: integer ? 1 : "any", inputmode: integer ? "numeric" : "decimal" });
      if (v !== null && v !== undefined && Number(v) !== 0) el.value = String(v);
      return el;
    };
    const fCredits = field("Credits used", numInput(session.credits_used, false));
    const fPlanned = field("Tasks planned", numInput(session.tasks_planned, true));
    const fDone = field("Tasks completed", numInput(session.tasks_completed, true));
    const recFields = {};
    const recGroup = h("fieldset", { class: "group two" }, h("legend", null, "Record (one item per line)"));
    for (const [key, label, hint] of RECORD_FIELDS) {
      const ta = textarea({ rows: key === "accomplishments" || key === "next_steps" ? 3 : 2, placeholder: hint });
      ta.value = (session[key] || []).join("\n");
      recFields[key] = field(label, ta, { optional: true });
      if (key === "links") recFields[key].classList.add("span-2");
      recGroup.append(recFields[key]);
    }
    const modeSel = select([
      { value: "auto", label: "Auto: LLM when configured, rules otherwise" },
      { value: "rules", label: "Rules: deterministic, no LLM" },
      { value: "llm", label: "LLM: summarize with the model (checked, falls back to rules)" },
    ]);
    const fMode = field("Handoff", modeSel, { hint: "How the next session's master prompt is written." });
    const form = h("form", { class: "form", novalidate: true, id: formId() },
      radios, h("div", { class: "form-row three" }, fCredits, fPlanned, fDone), recGroup, fMode);
    const submit = button("Complete session", { variant: "primary", type: "submit", icon: "check" });
    submit.setAttribute("form", form.id);
    const cancel = button("Cancel", { onclick: () => m.close() });
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      if (submit.disabled) return;
      const rules = {
        credits_used: { field: fCredits, get: () => numberValue(fCredits.control), check: checks.number({ label: "Credits used" }) },
        tasks_planned: { field: fPlanned, get: () => numberValue(fPlanned.control), check: checks.number({ integer: true, label: "Tasks planned" }) },
        tasks_completed: { field: fDone, get: () => numberValue(fDone.control), check: checks.number({ integer: true, label: "Tasks completed" }) },
      };
      for (const [key, label] of RECORD_FIELDS) {
        const f = recFields[key];
        rules[key] = { field: f, get: () => linesValue(f.control), check: key === "links" ? checks.lines(100, 2000, label) : checks.lines(200, 4000, label) };
      }
      const v = validate(rules);
      if (!v) return;
      const status = form.querySelector('input[name="status"]:checked').value;
      const body = { status };
      for (const [k, val] of Object.entries(v)) {
        if (val === null) continue;
        if (Array.isArray(val) && !val.length && !(session[k] || []).length) continue;
        body[k] = val;
      }
      const all = { credits_used: fCredits, tasks_planned: fPlanned, tasks_completed: fDone, ...recFields, handoff_mode: fMode };
      await busy(submit, async () => {
        try {
          body.handoff_mode = modeSel.value;
          const res = await api("POST", paths.complete(project.id, session.number), { body });
          result = { queued: true, response: res };
          toast(`Session ${session.number} ${status}. The handoff is being written.`, "success");
          m.close();
        } catch (err) {
          if (!showFieldError(err, all)) toast(err.message, "error");
        }
      }, "Saving…");
    });
    const m = openModal({ title: `Complete session ${session.number}`, body: form, actions: [cancel, submit], wide: true, onClose: () => resolve(result) });
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

  const showEditor = () => {
    clear(card);
    const list = h("ul", { class: "pins", "aria-label": "Pinned items" });
    const addRow = (text = "") => {
      const ta = textarea({ rows: 2, maxlength: 4000, "aria-label": "Pinned item" });
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
      if (list.children.length >= 100) {
        err.textContent = "At most 100 pinned items.";
        return;
      }
      addRow("").focus();
    } });
    const save = button("Save", { small: true, variant: "primary" });
    const cancel = button("Cancel", { small: true, onclick: showView });
    save.addEventListener("click", () => busy(save, async () => {
      const items = Array.from(list.querySelectorAll("textarea")).map((t) => t.value.trim()).filter(Boolean);
      const long = items.findIndex((s) => s.length > 4000);
      if (items.length > 100) {
        err.textContent = `At most 100 pinned items (you have ${items.length}).`;
        return;
      }
      if (long >= 0) {
        err.textContent = `Item ${long + 1} is longer than 4000 characters.`;
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

// ---------------------------------------------------------------- timeline
export function sessionRow(project, s, { onComplete } = {}) {
  const href = `#/projects/${encodeURIComponent(project.id)}/sessions/${s.number}`;
  const meta = h("div", { class: "tl-meta" }, statusBadge(s.status),
    h("span", null, `${num(s.credits_used)}${Number(s.credit_budget) ? ` / ${num(s.credit_budget)}` : ""} credits`),
    s.duration_s !== null && s.duration_s !== undefined ? h("span", null, duration(s.duration_s)) : null,
    s.model ? h("span", null, s.model) : null,
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
    toast(`Session ${s.number} started`, "success");
    reload();
    startedModal(project, s, ctx.navigate);
  } });
  const analytics = h("a", { class: "btn", href: `#/analytics/${pid}` }, icon("chart"), "Analytics");
  const edit = button("Edit", { icon: "edit", onclick: async () => {
    const saved = await projectModal(project);
    if (saved && saved !== project) reload();
  } });
  const del = button("Delete", { icon: "trash", variant: "ghost", class: "danger", label: "Delete project", onclick: async () => {
    if (await deleteProject(project)) ctx.navigate("#/projects");
  } });

  const s = project.sessions || {};
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
    statCard("Time in sessions", duration(project.duration_s), null, `${num(project.handoffs_ready)} handoffs ready`));

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
    pageHead(project.name, project.description || null, [start, analytics, edit, del],
      crumbs([["Projects", "#/projects"], [project.name, null]])),
    stats,
    h("div", { class: "grid grid-2 section" }, goal, pinsCard(project)),
    h("div", { class: "section" }, knowledgeCard(project)),
    sessionsSection);

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
