// A handoff document as people use it: Copy first, Download, how it was made (and why, for a fallback).
import { api, paths } from "./api.js";
import { append, button, clear, copyText, dateTime, downloadText, h, notice, num, slug, toast } from "./dom.js";
import { renderMarkdown } from "./markdown.js";

export const POLL_MS = 1500;

/**
 * Rules wrote the handoff because that is how the server is set up: asked for "rules", or "auto"
 * with no LLM configured. A configured choice, shown as a plain label, never as a warning.
 */
export function rulesByChoice(ho) {
  if (!ho || ho.method !== "rules") return false;
  return ho.mode === "rules" || (ho.mode === "auto" && /^LLM not configured/.test(ho.reason || ""));
}

/** Why a handoff is not what was asked for (an LLM was asked for, rules wrote it), or null. */
export function fallbackReason(ho) {
  if (!ho || !ho.reason || rulesByChoice(ho)) return null;
  if (ho.method === "rules" && ho.mode && ho.mode !== "rules") return ho.reason;
  if (ho.method === "llm+rules") return ho.reason;
  return null;
}

/** The file name a handoff downloads as: <project>-session-<n>-handoff.md (n = the session it was written from). */
export function handoffFileName(project, fromSession) {
  return `${slug(project.name)}-session-${fromSession}-handoff.md`;
}

/**
 * Copy and Download buttons, then the chips and the rendered Markdown.
 * opts: {project, fromSession, id (of the Markdown box), copyLabel, actions: [nodes after the spacer], frame: bool}
 */
export function handoffDoc(ho, opts) {
  const md = (ho && ho.markdown) || "";
  const name = handoffFileName(opts.project, opts.fromSession);
  const copy = button("Copy", { small: true, icon: "copy", variant: "primary", label: opts.copyLabel || "Copy the handoff to the clipboard" });
  copy.addEventListener("click", async () => {
    const ok = await copyText(md);
    toast(ok ? "Handoff copied to the clipboard" : "Copy failed: select the text and copy it by hand", ok ? "success" : "error");
  });
  const dl = button("Download .md", { small: true, icon: "download", onclick: () => {
    downloadText(name, md);
    toast(`Saved ${name}`, "success");
  } });
  const chips = h("div", { class: "chips" });
  const chip = (k, v) => chips.append(h("span", { class: "chip" }, `${k} `, h("b", null, v)));
  if (ho.method) chip("method", ho.method);
  if (rulesByChoice(ho)) {
    chips.append(h("span", { class: "chip", id: "rules-by-choice", title: ho.reason || "handoff_mode is rules" },
      ho.mode === "rules" ? "written by the rules (asked for)" : "written by the rules (no LLM configured)"));
  }
  if (ho.version && Number(ho.version) > 1) chip("version", num(ho.version));
  if (ho.input_chars !== undefined && ho.input_chars !== null) chip("input", `${num(ho.input_chars)} chars`);
  if (ho.output_chars !== undefined && ho.output_chars !== null) chip("output", `${num(ho.output_chars)} chars`);
  const conf = ho.data && ho.data.llm && ho.data.llm.confidence;
  if (conf && conf.score !== null && conf.score !== undefined) {
    chips.append(h("span", { class: "chip", title: "Share of the must-keep facts the model kept before they were checked and put back" },
      "AI confidence score ", h("b", null, `${Math.round(Number(conf.score) * 100)}%`), ` (${num(conf.kept)} of ${num(conf.total)} facts kept)`));
  }
  if (ho.finished_at) chip("written", dateTime(ho.finished_at));
  const why = fallbackReason(ho);
  const box = h("div", { class: opts.frame ? "md-frame" : "card section", id: opts.id },
    md ? renderMarkdown(md) : h("p", { class: "muted" }, "The handoff is empty."));
  return h("div", { class: "handoff-doc" },
    h("div", { class: "toolbar" }, copy, dl, h("span", { class: "spacer" }), ...(opts.actions || [])),
    why ? notice("warn", ho.method === "rules" ? "Written by the rules, not the LLM" : "The LLM's answer was repaired", why) : null,
    ho.older_transcript ? h("div", { class: "notice warn", role: "status", id: "older-transcript" },
      h("div", { class: "grow" }, h("p", null, h("strong", null, "Made from an older transcript")),
        h("p", null, `The session's transcript was replaced${ho.transcript_replaced_at ? ` on ${dateTime(ho.transcript_replaced_at)}` : ""} `
          + "after this handoff was written: regenerate it to include the new one."))) : null,
    chips, box);
}

/** The handoff plus the ledger's open items it does not carry (opened by a session that ran beside). */
export function withNewerItems(markdown, items) {
  const lines = items.map((it) => `- ${it.text} (${String(it.kind).replace(/_/g, " ")}, open since session ${it.opened_by})`);
  return `${markdown.replace(/\s+$/, "")}\n\n## Open items added since this handoff was written\n\n${lines.join("\n")}\n`;
}

/**
 * The handoff a session started from: a spinner while it is still being written (the page polls
 * the session, which links it once ready), then the document with Copy first.
 */
export function startingPanel(project, session, ctx) {
  const panel = h("div", { class: "starting-panel" });
  let timer = null;
  ctx.onLeave(() => clearTimeout(timer));
  const from = session.started_from_handoff;
  const pid = encodeURIComponent(project.id);

  const show = (sh, fromPoll) => {
    if (!ctx.isCurrent()) return;
    clear(panel);
    if (!from) {
      panel.append(notice("info", "A cold start", "No earlier session of this project had a ready handoff when this one started: there is nothing to paste."));
      return;
    }
    const link = h("a", { href: `#/projects/${pid}/sessions/${from}` }, `session ${from}`);
    if (!sh || sh.status === "pending") {
      panel.append(h("div", { class: "notice", role: "status", id: "starting-status" },
        h("span", { class: "spinner", "aria-hidden": "true" }),
        h("div", { class: "grow" },
          h("p", null, h("strong", null, "The handoff from ", link, " is still being written…")),
          h("p", { class: "muted small" }, "It appears here by itself when it is ready, with a Copy button."))));
      clearTimeout(timer);
      timer = setTimeout(async () => {
        if (!ctx.isCurrent() || !panel.isConnected) return;
        try {
          const s = await api("GET", paths.session(project.id, session.number));
          show(s.starting_handoff, true);
        } catch (e) {
          if (ctx.isCurrent()) show(sh, false);
        }
      }, POLL_MS);
      return;
    }
    if (sh.status === "failed") {
      panel.append(notice("error", "The handoff this session starts from could not be written", sh.reason || "The job failed.",
        h("a", { class: "btn btn-sm", href: `#/projects/${pid}/sessions/${from}` }, `Regenerate it on session ${from}`)));
      return;
    }
    if (fromPoll) toast("The starting handoff is ready: copy it into your AI session", "success");
    const since = sh.open_items_since || [];
    const doc = since.length ? { ...sh, markdown: withNewerItems(sh.markdown || "", since) } : sh;
    append(panel, [  // append() skips the nulls; the DOM's own append would print them as "null"
      h("p", { class: "muted small" }, "Paste this as the first message of the AI session: it is the handoff written from ", link, "."),
      since.length ? notice("warn", `${since.length} open item${since.length > 1 ? "s were" : " was"} added after this handoff was written`,
        "A session that ran beside recorded them; they are appended at the end, so Copy and Download carry them too.") : null,
      handoffDoc(doc, { project, fromSession: from, id: "starting-handoff", copyLabel: "Copy the starting handoff to the clipboard" })]);
  };
  show(session.starting_handoff, false);
  return panel;
}
