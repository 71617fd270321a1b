// Analytics of a project (Chart.js): efficiency and knowledge (predicted vs measured), credits, tasks, growth.
import { api, paths } from "./api.js";
import { clear, emptyState, h, icon, notice, num, pct } from "./dom.js";
import { crumbs, pageHead, statCard } from "./projects.js";
import { usd } from "./timeline.js";

// What the seed's growth model predicts is never the user's data: every such figure says so.
const SEED = "the seed's model";

function css(name, fallback) {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

function alpha(color, a) {
  // #rrggbb -> rgba(); other notations are returned as is.
  const m = /^#([0-9a-f]{6})$/i.exec(color);
  if (!m) return color;
  const n = parseInt(m[1], 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${a})`;
}

const finite = (v) => (v === null || v === undefined || v === "" || !Number.isFinite(Number(v)) ? null : Number(v));

function theme() {
  return {
    c1: css("--chart-1", "#4f46e5"), c2: css("--chart-2", "#0d9488"), c3: css("--chart-3", "#d97706"), c4: css("--chart-4", "#db2777"),
    grid: css("--chart-grid", "#e8ebf0"), text: css("--muted", "#6b7586"), danger: css("--danger", "#c2272d"),
    font: css("--font", "system-ui, sans-serif"),
  };
}

function chartCard(id, title, sub, description) {
  const canvas = h("canvas", { id, role: "img", "aria-label": description });
  canvas.append(document.createTextNode(description)); // fallback content
  const card = h("section", { class: "card chart-card", "aria-labelledby": `${id}-h` },
    h("h2", { id: `${id}-h` }, title), sub ? h("p", { class: "sub" }, sub) : null,
    h("div", { class: "chart-box" }, canvas));
  return { card, canvas };
}

function baseOptions(t, { percentY = false, y = {}, extra = {} } = {}) {
  const tick = percentY ? { callback: (v) => `${Math.round(v * 1000) / 10}%` } : {};
  return {
    responsive: true,
    maintainAspectRatio: false,
    animation: { duration: 250 },
    interaction: { mode: "index", intersect: false },
    plugins: {
      legend: { position: "bottom", labels: { boxWidth: 8, boxHeight: 8, usePointStyle: true, padding: 14, color: t.text, font: { family: t.font } } },
      tooltip: {
        callbacks: percentY ? {
          label: (c) => `${c.dataset.label}: ${c.parsed.y === null ? "—" : pct(c.parsed.y)}`,
        } : {},
      },
    },
    scales: {
      x: { grid: { display: false }, ticks: { color: t.text, font: { family: t.font } } },
      y: { grid: { color: t.grid }, border: { display: false }, ticks: { color: t.text, font: { family: t.font }, ...tick }, ...y },
    },
    ...extra,
  };
}

export async function renderAnalytics(main, [projectId], ctx) {
  const project = await api("GET", paths.project(projectId));
  if (!ctx.isCurrent()) return;
  ctx.setTitle(`Analytics · ${project.name}`);
  const pid = encodeURIComponent(project.id);
  const head = pageHead("Analytics", project.name,
    [h("a", { class: "btn", href: `#/projects/${pid}` }, icon("back"), "Back to project")],
    crumbs([["Projects", "#/projects"], [project.name, `#/projects/${pid}`], ["Analytics", null]]));

  const data = await api("GET", paths.analytics(project.id));
  if (!ctx.isCurrent()) return;
  clear(main);
  main.append(head);

  const series = Array.isArray(data && data.series) ? data.series.filter((s) => s && typeof s === "object") : [];
  series.sort((a, b) => (Number(a.number) || 0) - (Number(b.number) || 0));
  const accounts = Array.isArray(data && data.accounts) ? data.accounts.filter((a) => a && typeof a === "object") : [];
  const stt = (data && data.sessions_to_target) || {};
  const p = (data && data.project) || project;

  // ---- stat cards
  const target = finite(stt.target);
  const limit = finite(data && data.limit) ?? 0.95;
  const sessionsNeeded = finite(stt.sessions);
  const done = series.length ? Math.max(...series.map((s) => Number(s.number) || 0)) : 0;
  const sttCard = statCard(`Sessions to ${target !== null ? pct(target, 0) : "target"} efficiency`,
    sessionsNeeded !== null ? num(sessionsNeeded) : "—", sessionsNeeded !== null ? "sessions" : null,
    stt.note || (sessionsNeeded !== null
      ? `${sessionsNeeded > done ? `${num(sessionsNeeded - done)} to go. ` : "Reached. "}The predicted curve approaches ${pct(limit, 0)} but never reaches it, so the target sits just below.`
      : stt.reason || `Efficiency approaches ${pct(limit, 0)} but never reaches it.`));
  sttCard.id = "stat-sessions-to-target";
  sttCard.classList.add("seed-model");
  sttCard.querySelector(".label").append(` (${SEED})`);
  const last = [...series].reverse().find((s) => finite(s.efficiency_measured) !== null) || null;
  const creditsUsed = finite(p.credits_used) ?? series.reduce((a, s) => a + (finite(s.credits_used) || 0), 0);
  const creditBudget = finite(p.credit_budget) ?? series.reduce((a, s) => a + (finite(s.credit_budget) || 0), 0);
  const tasksDone = finite(p.tasks_completed) ?? series.reduce((a, s) => a + (finite(s.tasks_completed) || 0), 0);
  const tasksPlanned = finite(p.tasks_planned) ?? series.reduce((a, s) => a + (finite(s.tasks_planned) || 0), 0);
  const cost = (data && data.cost) || {};
  const costCard = costTotalsCard(cost, "stat-cost");
  costCard.classList.add("highlight");
  const peakCard = statCard("Peak context", cost.peak_context_tokens ? num(cost.peak_context_tokens) : "—",
    cost.peak_context_tokens ? "tokens" : null, "the largest prompt of any session");
  peakCard.id = "stat-peak-context";
  const effCard = statCard("Measured efficiency", last ? pct(finite(last.efficiency_measured)) : "—", null,
    last ? `session ${last.number}: tasks completed / planned` : "tasks completed / planned, once recorded");
  effCard.id = "stat-measured-efficiency";
  // measured figures first; the seed's predictions after them, labelled as such
  main.append(h("h2", { class: "section-title" }, "Measured"), h("div", { class: "grid grid-stats", id: "measured-stats" },
    costCard, peakCard,
    statCard("Credits used", num(creditsUsed), creditBudget ? `/ ${num(creditBudget)}` : null, "typed by hand"),
    effCard,
    statCard("Tasks done", num(tasksDone), `/ ${num(tasksPlanned)}`)),
  h("h2", { class: "section-title section" }, `Predicted by ${SEED}`),
  h("p", { class: "muted small", id: "seed-model-note" },
    "These come from the seed specification's growth formulas (fixed constants), not from this project's data: ",
    "dashed lines in the charts below. Measured figures are above."),
  h("div", { class: "grid grid-stats", id: "seed-stats" }, sttCard));

  if (!series.length) {
    main.append(h("div", { class: "section" }, emptyState("No sessions to chart yet",
      "Charts appear once the project has sessions with recorded credits and tasks.")));
    return;
  }
  const Chart = window.Chart;
  if (!Chart) {
    main.append(notice("error", "Charts could not load", "Chart.js is missing from ui/vendor (run `node scripts/vendor-ui.js`)."));
    return;
  }

  const t = theme();
  Chart.defaults.font.family = t.font;
  Chart.defaults.color = t.text;
  const labels = series.map((s) => (s.status === "in_progress" ? `#${s.number} (running)` : `#${s.number}`));
  const col = (k) => series.map((s) => finite(s[k]));
  // The first field present wins (the API's names grew: growth_rate -> growth_rate_measured, ...).
  const pick = (...keys) => series.map((s) => {
    for (const k of keys) if (s[k] !== undefined) return finite(s[k]);
    return null;
  });
  const charts = [];
  ctx.onLeave(() => charts.forEach((c) => c.destroy()));
  const grid = h("div", { class: "grid grid-2 section" });
  main.append(grid);
  const line = (label, values, color, { dashed = false, fill = false } = {}) => ({
    type: "line", label, data: values, borderColor: color, backgroundColor: fill ? alpha(color, 0.12) : color,
    // sessions are discrete: straight segments between the points, no smoothed curve through them;
    // a session in progress has no measured value (a gap, not a zero)
    borderWidth: 2, borderDash: dashed ? [6, 4] : [], pointRadius: dashed ? 0 : 3, pointHoverRadius: 5,
    tension: 0, spanGaps: false, fill,
  });
  const bar = (label, values, color, extra = {}) => ({
    type: "bar", label, data: values, backgroundColor: color, borderRadius: 4, maxBarThickness: 36, ...extra,
  });
  const add = (id, title, sub, desc, config) => {
    const { card, canvas } = chartCard(id, title, sub, desc);
    grid.append(card);
    const chart = new Chart(canvas, config);
    charts.push(chart);
    return { card, chart };
  };

  // Cost and peak context per session (measured from the transcripts; an unpriced session is a gap)
  const costs = col("cost_usd");
  if (costs.some((v) => v !== null) || col("peak_context_tokens").some((v) => v !== null)) {
    add("chart-cost", "Cost per session", "Dollars from each transcript's tokens, priced per model; an unpriced or running session is a gap, not $0.",
      "Bar chart of the cost in dollars per session, with the peak context as a line", {
        data: { labels, datasets: [
          bar("Cost ($)", costs, t.c4, { yAxisID: "y" }),
          { ...line("Peak context (tokens)", col("peak_context_tokens"), t.c3), yAxisID: "y1" },
        ] },
        options: baseOptions(t, { y: { beginAtZero: true, ticks: { color: t.text, callback: (v) => `$${v}` } },
          extra: { scales: {
            x: { grid: { display: false }, ticks: { color: t.text } },
            y: { beginAtZero: true, grid: { color: t.grid }, border: { display: false }, ticks: { color: t.text, callback: (v) => `$${v}` } },
            y1: { beginAtZero: true, position: "right", grid: { display: false }, border: { display: false }, ticks: { color: t.text } },
          } } }),
      });
  }

  // Efficiency
  const effTarget = target !== null ? series.map(() => target) : null;
  add("chart-efficiency", "Efficiency", `Measured: tasks completed / planned. Dashed: ${SEED}, 0.7 + 0.25·tanh(N/50), not a prediction from your data.`,
    "Line chart of predicted and measured efficiency per session", {
      type: "line",
      data: { labels, datasets: [
        line("Measured", pick("efficiency_measured"), t.c2),
        line(`Predicted (${SEED})`, col("efficiency_predicted"), t.c1, { dashed: true }),
        ...(effTarget ? [{ ...line(`Target ${pct(target, 0)}`, effTarget, t.text, { dashed: true }), borderWidth: 1, borderDash: [2, 3] }] : []),
      ] },
      options: baseOptions(t, { percentY: true, y: { suggestedMin: 0, suggestedMax: 1 } }),
    });

  // Knowledge
  const kMeasured = col("knowledge_measured");
  const hasKm = kMeasured.some((v) => v !== null);
  add("chart-knowledge", "Knowledge", hasKm
    ? `Dashed: ${SEED}, 1 + ln(1 + N/10). Measured: the same formula with H in place of N, H = the sessions so far that started from a handoff (context actually carried forward), so a cold start does not add to it.`
    : `Dashed: ${SEED}, 1 + ln(1 + N/10); no measured value recorded yet.`,
    "Line chart of predicted and measured knowledge per session", {
      type: "line",
      data: { labels, datasets: [
        ...(hasKm ? [line("Measured", kMeasured, t.c2)] : []),
        line(`Predicted (${SEED})`, col("knowledge_predicted"), t.c1, { dashed: true }),
      ] },
      options: baseOptions(t, { y: { suggestedMin: 1 } }),
    });

  // Credits per session
  add("chart-credits", "Credits per session", "Credits used against each session's budget.",
    "Bar chart of credits used per session, with the budget as a line", {
      data: { labels, datasets: [
        bar("Used", col("credits_used"), t.c1),
        { ...line("Budget", col("credit_budget"), t.c3), tension: 0, pointRadius: 3 },
      ] },
      options: baseOptions(t, { y: { beginAtZero: true } }),
    });

  // Credits per AI account
  if (accounts.length) {
    add("chart-accounts", "Credits and cost by AI account", "Credits typed by hand against the account's budget, and dollars priced from the transcripts.",
      "Horizontal bar chart of credits used and budget per AI account", {
        type: "bar",
        data: { labels: accounts.map((a) => String(a.name ?? a.id ?? "?")), datasets: [
          bar("Used", accounts.map((a) => finite(a.credits_used)), t.c1),
          bar("Budget", accounts.map((a) => finite(a.credit_budget)), alpha(t.c3, 0.45)),
          bar("Cost ($)", accounts.map((a) => finite(a.cost_usd)), t.c4),
        ] },
        options: { ...baseOptions(t), indexAxis: "y", scales: {
          x: { beginAtZero: true, grid: { color: t.grid }, border: { display: false }, ticks: { color: t.text } },
          y: { grid: { display: false }, ticks: { color: t.text } },
        } },
      });
  } else {
    const c = h("section", { class: "card chart-card" }, h("h2", null, "Credits by AI account"),
      emptyState("No AI accounts used", "Pick an AI account when starting sessions to see spend per account."));
    grid.append(c);
  }

  // Tasks
  add("chart-tasks", "Tasks", "Completed against planned, per session.", "Bar chart of tasks planned and completed per session", {
    type: "bar",
    data: { labels, datasets: [
      bar("Planned", col("tasks_planned"), alpha(t.c1, 0.25)),
      bar("Completed", col("tasks_completed"), t.c2),
    ] },
    options: baseOptions(t, { y: { beginAtZero: true, ticks: { precision: 0, color: t.text } } }),
  });

  // Effective output: credits x efficiency x knowledge
  const effOutPred = pick("effective_output_predicted");
  const effOutMeas = pick("effective_output_measured", "effective_output");
  if (effOutPred.some((v) => v !== null) || effOutMeas.some((v) => v !== null)) {
    add("chart-output", "Effective output", `Credits used × efficiency × knowledge: measured, and dashed ${SEED}.`,
      "Line chart of predicted and measured effective output per session", {
        type: "line",
        data: { labels, datasets: [
          line("Measured", effOutMeas, t.c4),
          line(`Predicted (${SEED})`, effOutPred, t.c1, { dashed: true }),
        ] },
        options: baseOptions(t, { y: { beginAtZero: true } }),
      });
  }

  // Growth rate: relative change of effective output per session
  const growth = pick("growth_rate_measured", "growth_rate");
  const growthPred = pick("growth_rate_predicted");
  const { card: gCard } = add("chart-growth", "Growth rate", `Relative change of effective output from one session to the next; dashed: ${SEED}.`,
    "Bar chart of the measured growth rate per session, with the predicted rate as a line", {
      type: "bar",
      data: { labels, datasets: [
        bar("Measured", growth, growth.map((v) => (v !== null && v < 0 ? alpha(t.danger, 0.75) : t.c2))),
        ...(growthPred.some((v) => v !== null) ? [line(`Predicted (${SEED})`, growthPred, t.c1, { dashed: true })] : []),
      ] },
      options: baseOptions(t, { percentY: true }),
    });
  if (grid.children.length % 2 === 1) gCard.classList.add("span-2");
}

/** A cost total as text: dollars when something was priced, "unpriced" when tokens could not be, else a dash. */
function costText(cost) {
  const c = cost || {};
  if (c.usd !== null && c.usd !== undefined) return usd(c.usd);
  return c.sessions_with_tokens_unpriced ? "unpriced" : "—";
}

/** A cost card over several sessions (a project's analytics, or every project's in /api/stats). */
function costTotalsCard(cost, id) {
  const c = cost || {};
  const unpriced = c.unpriced_models || [];
  const card = statCard("Cost", costText(c), null,
    [c.sessions_priced ? `${num(c.sessions_priced)} session${c.sessions_priced === 1 ? "" : "s"} priced from their tokens` : "priced from transcripts' tokens",
      unpriced.length ? `unpriced: ${unpriced.join(", ")}` : null,
      c.price_table ? `price table ${c.price_table}` : null].filter(Boolean).join(" · "));
  card.id = id;
  return card;
}

/** Every project side by side (from the counters kept on each project: one request). */
export async function renderAllAnalytics(main, _params, ctx) {
  ctx.setTitle("Analytics");
  const st = await api("GET", paths.stats());
  if (!ctx.isCurrent()) return;
  clear(main);
  const rows = Array.isArray(st.per_project) ? st.per_project : [];
  main.append(
    pageHead("Analytics", "All projects side by side: spend, tasks and sessions.", null, null),
    h("div", { class: "grid grid-stats" },
      statCard("Projects", num(st.projects)),
      statCard("Sessions", num(st.sessions && st.sessions.total), null,
        `${num(st.sessions && st.sessions.completed)} completed · ${num(st.sessions && st.sessions.in_progress)} in progress`),
      statCard("Credits used", num(st.credits_used), st.credit_budget ? `/ ${num(st.credit_budget)}` : "used"),
      statCard("Tasks done", num(st.tasks_completed), `/ ${num(st.tasks_planned)}`,
        st.task_completion !== null && st.task_completion !== undefined ? `${pct(st.task_completion)} of planned` : null),
      costTotalsCard(st.cost, "all-cost")));
  if (!rows.length) {
    main.append(h("div", { class: "section" }, emptyState("No projects yet", "Create a project and run sessions to compare them here.")));
    return;
  }
  const tbody = h("tbody");
  for (const r of rows) {
    const pid = encodeURIComponent(r.id);
    tbody.append(h("tr", null,
      h("td", { class: "primary", "data-label": "Project" }, h("a", { href: `#/analytics/${pid}` }, r.name)),
      h("td", { class: "num", "data-label": "Sessions" }, num(r.sessions.total), r.sessions.in_progress ? h("span", { class: "muted small" }, ` (${num(r.sessions.in_progress)} running)`) : null),
      h("td", { class: "num", "data-label": "Credits" }, num(r.credits_used), r.credit_budget ? h("span", { class: "muted small" }, ` / ${num(r.credit_budget)}`) : " used"),
      h("td", { class: "num", "data-label": "Cost" }, costText(r.cost)),
      h("td", { class: "num", "data-label": "Tasks" }, `${num(r.tasks_completed)} / ${num(r.tasks_planned)}`),
      h("td", { class: "num", "data-label": "Task completion" }, r.task_completion === null ? "—" : pct(r.task_completion)),
      h("td", { class: "num", "data-label": "Errors" }, num(r.errors)),
      h("td", { class: "num", "data-label": "Handoffs" }, num(r.handoffs_ready))));
  }
  const table = h("div", { class: "card section table-wrap" }, h("table", { class: "table stack", id: "all-projects" },
    h("thead", null, h("tr", null, h("th", null, "Project"), h("th", { class: "num" }, "Sessions"), h("th", { class: "num" }, "Credits"),
      h("th", { class: "num" }, "Cost"), h("th", { class: "num" }, "Tasks"), h("th", { class: "num" }, "Task completion"), h("th", { class: "num" }, "Errors"),
      h("th", { class: "num" }, "Handoffs"))),
    tbody));
  const grid = h("div", { class: "grid grid-2 section" });
  main.append(grid, table);
  const Chart = window.Chart;
  if (!Chart) return;
  const t = theme();
  const charts = [];
  ctx.onLeave(() => charts.forEach((c) => c.destroy()));
  const labels = rows.map((r) => r.name);
  const credits = chartCard("chart-all-credits", "Credits by project", "Used against the sum of the sessions' budgets.",
    "Bar chart of credits used and budgeted per project");
  const tasks = chartCard("chart-all-tasks", "Task completion by project", "Tasks completed / planned, over all sessions.",
    "Bar chart of task completion per project");
  grid.append(credits.card, tasks.card);
  charts.push(new Chart(credits.canvas, {
    type: "bar",
    data: { labels, datasets: [
      { label: "Used", data: rows.map((r) => finite(r.credits_used)), backgroundColor: t.c1, borderRadius: 4, maxBarThickness: 36 },
      { label: "Budget", data: rows.map((r) => finite(r.credit_budget)), backgroundColor: alpha(t.c3, 0.45), borderRadius: 4, maxBarThickness: 36 },
    ] },
    options: baseOptions(t, { y: { beginAtZero: true } }),
  }));
  charts.push(new Chart(tasks.canvas, {
    type: "bar",
    data: { labels, datasets: [
      { label: "Task completion", data: rows.map((r) => finite(r.task_completion)), backgroundColor: t.c2, borderRadius: 4, maxBarThickness: 36 },
    ] },
    options: baseOptions(t, { percentY: true, y: { beginAtZero: true, suggestedMax: 1 } }),
  }));
}
