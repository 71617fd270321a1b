// Timelines drawn by hand in SVG (nodes built with createElementNS, text only; no library):
// a project's sessions on a time axis (zoom, pan, click to open) and one session's events.
import { api } from "./api.js";
import { button, dateTime, duration, emptyState, errorState, h, loading, num } from "./dom.js";

const NS = "http://www.w3.org/2000/svg";
const enc = encodeURIComponent;

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined && v !== false) el.setAttribute(k, String(v));
  for (const c of children) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

const time = (iso) => {
  const t = iso ? Date.parse(iso) : NaN;
  return Number.isFinite(t) ? t : null;
};

/** Dollars as people read them; null (an unpriced model, or no tokens) is never shown as $0. */
export function usd(v) {
  if (v === null || v === undefined || !Number.isFinite(Number(v))) return null;
  const n = Number(v);
  return n >= 100 ? `$${n.toFixed(0)}` : n >= 1 ? `$${n.toFixed(2)}` : `$${n.toFixed(n >= 0.01 ? 2 : 4)}`;
}

/** A project's cost from its timeline: "$12.34", "+ N unpriced" when some sessions could not be priced. */
export function projectCost(sessions) {
  const priced = sessions.filter((s) => s.cost_usd !== null && s.cost_usd !== undefined);
  const unpriced = sessions.filter((s) => (s.cost_usd === null || s.cost_usd === undefined) && s.tokens).length;
  const peak = Math.max(0, ...sessions.map((s) => Number(s.peak_context_tokens) || 0));
  const total = priced.reduce((a, s) => a + Number(s.cost_usd), 0);
  return {
    value: priced.length ? usd(total) : unpriced ? "unpriced" : "—",
    hint: [priced.length ? `${num(priced.length)} session${priced.length === 1 ? "" : "s"} priced from their tokens` : "priced from transcripts' tokens",
      unpriced ? `${num(unpriced)} unpriced` : null, peak ? `peak context ${num(peak)} tokens` : null].filter(Boolean).join(" · "),
  };
}

/** A session's cost in words: "$1.23", "unpriced (model)" or "—" without tokens. */
export function costText(cost, tokens) {
  if (cost && cost.usd !== null && cost.usd !== undefined) {
    const un = (cost.unpriced_models || []).length ? ` + unpriced (${cost.unpriced_models.join(", ")})` : "";
    return usd(cost.usd) + un;
  }
  if (cost && (cost.unpriced_models || []).length) return `unpriced (${cost.unpriced_models.join(", ")})`;
  return tokens ? "unpriced" : "—";
}

function tickStep(span) {
  const steps = [60e3, 5 * 60e3, 15 * 60e3, 3600e3, 3 * 3600e3, 6 * 3600e3, 86400e3, 7 * 86400e3, 30 * 86400e3];
  return steps.find((s) => span / s <= 6) || 90 * 86400e3;
}

function tickLabel(t, step) {
  const d = new Date(t);
  if (step < 86400e3) return d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
  return d.toLocaleDateString(undefined, { month: "short", day: "numeric" });
}

// ---------------------------------------------------------------- project timeline
const ROW = 34;
const AXIS = 26;

/** The project page's time-axis view: one bar per session over its real span. */
export function projectTimelineCard(project, ctx, { onData } = {}) {
  const pid = enc(project.id);
  const card = h("section", { class: "card ptl-card", "aria-labelledby": "ptl-h", id: "project-timeline" },
    h("div", { class: "card-title-row" }, h("h2", { id: "ptl-h" }, "Timeline")), loading("Loading the timeline…"));
  api("GET", `/api/projects/${pid}/timeline`).then((data) => {
    if (!ctx.isCurrent()) return;
    if (onData) onData(data);
    const sessions = ((data && data.sessions) || []).filter((s) => time(s.started_at) !== null);
    if (!sessions.length) {
      card.replaceChildren(card.firstChild, emptyState("No sessions yet", "Each session appears here over its real span, from its transcript's first to last message."));
      return;
    }
    draw(card, project, sessions, ctx);
  }).catch((e) => {
    if (ctx.isCurrent()) card.replaceChildren(card.firstChild, errorState(e));
  });
  return card;
}

function draw(card, project, sessions, ctx) {
  const pid = enc(project.id);
  const now = Date.now();
  const spans = sessions.map((s) => {
    const a = time(s.started_at);
    let b = time(s.ended_at);
    if (b === null) b = s.status === "in_progress" ? Math.max(now, a) : a;
    return { s, a, b: Math.max(a, b) };
  });
  const min = Math.min(...spans.map((x) => x.a));
  const max = Math.max(...spans.map((x) => x.b));
  const pad = Math.max((max - min) * 0.04, 5 * 60e3);
  const full = [min - pad, max + pad];
  let view = [...full];

  const plot = h("div", { class: "ptl-plot", tabindex: "0", role: "group",
    "aria-label": "Sessions on a time axis: arrow keys pan, + and - zoom, Enter on a session opens it" });
  const range = h("span", { class: "muted small ptl-range", role: "status" });
  const zoom = (f, at) => {
    const [a, b] = view;
    const c = at ?? (a + b) / 2;
    const span = Math.min(Math.max((b - a) * f, 60e3), (full[1] - full[0]) * 4);
    const k = (c - a) / (b - a);
    view = [c - span * k, c - span * k + span];
    render();
  };
  const pan = (frac) => {
    const d = (view[1] - view[0]) * frac;
    view = [view[0] + d, view[1] + d];
    render();
  };
  const tools = h("div", { class: "toolbar ptl-tools" },
    button("Zoom in", { small: true, onclick: () => zoom(0.5) }),
    button("Zoom out", { small: true, onclick: () => zoom(2) }),
    button("←", { small: true, label: "Pan earlier", onclick: () => pan(-0.25) }),
    button("→", { small: true, label: "Pan later", onclick: () => pan(0.25) }),
    button("Fit", { small: true, label: "Show every session", onclick: () => { view = [...full]; render(); } }),
    range);
  const legend = h("p", { class: "muted small ptl-legend" },
    h("span", { class: "ptl-key completed" }), "completed ", h("span", { class: "ptl-key in_progress" }), "in progress ",
    h("span", { class: "ptl-key failed" }), "failed · ● commits · ✓ checks passed · ✗ checks failed · ⚠ errors · dashed line: the handoff to the next session");
  card.replaceChildren(card.firstChild, tools, plot, legend);

  let width = 0;
  const height = AXIS + spans.length * ROW + 8;
  const x = (t) => ((t - view[0]) / (view[1] - view[0])) * width;

  function render() {
    width = Math.max(200, plot.clientWidth || 600);
    const root = svg("svg", { class: "ptl-svg", width, height, viewBox: `0 0 ${width} ${height}`, role: "presentation" });
    // axis
    const step = tickStep(view[1] - view[0]);
    const axis = svg("g", { class: "ptl-axis" });
    for (let t = Math.ceil(view[0] / step) * step; t <= view[1]; t += step) {
      const px = x(t);
      axis.append(svg("line", { x1: px, x2: px, y1: AXIS - 6, y2: height, class: "ptl-grid" }),
        svg("text", { x: px + 3, y: AXIS - 10, class: "ptl-tick" }, tickLabel(t, step)));
    }
    root.append(axis);
    // handoff connectors: the end of session n to the start of session n + 1
    const byNum = new Map(spans.map((sp, i) => [sp.s.number, { ...sp, i }]));
    for (const sp of spans) {
      const next = byNum.get(sp.s.number + 1);
      if (!next || !sp.s.handoff) continue;
      const y1 = AXIS + byNum.get(sp.s.number).i * ROW + ROW / 2;
      const y2 = AXIS + next.i * ROW + ROW / 2;
      const x1 = x(sp.b);
      const x2 = x(next.a);
      const hs = String(sp.s.handoff.status || "").replace(/[^a-z_]/g, "");
      root.append(svg("path", { class: `ptl-handoff ${hs}`, d: `M${x1},${y1} C${x1 + 12},${y1} ${x2 - 12},${y2} ${x2},${y2}` },
        svg("title", {}, `Handoff from session ${sp.s.number} to ${sp.s.number + 1}: ${sp.s.handoff.status}${sp.s.handoff.method ? ` (${sp.s.handoff.method})` : ""}`)));
    }
    spans.forEach((sp, i) => {
      const s = sp.s;
      const y = AXIS + i * ROW;
      const x1 = x(sp.a);
      const w = Math.max(4, x(sp.b) - x1);
      const status = String(s.status).replace(/[^a-z_]/g, "");
      const cost = usd(s.cost_usd);
      const marks = [
        s.commits ? `●${s.commits}` : null,
        s.checks && s.checks.pass ? `✓${s.checks.pass}` : null,
        s.checks && s.checks.fail ? `✗${s.checks.fail}` : null,
        s.errors ? `⚠${s.errors}` : null,
      ].filter(Boolean);
      const label = `#${s.number} ${s.title || ""}`.trim();
      const info = [s.tokens ? `${num(s.tokens)} tok` : null, cost || (s.tokens ? "unpriced" : null)].filter(Boolean).join(" · ");
      const desc = `Session ${s.number}${s.title ? `: ${s.title}` : ""}, ${s.status}, ${dateTime(s.started_at)} for ${duration((sp.b - sp.a) / 1000)}` +
        `${info ? `, ${info}` : ""}, ${s.commits} commits, ${(s.checks && s.checks.pass) || 0} checks passed, ${(s.checks && s.checks.fail) || 0} failed, ${s.errors} errors`;
      const g = svg("a", { href: `#/projects/${enc(project.id)}/sessions/${s.number}`, class: `ptl-session ${status}`,
        "data-session": s.number, "aria-label": desc },
      svg("title", {}, desc),
      svg("rect", { x: x1, y: y + 6, width: w, height: ROW - 12, rx: 4, class: `ptl-bar ${status}` }));
      // the text follows the bar; near the right edge it goes before the bar, never out of the plot
      const room = width - (x1 + w + 6);
      const before = room < 160 && x1 - 6 > room;
      const tx = before ? Math.min(x1 - 6, width - 4) : Math.max(x1 + w + 6, 4);
      const text = svg("text", { x: tx, y: y + ROW / 2 + 4, class: "ptl-label", "text-anchor": before ? "end" : null }, label);
      if (info) text.append(svg("tspan", { class: "ptl-info" }, `  ${info}`));
      for (const m of marks) text.append(svg("tspan", { class: `ptl-mark ${m[0] === "✗" || m[0] === "⚠" ? "bad" : m[0] === "✓" ? "good" : ""}` }, `  ${m}`));
      g.append(text);
      root.append(g);
    });
    plot.replaceChildren(root);
    // a label put before its bar that would still run off the left edge goes after the bar instead
    for (const t of root.querySelectorAll("text.ptl-label[text-anchor=end]")) {
      if (t.getBBox().x < 0) {
        const bar = t.parentNode.querySelector("rect");
        t.removeAttribute("text-anchor");
        t.setAttribute("x", String(Number(bar.getAttribute("x")) + Number(bar.getAttribute("width")) + 6));
      }
    }
    range.textContent = `${dateTime(new Date(view[0]).toISOString())} – ${dateTime(new Date(view[1]).toISOString())}`;
  }

  // wheel zooms around the pointer; drag pans (a drag is not a click)
  plot.addEventListener("wheel", (e) => {
    e.preventDefault();
    if (Math.abs(e.deltaX) > Math.abs(e.deltaY)) { // a sideways swipe (trackpad) pans
      pan(e.deltaX / Math.max(width, 1));
      return;
    }
    const rect = plot.getBoundingClientRect();
    const at = view[0] + ((e.clientX - rect.left) / rect.width) * (view[1] - view[0]);
    zoom(e.deltaY > 0 ? 1.25 : 0.8, at);
  }, { passive: false });
  let drag = null;
  plot.addEventListener("pointerdown", (e) => {
    if (e.button !== 0) return;
    delete plot.dataset.dragged;
    drag = { x: e.clientX, view: [...view], moved: false };
  });
  const move = (e) => {
    if (!drag) return;
    const dx = e.clientX - drag.x;
    if (Math.abs(dx) > 3) drag.moved = true;
    if (!drag.moved) return;
    const dt = (dx / width) * (drag.view[1] - drag.view[0]);
    view = [drag.view[0] - dt, drag.view[1] - dt];
    render();
  };
  window.addEventListener("pointermove", move);
  const end = () => {
    if (drag && drag.moved) {
      plot.dataset.dragged = "1"; // the click that ends a drag is not a click on a session
      setTimeout(() => delete plot.dataset.dragged, 0);
    }
    drag = null;
  };
  window.addEventListener("pointerup", end);
  plot.addEventListener("click", (e) => {
    if (plot.dataset.dragged) {
      e.preventDefault();
      delete plot.dataset.dragged;
    }
  }, true);
  plot.addEventListener("keydown", (e) => {
    if (e.key === "ArrowLeft") pan(-0.1);
    else if (e.key === "ArrowRight") pan(0.1);
    else if (e.key === "+" || e.key === "=") zoom(0.5);
    else if (e.key === "-") zoom(2);
    else return;
    e.preventDefault();
  });
  const ro = new ResizeObserver(() => { if (plot.clientWidth && plot.clientWidth !== width) render(); });
  ro.observe(plot);
  ctx.onLeave(() => {
    ro.disconnect();
    window.removeEventListener("pointermove", move);
    window.removeEventListener("pointerup", end);
  });
  requestAnimationFrame(render);
}

// ---------------------------------------------------------------- session timeline
const KIND_LABEL = {
  edit: "Edit", command: "Command", check: "Check", commit: "Commit", push: "Push", compaction: "Compaction",
  note: "Note", error: "Error", user: "User",
};

/** Where a message of a session opens: the Transcript tab, scrolled to that message. */
export function messageHref(projectId, number, index) {
  return `#/projects/${enc(projectId)}/sessions/${enc(number)}/messages/${enc(index)}`;
}

/** The session page's timeline of events (from GET .../sessions/{n}/timeline); each opens its message. */
export function sessionTimelineCard(project, session, ctx) {
  // no transcript, no events: the page leads with the starting prompt, not an empty card
  if (!session.transcript) return null;
  const card = h("section", { class: "card stl-card section", id: "session-timeline", "aria-labelledby": "stl-h" },
    h("div", { class: "card-title-row" }, h("h2", { id: "stl-h" }, "Timeline")), loading("Loading events…"));
  const head = card.firstChild;
  api("GET", `/api/projects/${enc(project.id)}/sessions/${enc(session.number)}/timeline`).then((data) => {
    if (!ctx.isCurrent()) return;
    const events = ((data && data.events) || []).filter((e) => e && Number.isInteger(Number(e.index)));
    if (!events.length) {
      card.replaceChildren(head, h("p", { class: "muted" }, "No edits, commands, checks or commits in this transcript."));
      return;
    }
    const counts = {};
    for (const e of events) counts[e.kind] = (counts[e.kind] || 0) + 1;
    const summary = h("p", { class: "muted small stl-summary" }, Object.entries(counts).map(([k, n]) => `${n} ${(KIND_LABEL[k] || k).toLowerCase()}${n > 1 ? "s" : ""}`).join(" · "));
    // the strip: each event at its message's place in the session (its time when every event has one)
    const timed = events.every((e) => time(e.at) !== null);
    const lo = timed ? Math.min(...events.map((e) => time(e.at))) : Math.min(...events.map((e) => Number(e.index)));
    const hi = timed ? Math.max(...events.map((e) => time(e.at))) : Math.max(...events.map((e) => Number(e.index)));
    const pos = (e) => (hi === lo ? 0.5 : ((timed ? time(e.at) : Number(e.index)) - lo) / (hi - lo));
    const strip = svg("svg", { class: "stl-strip", viewBox: "0 0 1000 40", preserveAspectRatio: "none", "aria-hidden": "true" },
      svg("line", { x1: 0, x2: 1000, y1: 20, y2: 20, class: "stl-axis" }));
    for (const e of events) {
      const kind = String(e.kind).replace(/[^a-z]/g, "");
      const bad = e.outcome === "fail" || kind === "error";
      strip.append(svg("rect", { x: 4 + pos(e) * 990, y: bad ? 4 : 10, width: 3, height: bad ? 32 : 20,
        class: `stl-tick ${kind}${bad ? " fail" : e.outcome === "pass" ? " pass" : ""}` }));
    }
    const list = h("ol", { class: "stl-list", "aria-label": "Events, in order" });
    for (const e of events) {
      const kind = String(e.kind).replace(/[^a-z]/g, "");
      const outcome = e.outcome === "pass" || e.outcome === "fail" ? e.outcome : null;
      list.append(h("li", { class: `stl-event ${kind}` }, h("a", { href: messageHref(project.id, session.number, e.index),
        dataset: { index: String(e.index), kind } },
      h("span", { class: `stl-kind ${kind}` }, KIND_LABEL[kind] || kind),
      h("span", { class: "stl-label" }, String(e.label || "")),
      e.path && !String(e.label || "").includes(String(e.path)) ? h("code", { class: "stl-path" }, String(e.path)) : null,
      outcome ? h("span", { class: `badge ${outcome === "pass" ? "badge-completed" : "badge-failed"}` }, outcome === "pass" ? "passed" : "failed") : null,
      h("span", { class: "muted small stl-at" }, e.at ? new Date(e.at).toLocaleTimeString() : `message ${e.index}`))));
    }
    card.replaceChildren(head, summary, strip, list);
    if (data.truncated) card.append(h("p", { class: "muted small" }, "Only the first events are shown: the transcript has more."));
  }).catch((e) => {
    if (!ctx.isCurrent()) return;
    if (e.status === 404 && !["session_not_found", "project_not_found"].includes(e.code)) {
      card.remove(); // an API without the session timeline route: no card rather than an error
      return;
    }
    card.replaceChildren(head, errorState(e));
  });
  return card;
}
