// One session: its record, the handoff (copy, download, regenerate, live status), transcript, files.
import { api, paths } from "./api.js";
import {
  append, busy, button, clear, dateTime, duration, emptyState, errorState, h, icon, loading, notice, num,
  openModal, plural, safeLink, select, statusBadge, toast,
} from "./dom.js";
import { fallbackReason, handoffDoc, startingPanel } from "./handoff.js";
import { renderMarkdown } from "./markdown.js";
import { completeSessionModal, loadAccounts, startSessionModal } from "./project.js";
import { crumbs, pageHead } from "./projects.js";
import { costText, sessionTimelineCard } from "./timeline.js";

const POLL_MS = 1500;
const TRANSCRIPT_PAGE = 50;
const CLAMP_CHARS = 1200;
const MAX_SHOWN = 20000;
const FORMATS = ["auto", "claude-code", "codex", "chatgpt", "openai", "sharegpt", "swe-agent", "aider", "markdown", "text"];
const RECORD = [
  ["accomplishments", "Accomplishments"], ["next_steps", "Next steps"], ["decisions", "Decisions"],
  ["learnings", "Learnings"], ["blockers", "Blockers"], ["errors", "Errors"], ["links", "Links"],
  ["done_items", "Done items"],
];
const UPLOAD_HINT = "Upload the conversation of this session above.";
const lastTab = new Map(); // "project/n" -> tab id, kept across re-renders

function truncate(s, max = MAX_SHOWN) {
  const t = String(s ?? "");
  return t.length > max ? `${t.slice(0, max)}\n… (${num(t.length - max)} more characters not shown)` : t;
}

function sumRedactions(r) {
  if (!r) return 0;
  if (typeof r === "number") return r;
  if (typeof r === "object") return Object.values(r).reduce((a, v) => a + (Number(v) || 0), 0);
  return 0;
}

// ---------------------------------------------------------------- handoff
function handoffPanel(project, session, ctx, onChanged) {
  const panel = h("div", { class: "handoff-panel" }, loading("Loading the handoff…"));
  let timer = null;
  ctx.onLeave(() => clearTimeout(timer));

  const modeSelect = () => select([
    { value: "auto", label: "Auto" }, { value: "rules", label: "Rules" }, { value: "llm", label: "LLM" },
  ], { "aria-label": "How to write it" });

  const regenerateControls = (label = "Regenerate") => {
    const sel = modeSelect();
    const b = button(label, { small: true, icon: "refresh" });
    b.addEventListener("click", () => busy(b, async () => {
      try {
        const res = await api("POST", paths.handoff(project.id, session.number), { body: { mode: sel.value } });
        toast("A new handoff is being written", "success");
        session.handoff = { status: "pending" };
        show(res && typeof res === "object" && res.status ? res : { status: "pending" });
      } catch (e) {
        toast(e.message, "error");
      }
    }, "Queuing…"));
    return [sel, b];
  };

  const poll = () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      if (!ctx.isCurrent() || !panel.isConnected) return;
      try {
        show(await api("GET", paths.handoff(project.id, session.number)), true);
      } catch (e) {
        if (!ctx.isCurrent()) return;
        if (e.status === 404) poll(); // the job has not created its record yet
        else {
          clear(panel).append(errorState(e, load));
        }
      }
    }, POLL_MS);
  };

  function show(ho, fromPoll = false) {
    if (!ctx.isCurrent()) return;
    clear(panel);
    const status = (ho && ho.status) || "pending";
    if (status === "pending" || status === "running") {
      panel.append(h("div", { class: "notice", role: "status", id: "handoff-status" },
        h("span", { class: "spinner", "aria-hidden": "true" }),
        h("div", { class: "grow" },
          h("p", null, h("strong", null, status === "running" ? "Writing the handoff…" : "The handoff is queued…")),
          h("p", { class: "muted small" }, "This page updates by itself when it is ready.")),
        statusBadge(status)));
      poll();
      return;
    }
    if (status === "failed") {
      panel.append(notice("error", "The handoff could not be written", ho.reason || ho.error || "The job failed. Try again.",
        h("div", { class: "toolbar" }, ...regenerateControls("Try again"))));
      return;
    }
    if (fromPoll) {
      const why = fallbackReason(ho);
      if (why) toast(`The handoff is ready, written by ${ho.method}: ${why}`, "warn", 10000);
      else toast(`The handoff for session ${session.number + 1} is ready`, "success");
      if (onChanged) onChanged();
    }
    const mk = ho.must_keep;
    const mkCount = Array.isArray(mk) ? mk.length : (mk && typeof mk === "object" ? Object.keys(mk).length : 0);
    const extras = h("div", null);
    if (mkCount) {
      const list = h("ul", { class: "small" });
      const items = Array.isArray(mk) ? mk : Object.entries(mk).map(([k, v]) => `${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`);
      for (const it of items.slice(0, 300)) {
        if (it && typeof it === "object") {
          list.append(h("li", null, it.kind ? h("span", { class: "badge plain" }, String(it.kind).replace(/_/g, " ")) : null, " ",
            String(it.text ?? it.fact ?? it.value ?? JSON.stringify(it))));
        } else list.append(h("li", null, String(it)));
      }
      extras.append(h("details", { class: "more" }, h("summary", null, `Must-keep facts checked in this handoff (${num(mkCount)})`), list));
    }
    if (ho.data && typeof ho.data === "object") {
      extras.append(h("details", { class: "more" }, h("summary", null, "Structured form (JSON)"),
        h("pre", { class: "codeblock" }, truncate(JSON.stringify(ho.data, null, 2)))));
    }
    if (Number(ho.version) > 1) extras.prepend(versionsBox(ho));
    panel.append(
      handoffDoc(ho, { project, fromSession: session.number, id: "handoff-markdown", actions: regenerateControls() }),
      extras);
  }

  /** Earlier versions (regenerations), each with how it was made and why; opened in a dialog. */
  function versionsBox(ho) {
    const list = h("ol", { class: "versions small", id: "handoff-versions" });
    const box = h("details", { class: "more" }, h("summary", null, `Versions (${num(ho.version)})`), list);
    let loaded = false;
    box.addEventListener("toggle", async () => {
      if (!box.open || loaded) return;
      loaded = true;
      list.append(loading("Loading versions…"));
      try {
        const page = await api("GET", `${paths.handoff(project.id, session.number)}/versions`, { query: { limit: 100 } });
        clear(list);
        for (const v of (page && page.items) || []) {
          const open = button("Open", { small: true, variant: "ghost", label: `Open version ${v.version}`, onclick: async () => {
            const full = await api("GET", `${paths.handoff(project.id, session.number)}/versions/${v.version}`);
            openModal({ title: `Handoff of session ${session.number}, version ${v.version}`, wide: true,
              body: handoffDoc(full, { project, fromSession: session.number, id: "version-markdown", frame: true }) });
          } });
          list.append(h("li", null, h("b", null, `v${v.version}`), ` · ${v.method || "?"}`,
            v.mode && v.mode !== v.method ? ` (asked: ${v.mode})` : "", ` · ${dateTime(v.finished_at)}`,
            v.reason ? h("span", { class: "muted" }, ` · ${v.reason}`) : null, " ", open));
        }
        if (!list.childNodes.length) list.append(h("li", { class: "muted" }, "Versions are kept from now on."));
      } catch (e) {
        clear(list).append(h("li", { class: "err" }, e.message));
      }
    });
    return box;
  }

  function noHandoff() {
    return emptyState("No handoff for this session", "None was written for this session yet.",
      h("span", { class: "toolbar center" }, ...regenerateControls("Write the handoff")));
  }

  async function load() {
    clear(panel).append(loading("Loading the handoff…"));
    if (session.status === "in_progress") {
      clear(panel).append(emptyState("Not written yet",
        "The handoff for the next session is written from this session's record when it is completed. The handoff this session started from is under Starting prompt."));
      return;
    }
    if ("handoff" in session && !session.handoff) {
      // The session says it has no handoff job: skip the request (a 404 would log a console error).
      clear(panel).append(noHandoff());
      return;
    }
    try {
      show(await api("GET", paths.handoff(project.id, session.number)));
    } catch (e) {
      if (!ctx.isCurrent()) return;
      if (e.status === 401) return;
      clear(panel);
      panel.append(e.status === 404 ? noHandoff() : errorState(e, load));
    }
  }
  load();
  return panel;
}

// ---------------------------------------------------------------- transcript
/** One line that says what a tool call or result is about (a command, a path, the first line). */
function preview(v) {
  let text = "";
  if (typeof v === "string") text = v;
  else if (v && typeof v === "object") {
    const keys = ["command", "cmd", "file_path", "path", "pattern", "query", "url", "description", "prompt"];
    const k = keys.find((key) => typeof v[key] === "string" && v[key].trim());
    text = k ? v[k] : (Object.values(v).find((x) => typeof x === "string" && x.trim()) || "");
  }
  const line = text.trim().split(/\r?\n/)[0] || "";
  return line.length > 140 ? `${line.slice(0, 140)}…` : line;
}

function messageNode(m) {
  const role = String(m.role || "message");
  const toolOnly = !m.text && !m.thinking && ((m.tool_calls || []).length + (m.tool_results || []).length) > 0;
  const li = h("li", { class: `msg msg-${role.replace(/[^a-z]/g, "")}${toolOnly ? " compact" : ""}`,
    id: Number.isInteger(m.index) ? `msg-${m.index}` : null, dataset: Number.isInteger(m.index) ? { index: String(m.index) } : null });
  const head = h("div", { class: "msg-head" }, h("span", { class: "msg-role" }, role));
  if (m.injected) head.append(h("span", { class: "badge plain" }, "injected"));
  if (m.timestamp) head.append(h("span", { class: "muted small" }, dateTime(m.timestamp)));
  if (m.usage && (m.usage.input_tokens || m.usage.output_tokens)) {
    // the tool reports a message's whole prompt, cache reads and writes included: that is its "prompt",
    // named as in the session's chips (where "input" is only the part not read from the cache)
    head.append(h("span", { class: "muted small msg-tokens", title: TOKEN_WORDS.prompt },
      `${num(m.usage.input_tokens || 0)} prompt · ${num(m.usage.output_tokens || 0)} output`));
  }
  li.append(head);
  const text = String(m.text || "");
  if (text) {
    // Markdown, sanitized (raw HTML in it is shown as text): agents answer in Markdown
    const pre = renderMarkdown(truncate(text));
    pre.classList.add("msg-text");
    li.append(pre);
    if (text.length > CLAMP_CHARS) {
      pre.classList.add("clamped");
      const t = button("Show all", { small: true, variant: "ghost" });
      t.setAttribute("aria-expanded", "false");
      t.addEventListener("click", () => {
        const open = pre.classList.toggle("clamped");
        t.textContent = open ? "Show all" : "Show less";
        t.setAttribute("aria-expanded", String(!open));
      });
      li.append(t);
    }
  }
  if (m.thinking) {
    li.append(h("details", null, h("summary", null, "Thinking"), h("pre", { class: "codeblock" }, truncate(m.thinking))));
  }
  for (const c of m.tool_calls || []) {
    const input = c && c.input !== undefined ? JSON.stringify(c.input, null, 2) : "";
    li.append(h("details", { class: "tool" },
      h("summary", null, h("span", { class: "tool-kind" }, "Call"), h("span", { class: "tool-name" }, String((c && c.name) || "?")),
        h("span", { class: "tool-preview" }, preview(c && c.input))),
      h("pre", { class: "codeblock" }, truncate(input))));
  }
  for (const r of m.tool_results || []) {
    const err = Boolean(r && r.is_error);
    li.append(h("details", { class: "tool" },
      h("summary", null, h("span", { class: `tool-kind${err ? " error" : ""}` }, err ? "Error" : "Result"),
        r && r.name ? h("span", { class: "tool-name" }, r.name) : null,
        h("span", { class: "tool-preview" }, preview(r && r.text))),
      h("pre", { class: `codeblock${err ? " error" : ""}` }, truncate((r && r.text) || ""))));
  }
  if (!text && !(m.tool_calls || []).length && !(m.tool_results || []).length && !m.thinking) {
    li.append(h("p", { class: "muted small" }, "(empty message)"));
  }
  return li;
}

const DIRECT_UPLOAD_MAX = 4 * 1024 * 1024; // the API takes bodies up to 4 MiB; larger files go to an upload URL

/** Large transcript: ask for an upload URL, PUT the file there, then wait for the import to finish. */
async function largeUpload(project, session, file, format, contentType, progress) {
  const slot = await api("POST", paths.transcriptUpload(project.id, session.number), { query: { format } });
  progress(`Uploading ${num(Math.round(file.size / 1024 / 1024))} MB…`);
  let res;
  try {
    res = await fetch(slot.upload_url, { method: slot.method || "PUT", body: file, headers: { "Content-Type": contentType } });
  } catch {
    throw new Error("The upload could not reach the storage URL.");
  }
  let body = null;
  try {
    body = await res.json();
  } catch {
    body = null;
  }
  if (!res.ok) throw new Error((body && body.error && body.error.message) || `The upload failed (status ${res.status}).`);
  if (body && body.messages !== undefined) return body; // imported synchronously (make dev)
  progress("Importing…");
  for (let i = 0; i < 400; i++) {
    await new Promise((r) => setTimeout(r, POLL_MS));
    const st = await api("GET", slot.status_url || `/api/uploads/${encodeURIComponent(slot.upload_id)}`);
    if (st.status === "done") return st.result || {};
    if (st.status === "failed") throw new Error((st.result && st.result.message) || "The import failed.");
  }
  throw new Error("The import is taking too long; check back later.");
}

/** The one meaning of each token word, in the session's chips and on every message. */
const TOKEN_WORDS = {
  prompt: "prompt tokens: everything the model read, cache reads and writes included (a message shows its own)",
  input: "input tokens: the prompt tokens not read from or written to the cache",
  output: "output tokens",
  "cache read": "prompt tokens read from the cache",
  "cache write": "prompt tokens written to the cache",
};

/** Prompt (= input + cache), input, output, cache read, cache write: never one sum (cached prompt tokens are read again every turn). */
function tokenChips(t) {
  if (t.input_tokens === null || t.input_tokens === undefined) {
    return t.tokens ? [h("span", { class: "chip" }, h("b", null, num(t.tokens)), " tokens")] : []; // imported before the split
  }
  const prompt = (Number(t.input_tokens) || 0) + (Number(t.cache_read_tokens) || 0) + (Number(t.cache_write_tokens) || 0);
  const kinds = [["prompt", "prompt", prompt], ["input_tokens", "input"], ["output_tokens", "output"],
    ["cache_read_tokens", "cache read"], ["cache_write_tokens", "cache write"]];
  return kinds.map(([k, label, v]) => [k, label, v === undefined ? Number(t[k]) : v]).filter(([, , v]) => v)
    .map(([k, label, v]) => h("span", { class: "chip", title: TOKEN_WORDS[label], dataset: { tokens: k } }, h("b", null, num(v)), ` ${label}`));
}

/** Dropping a file on `zone` puts it in the file input (then Upload sends it as if picked). */
function dropZone(zone, fileInput, status) {
  zone.classList.add("drop-zone");
  const over = (on) => (e) => {
    e.preventDefault();
    zone.classList.toggle("drag-over", on);
  };
  zone.addEventListener("dragenter", over(true));
  zone.addEventListener("dragover", over(true));
  zone.addEventListener("dragleave", over(false));
  zone.addEventListener("drop", (e) => {
    over(false)(e);
    const files = e.dataTransfer && e.dataTransfer.files;
    if (!files || !files.length) return;
    fileInput.files = files;
    status.className = "small";
    status.textContent = `${files[0].name} is ready: press Upload.`;
  });
  return zone;
}

function transcriptPanel(project, session, ctx, onChanged, focusIndex = null) {
  const panel = h("div", null, loading("Loading the transcript…"));
  (async () => {
    if (!ctx.isCurrent()) return;
    clear(panel);
    // upload
    // every importable type: Claude Code/Codex JSONL, ChatGPT/OpenAI/ShareGPT JSON, SWE-agent .traj, aider/Markdown, text
    const file = h("input", { type: "file", id: "transcript-file", accept: ".jsonl,.json,.traj,.md,.markdown,.txt,.log,.gz,text/*,application/json,application/gzip" });
    const fmt = select(FORMATS.map((f) => ({ value: f, label: f === "auto" ? "Detect automatically" : f })), { id: "transcript-format" });
    const up = button("Upload", { variant: "primary", icon: "upload" });
    const status = h("div", { class: "small", role: "status" });
    up.addEventListener("click", () => {
      const f = file.files && file.files[0];
      if (!f) {
        status.textContent = "Choose a transcript file first.";
        file.focus();
        return;
      }
      return busy(up, async () => {
        status.textContent = "";
        try {
          const isGz = /\.gz$/i.test(f.name) || f.type === "application/gzip";
          const contentType = isGz ? "application/gzip" : "application/octet-stream";
          let res;
          const put = (replace) => api("PUT", paths.transcript(project.id, session.number),
            { raw: f, contentType, query: { format: fmt.value, ...(replace ? { replace: "true" } : {}) } });
          if (f.size > DIRECT_UPLOAD_MAX) {
            res = await largeUpload(project, session, f, fmt.value, contentType, (msg) => { status.textContent = msg; });
          } else {
            try {
              res = await put(false);
            } catch (e) {
              // a finished session's transcript is what its handoff was made from: replacing it is deliberate
              if (e.code !== "transcript_exists" || !window.confirm(`${e.message}\n\nReplace it?`)) throw e;
              res = await put(true);
            }
          }
          const red = sumRedactions(res && res.redactions);
          const warnings = (res && res.warnings) || [];
          toast(`Imported ${plural(res && res.messages, "message")} (${(res && res.format) || "?"})${red ? `; ${plural(red, "secret")} redacted` : ""}`,
            warnings.length ? "warn" : "success");
          // what the importer warns about (no roles recognised, a clipped message ...) stays in view
          for (const w of warnings) toast(`Warning: ${w.message || w.code || w}`, "warn", 15000);
          status.textContent = "";
          if (onChanged) onChanged("transcript");
        } catch (e) {
          status.textContent = e.message;
          status.className = "small err";
        }
      }, "Uploading…");
    });
    const form = [
      h("p", { class: "muted small" }, "Claude Code JSONL, Codex rollouts, ChatGPT exports, aider or SWE-agent logs, Markdown or plain text; gzip is fine. Secrets are redacted before anything is stored."),
      dropZone(h("div", { class: "upload" },
        h("div", { class: "field" }, h("label", { for: file.id }, "File (or drop it here)"), file),
        h("div", { class: "field" }, h("label", { for: fmt.id }, "Format"), fmt),
        up), file, status),
      status];
    panel.append(session.transcript
      ? h("details", { class: "more upload-box" }, h("summary", null, "Replace the transcript"), h("div", null, ...form))
      : h("div", { class: "card" }, h("h3", null, "Upload a transcript"), ...form));
    const t = session.transcript;
    if (t) {
      const red = sumRedactions(t.redactions);
      panel.append(h("div", { class: "chips section" },
        h("span", { class: "chip" }, "format ", h("b", null, t.format || "?")),
        h("span", { class: "chip" }, h("b", null, num(t.messages)), " messages"),
        h("span", { class: "chip" }, h("b", null, num(t.chars)), " chars"),
        h("span", { class: "chip" }, h("b", null, num(t.tool_calls)), " tool calls"),
        ...tokenChips(t),
        h("span", { class: "chip" }, h("b", null, num(red)), " redactions")));
    }
    const list = h("ol", { class: "messages section", id: "transcript", "aria-label": "Transcript messages" });
    const more = h("div", { class: "load-more" });
    const search = h("input", { type: "search", id: "transcript-search", placeholder: "Search this transcript",
      "aria-label": "Search this transcript", autocomplete: "off" });
    const found = h("span", { class: "muted small", role: "status", id: "transcript-found" });
    let searchTimer = null;
    const applySearch = async () => {
      const q = search.value.trim().toLowerCase();
      if (q && cursor) { // search all of it, not only the pages shown so far
        found.textContent = "Loading the whole transcript…";
        while (cursor && ctx.isCurrent()) await loadPage();
      }
      let hits = 0;
      for (const li of list.children) {
        const match = !q || li.textContent.toLowerCase().includes(q);
        li.hidden = !match;
        if (match && q) {
          hits++;
          for (const d of li.querySelectorAll("details")) if (d.textContent.toLowerCase().includes(q)) d.open = true;
        }
      }
      found.textContent = q ? `${plural(hits, "message")} of ${num(list.children.length)} match` : "";
    };
    search.addEventListener("input", () => {
      clearTimeout(searchTimer);
      searchTimer = setTimeout(() => applySearch().catch((e) => toast(e.message, "error")), 250);
    });
    const holder = h("div", null, loading("Loading messages…"));
    panel.append(holder);
    let cursor = null;
    let count = 0;
    const loadPage = async () => {
      const page = await api("GET", paths.transcript(project.id, session.number), { query: { limit: TRANSCRIPT_PAGE, cursor } });
      if (!ctx.isCurrent()) return;
      for (const m of (page && page.items) || []) {
        list.append(messageNode(m || {}));
        count++;
      }
      cursor = page && page.next_cursor;
      clear(more);
      const total = Number(page && page.total) || 0;
      if (cursor && total) more.append(h("span", { class: "muted small" }, `${num(count)} of ${num(total)} messages`));
      if (cursor) {
        const b = button("Load more messages", { onclick: () => busy(b, () => loadPage().catch((e) => toast(e.message, "error")), "Loading…") });
        more.append(b);
      }
    };
    try {
      await loadPage();
    } catch (e) {
      clear(holder);
      holder.append(e.status === 404 ? emptyState("No transcript yet", UPLOAD_HINT) : errorState(e));
      return;
    }
    clear(holder);
    if (count) holder.append(h("div", { class: "toolbar section transcript-search" }, search, found), list, more);
    else holder.append(h("div", { class: "section" }, emptyState("No transcript yet", UPLOAD_HINT)));
    if (focusIndex !== null && count) {
      // a link to one message (timeline, search): load pages until it is there, then show it
      const find = () => list.querySelector(`#msg-${focusIndex}`);
      while (!find() && cursor && ctx.isCurrent()) await loadPage();
      const target = find();
      if (target) {
        target.classList.add("msg-target");
        target.setAttribute("tabindex", "-1");
        for (const d of target.querySelectorAll("details")) d.open = true;
        target.scrollIntoView({ block: "center" });
        target.focus({ preventScroll: true });
      } else {
        toast(`Message ${focusIndex} is not in this transcript (it may have been replaced).`, "warn");
      }
    }
  })().catch((e) => {
    clear(panel).append(errorState(e));
  });
  return panel;
}

// ---------------------------------------------------------------- files
function lineCell(label, v, sign, cls) {
  if (v === null || v === undefined) return h("td", { class: "num muted", "data-label": label, title: "binary file" }, "—");
  const n = Number(v) || 0;
  return h("td", { class: `num ${n ? cls : "muted"}`, "data-label": label }, n ? `${sign}${num(n)}` : "0");
}

// The agent's own account of the session (/handoff, `mso note`, a compaction summary), newest first:
// the newest leads the handoff, its claims checked there against the transcript.
function notesPanel(project, session, ctx) {
  const panel = h("div", { id: "session-notes" }, loading("Loading the agent's notes…"));
  (async () => {
    let items = [];
    try {
      items = ((await api("GET", paths.notes(project.id, session.number), { query: { limit: 20 } })) || {}).items || [];
    } catch (e) {
      if (ctx.isCurrent()) { clear(panel); panel.append(errorState(e)); }
      return;
    }
    if (!ctx.isCurrent()) return;
    clear(panel);
    if (!items.length) {
      panel.append(emptyState("No note from the agent", "Run /handoff in Claude Code or Codex (or pipe a note to `mso note`): "
        + "the newest note leads this session's handoff, each claim checked against the transcript."));
      return;
    }
    items.forEach((n, i) => {
      const what = n.kind === "compact_summary" ? "Compaction summary" : "Handoff note";
      panel.append(h("section", { class: "card note" },
        h("h3", null, `${what} · version ${n.version}`, i === 0 ? h("span", { class: "badge plain" }, "leads the handoff") : null),
        h("p", { class: "muted" }, `${n.source || "api"} · ${dateTime(n.created_at)} · ${num(n.chars)} characters`),
        h("pre", { class: "note-text" }, n.text || "")));
    });
  })();
  return panel;
}

function filesPanel(project, session, ctx) {
  const panel = h("div", null, loading("Loading file changes…"));
  (async () => {
    const items = [];
    let cursor = null;
    try {
      for (let i = 0; i < 20; i++) {
        const page = await api("GET", paths.files(project.id, session.number), { query: { limit: 100, cursor } });
        items.push(...((page && page.items) || []));
        cursor = page && page.next_cursor;
        if (!cursor) break;
      }
    } catch (e) {
      if (!ctx.isCurrent()) return;
      clear(panel).append(e.status === 404 ? emptyState("No file changes recorded") : errorState(e));
      return;
    }
    if (!ctx.isCurrent()) return;
    clear(panel);
    if (!items.length) {
      panel.append(emptyState("No file changes recorded",
        "They come from the transcript's edit tool calls, from `git diff --numstat`, or are posted by your tooling."));
      return;
    }
    let add = 0;
    let rem = 0;
    const tbody = h("tbody");
    for (const f of items) {
      add += Number(f.lines_added) || 0;
      rem += Number(f.lines_removed) || 0;
      tbody.append(h("tr", null,
        h("td", { class: "path primary", "data-label": "Path" }, f.old_path ? `${f.old_path} → ${f.path}` : String(f.path || "")),
        h("td", { "data-label": "Kind" }, f.kind ? h("span", { class: `badge badge-${String(f.kind).replace(/[^a-z]/g, "")}` }, f.kind) : "—"),
        lineCell("Added", f.lines_added, "+", "num-pos"),
        lineCell("Removed", f.lines_removed, "−", "num-neg"),
        h("td", { "data-label": "Summary" }, f.summary || "")));
    }
    panel.append(
      h("p", { class: "muted small" }, `${plural(items.length, "file")} · `, h("span", { class: "num-pos" }, `+${num(add)}`), " ", h("span", { class: "num-neg" }, `−${num(rem)}`)),
      h("div", { class: "table-wrap" }, h("table", { class: "table stack" },
        h("thead", null, h("tr", null, h("th", null, "Path"), h("th", null, "Kind"), h("th", { class: "num" }, "Added"),
          h("th", { class: "num" }, "Removed"), h("th", null, "Summary"))),
        tbody)));
  })().catch((e) => clear(panel).append(errorState(e)));
  return panel;
}

// ---------------------------------------------------------------- tabs
function tabs(defs, initial, onSelect) {
  const list = h("div", { class: "tabs", role: "tablist", "aria-label": "Session details" });
  const panels = h("div");
  const built = new Map();
  const btns = [];
  const select = (id, focus) => {
    for (const b of btns) {
      const on = b.dataset.tab === id;
      b.setAttribute("aria-selected", String(on));
      b.tabIndex = on ? 0 : -1;
      if (on && focus) b.focus();
    }
    for (const [k, p] of built) p.hidden = k !== id;
    if (!built.has(id)) {
      const def = defs.find((d) => d.id === id);
      const p = h("div", { role: "tabpanel", id: `panel-${id}`, "aria-labelledby": `tab-${id}` }, def.build());
      built.set(id, p);
      panels.append(p);
    }
    onSelect(id);
  };
  for (const d of defs) {
    const b = h("button", { type: "button", class: "tab", role: "tab", id: `tab-${d.id}`, "aria-controls": `panel-${d.id}`, dataset: { tab: d.id } },
      d.label, d.count !== undefined && d.count !== null ? h("span", { class: "count" }, num(d.count)) : null);
    b.addEventListener("click", () => select(d.id));
    b.addEventListener("keydown", (e) => {
      const i = btns.indexOf(b);
      if (e.key === "ArrowRight" || e.key === "ArrowLeft") {
        e.preventDefault();
        const n = btns[(i + (e.key === "ArrowRight" ? 1 : btns.length - 1)) % btns.length];
        select(n.dataset.tab, true);
      }
    });
    btns.push(b);
    list.append(b);
  }
  select(defs.some((d) => d.id === initial) ? initial : defs[0].id);
  return h("div", { class: "section" }, list, panels);
}

// ---------------------------------------------------------------- the view
export async function renderSession(main, [projectId, numStr, msgStr], ctx) {
  const n = Number(numStr);
  const focusIndex = msgStr !== undefined && /^\d+$/.test(msgStr) ? Number(msgStr) : null;
  const [project, session] = await Promise.all([
    api("GET", paths.project(projectId)),
    api("GET", paths.session(projectId, n)),
  ]);
  if (!ctx.isCurrent()) return;
  const pid = encodeURIComponent(project.id);
  const key = `${project.id}/${n}`;
  ctx.setTitle(`Session ${n} · ${project.name}`);
  const rerender = (tab) => {
    if (tab) lastTab.set(key, tab);
    if (ctx.isCurrent()) renderSession(main, [projectId, numStr, undefined], ctx).catch((e) => toast(e.message, "error"));
  };

  const total = Number((project.sessions && project.sessions.total) || project.session_count || n);
  const actions = [];
  if (session.status === "in_progress") {
    actions.push(button("Complete session", { variant: "primary", icon: "check", onclick: async () => {
      const res = await completeSessionModal(project, session);
      if (res) rerender("handoff");
    } }));
  } else if (n === total) {
    actions.push(button(`Start session ${n + 1} from this handoff`, { variant: "primary", icon: "play", onclick: async () => {
      const s = await startSessionModal(project, session);
      if (s && ctx.isCurrent()) ctx.navigate(`#/projects/${pid}/sessions/${s.number}`);
    } }));
  }
  const nav = h("div", { class: "session-nav", "aria-label": "Other sessions" });
  if (n > 1) nav.append(h("a", { class: "btn btn-sm btn-ghost", href: `#/projects/${pid}/sessions/${n - 1}`, rel: "prev" }, icon("back"), `Session ${n - 1}`));
  if (total > 1) {
    nav.append(h("a", { class: "btn btn-sm btn-ghost", href: `#/projects/${pid}/compare/${n > 1 ? n - 1 : n}/${n > 1 ? n : n + 1}` },
      `Compare with session ${n > 1 ? n - 1 : n + 1}`));
  }
  if (n < total) nav.append(h("a", { class: "btn btn-sm btn-ghost", href: `#/projects/${pid}/sessions/${n + 1}`, rel: "next" }, `Session ${n + 1} →`));
  actions.push(h("a", { class: "btn", href: `#/projects/${pid}` }, "All sessions"));

  let accountName = session.ai_account || "—";
  if (session.ai_account) {
    try {
      const a = (await loadAccounts()).find((x) => x.id === session.ai_account);
      if (a) accountName = `${a.name} (${a.provider})`;
    } catch {
      /* show the id */
    }
  }
  if (!ctx.isCurrent()) return;

  const dl = h("dl", { class: "dl" });
  const item = (k, v) => dl.append(h("div", null, h("dt", null, k), h("dd", null, v)));
  item("Credits", `${num(session.credits_used)}${Number(session.credit_budget) ? ` / ${num(session.credit_budget)}` : ""}`);
  item("Tasks", `${num(session.tasks_completed)} / ${num(session.tasks_planned)}`);
  item("Duration", duration(session.duration_s));
  const tr = session.transcript || {};
  item("Cost", h("span", { id: "session-cost", title: session.cost && session.cost.price_table ? `Priced from the transcript's tokens per model (price table ${session.cost.price_table}); credits stay as typed` : null },
    costText(session.cost, tr.tokens)));
  if (session.cost && Object.keys(session.cost.by_model || {}).length > 1) {
    item("Cost by model", Object.entries(session.cost.by_model).map(([m, v]) => `${m} $${Number(v).toFixed(4)}`).join(" · "));
  }
  item("Peak context", tr.peak_context_tokens ? `${num(tr.peak_context_tokens)} tokens` : "—");
  item("AI account", accountName);
  item("Model", session.model || "—");
  item("Started", dateTime(session.started_at));
  item("Ended", session.ended_at ? dateTime(session.ended_at) : "—");
  item("Started from", session.started_from_handoff
    ? h("a", { href: `#/projects/${pid}/sessions/${session.started_from_handoff}` }, `handoff of session ${session.started_from_handoff}`)
    : "a cold start");
  if (session.handoff_mode) item("Handoff mode", session.handoff_mode);

  const header = h("div", { class: "card" }, dl,
    session.goal ? h("div", { class: "section" }, h("h3", null, "Goal"), h("p", { class: "prose-text" }, session.goal)) : null);

  const rec = h("div", { class: "record" });
  let recCount = 0;
  for (const [k, label] of RECORD) {
    const vals = session[k] || [];
    if (!vals.length) continue;
    recCount += vals.length;
    const ul = h("ul");
    for (const v of vals) ul.append(h("li", null, k === "links" ? safeLink(String(v)) : String(v)));
    rec.append(h("section", { class: "card" }, h("h3", null, label, h("span", { class: "badge plain" }, num(vals.length))), ul));
  }

  const running = session.status === "in_progress";
  const startTab = { id: "start", label: "Starting prompt", build: () => startingPanel(project, session, ctx) };
  const handoffTab = { id: "handoff", label: running ? "Next handoff" : "Handoff", build: () => handoffPanel(project, session, ctx, null) };
  const t = tabs([
    ...(running ? [startTab, handoffTab] : [handoffTab, startTab]),
    { id: "record", label: "Record", count: recCount || null, build: () => (recCount ? rec
      : emptyState("Nothing recorded yet", running
        ? "Accomplishments, decisions, learnings, blockers and next steps are recorded when the session is completed."
        : "This session was completed without a written record.")) },
    { id: "transcript", label: "Transcript", count: session.transcript ? session.transcript.messages : null, build: () => transcriptPanel(project, session, ctx, rerender, focusIndex) },
    { id: "files", label: "Files changed", count: session.files || null, build: () => filesPanel(project, session, ctx) },
    { id: "notes", label: "Agent's notes", build: () => notesPanel(project, session, ctx) },
  ], focusIndex !== null ? "transcript" : lastTab.get(key) || (running ? "start" : "handoff"), (id) => lastTab.set(key, id));

  const warnings = (session.warnings || []).length ? h("div", { class: "section", id: "session-warnings" },
    ...session.warnings.map((w) => notice("warn", "Started with a warning", w.message))) : null;

  clear(main);
  append(main, [
    pageHead(session.title || `Session ${n}`, null, actions,
      crumbs([["Projects", "#/projects"], [project.name, `#/projects/${pid}`], [`Session ${n}`, null]]),
      statusBadge(session.status)),
    nav.childNodes.length ? nav : null,
    warnings,
    sessionTimelineCard(project, session, ctx),
    t,
    header]);
}
