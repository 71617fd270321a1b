// Projects: the list (paged), create/edit in a modal, delete with confirmation.
import { api, paths, requestSchema } from "./api.js";
import {
  busy, button, clear, confirmModal, emptyState, errorState, formDialog, h, icon, loading, meter, num, plural,
  relTime, toast,
} from "./dom.js";

const PAGE = 24;

function pageHead(title, sub, actions, crumbs, badge) {
  return h("div", { class: "page-head" },
    h("div", { class: "titles" }, crumbs || null,
      badge ? h("div", { class: "title-row" }, h("h1", null, title), badge) : h("h1", null, title),
      sub ? h("p", { class: "page-sub" }, sub) : null),
    actions && actions.length ? h("div", { class: "actions" }, actions) : null);
}
export { pageHead };

export function crumbs(items) {
  const nav = h("nav", { class: "crumbs", "aria-label": "Breadcrumb" });
  items.forEach(([label, href], i) => {
    if (i) nav.append(h("span", { class: "sep", "aria-hidden": "true" }, "/"));
    nav.append(href ? h("a", { href }, label) : h("span", { "aria-current": "page" }, label));
  });
  return nav;
}

function statCard(label, value, sub, hint) {
  return h("div", { class: "card stat" },
    h("div", { class: "label" }, label),
    h("div", { class: "value" }, value, sub ? h("small", null, ` ${sub}`) : null),
    hint ? h("div", { class: "hint" }, hint) : null);
}
export { statCard };

/** Project form in a modal. `project` null = create. Resolves to the saved project, or null. */
export function projectModal(project) {
  return formDialog({
    title: project ? "Edit project" : "New project",
    schema: project ? requestSchema("/api/projects/{project_id}", "patch") : requestSchema("/api/projects", "post"),
    fields: {
      name: { label: "Name", required: true, value: project && project.name, placeholder: "e.g. Billing service rewrite" },
      description: { label: "Description", kind: "textarea", optional: true, value: project && project.description, placeholder: "What this project is about" },
      goal: { label: "Goal", kind: "textarea", optional: true, value: project && project.goal, placeholder: "What done looks like; every handoff carries it" },
    },
    submitLabel: project ? "Save changes" : "Create project",
    submit: async (v) => {
      if (project) {
        const body = {};
        if (v.name !== project.name) body.name = v.name;
        if (v.description !== (project.description || "")) body.description = v.description || null;
        if (v.goal !== (project.goal || "")) body.goal = v.goal || null;
        if (!Object.keys(body).length) return project;
        const saved = await api("PATCH", paths.project(project.id), { body });
        toast("Project saved", "success");
        return saved;
      }
      const body = { name: v.name };
      if (v.description) body.description = v.description;
      if (v.goal) body.goal = v.goal;
      const saved = await api("POST", paths.projects(), { body });
      toast(`Project “${saved.name}” created`, "success");
      return saved;
    },
  });
}

/** Confirm, then delete. Resolves true when deleted. */
export async function deleteProject(project) {
  const n = (project.sessions && project.sessions.total) || 0;
  const ok = await confirmModal({
    title: "Delete project?",
    message: `“${project.name}” and everything in it will be deleted: ${plural(n, "session")}, their transcripts, files and handoffs.`,
    detail: "This cannot be undone.",
    confirmLabel: "Delete project",
    danger: true,
  });
  if (!ok) return false;
  try {
    await api("DELETE", paths.project(project.id));
    toast(`Project “${project.name}” deleted`, "success");
    return true;
  } catch (e) {
    toast(e.message, "error");
    return false;
  }
}

function counter(k, v, sub) {
  return h("div", { class: "counter" }, h("div", { class: "k" }, k), h("div", { class: "v" }, v, sub ? h("small", null, ` ${sub}`) : null));
}

function projectCard(p, onChange) {
  const s = p.sessions || {};
  const title = h("h2", null, h("a", { href: `#/projects/${encodeURIComponent(p.id)}` }, p.name));
  const credits = h("div", { class: "counter" },
    h("div", { class: "k" }, "Credits"),
    h("div", { class: "v" }, num(p.credits_used), h("small", null, p.credit_budget ? ` / ${num(p.credit_budget)}` : " used")),
    meter(p.credits_used, p.credit_budget));
  const edit = button("Edit", { small: true, iconOnly: true, variant: "ghost", icon: "edit", label: `Edit ${p.name}`, title: "Edit", onclick: async () => {
    const saved = await projectModal(p);
    if (saved && saved !== p) onChange();
  } });
  const del = button("Delete", { small: true, iconOnly: true, variant: "ghost", icon: "trash", class: "danger", label: `Delete ${p.name}`, title: "Delete", onclick: async () => {
    if (await deleteProject(p)) onChange();
  } });
  return h("article", { class: "card project-card", "aria-label": p.name, dataset: { projectId: p.id } },
    h("div", { class: "head" }, title, s.in_progress ? h("span", { class: "badge badge-in_progress" }, `${num(s.in_progress)} active`) : null),
    p.description || p.goal ? h("p", { class: "desc" }, p.description || p.goal)
      : h("p", { class: "desc desc-none" }, "No description or goal yet"),
    h("div", { class: "counters" },
      counter("Sessions", num(s.total || 0), s.in_progress ? `· ${num(s.in_progress)} open` : null),
      credits,
      counter("Tasks", num(p.tasks_completed), `/ ${num(p.tasks_planned)}`)),
    h("div", { class: "foot" },
      h("span", { class: "muted small updated", title: p.updated_at || "" }, p.updated_at ? `Updated ${relTime(p.updated_at)}` : ""),
      h("span", { class: "spacer" }),
      h("a", { class: "btn btn-sm btn-ghost btn-icon", href: `#/analytics/${encodeURIComponent(p.id)}`, "aria-label": `Analytics for ${p.name}`, title: "Analytics" }, icon("chart")),
      edit, del));
}

export async function renderProjects(main, _params, ctx) {
  ctx.setTitle("Projects");
  const create = button("New project", { variant: "primary", icon: "plus", onclick: async () => {
    const p = await projectModal(null);
    if (p && ctx.isCurrent()) ctx.navigate(`#/projects/${encodeURIComponent(p.id)}`);
  } });
  const statsHost = h("div", { class: "grid grid-stats" });
  const list = h("div", { class: "grid grid-cards", id: "project-list" });
  const more = h("div", { class: "load-more" });
  const body = h("div", null, loading("Loading projects…"));

  const reload = () => {
    if (ctx.isCurrent()) renderProjects(main, _params, ctx);
  };

  let cursor = null;
  let count = 0;
  async function loadPage() {
    const page = await api("GET", paths.projects(), { query: { limit: PAGE, cursor } });
    if (!ctx.isCurrent()) return;
    const items = (page && page.items) || [];
    for (const p of items) list.append(projectCard(p, reload));
    count += items.length;
    cursor = (page && page.next_cursor) || null;
    clear(more);
    if (cursor) {
      const b = button("Load more", { onclick: () => busy(b, () => loadPage().catch((e) => toast(e.message, "error")), "Loading…") });
      more.append(b);
    }
  }

  clear(main);
  const all = h("a", { class: "btn", href: "#/analytics" }, icon("chart"), "Analytics");
  main.append(pageHead("Projects", "Long pieces of work, carried session by session.", [create, all]), statsHost, body);
  statsHost.hidden = true;

  api("GET", paths.stats()).then((st) => {
    if (!ctx.isCurrent() || !st || !st.projects) return;
    const sess = st.sessions || {};
    statsHost.append(
      statCard("Projects", num(st.projects)),
      statCard("Sessions", num(sess.total), sess.in_progress ? `· ${num(sess.in_progress)} open` : null),
      statCard("Credits used", num(st.credits_used), st.credit_budget ? `/ ${num(st.credit_budget)}` : "used"),
      statCard("Tasks done", num(st.tasks_completed), `/ ${num(st.tasks_planned)}`));
    statsHost.hidden = false;
    statsHost.classList.add("stats-gap");
  }).catch(() => { /* the totals are a nicety */ });

  try {
    await loadPage();
  } catch (e) {
    if (!ctx.isCurrent()) return;
    if (e.status === 401) throw e;
    clear(body).append(errorState(e, reload));
    return;
  }
  if (!ctx.isCurrent()) return;
  clear(body);
  if (!count) {
    body.append(emptyState("No projects yet",
      "A project holds a goal pursued over many AI sessions. Each session ends with a handoff that starts the next one.",
      button("Create your first project", { variant: "primary", icon: "plus", onclick: () => create.click() })));
  } else {
    body.append(list, more);
  }
}
