// DOM helpers. Everything here builds nodes with createElement/textContent: user data is never parsed as HTML.

/**
 * h("div", {class: "x", onclick: fn, "aria-label": "y"}, "text", child, [more]) -> Element.
 * String children become text nodes. `null`, `false` and `undefined` children are skipped.
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") el.className = v;
      else if (k === "text") el.textContent = String(v);
      else if (k === "dataset") Object.assign(el.dataset, v);
      else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
      else if (k === "value" || k === "checked" || k === "disabled" || k === "selected" || k === "required"
        || k === "multiple" || k === "readOnly") el[k] = v;
      else if (v === true) el.setAttribute(k, "");
      else el.setAttribute(k, String(v));
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

// ---- icons (fixed path data, built as SVG nodes) ----
const ICONS = {
  plus: "M12 5v14M5 12h14",
  edit: "M4 20h4L19 9l-4-4L4 16v4zM14 6l4 4",
  trash: "M4 7h16M10 11v6M14 11v6M6 7l1 13h10l1-13M9 7V4h6v3",
  copy: "M9 9h11v11H9zM5 15H4V4h11v1",
  download: "M12 4v11M7 10l5 5 5-5M5 20h14",
  refresh: "M20 11a8 8 0 1 0-2.3 5.7M20 4v7h-7",
  chart: "M4 20V10M10 20V4M16 20v-7M22 20H2",
  play: "M7 5l12 7-12 7z",
  check: "M5 12l5 5L20 7",
  eye: "M2 12s3.5-7 10-7 10 7 10 7-3.5 7-10 7S2 12 2 12zM12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6z",
  eyeOff: "M3 3l18 18M10.6 5.1A10.8 10.8 0 0 1 12 5c6.5 0 10 7 10 7a17 17 0 0 1-3.2 4M6.6 6.6C3.8 8.4 2 12 2 12s3.5 7 10 7c1.8 0 3.4-.5 4.8-1.3M9.9 9.9a3 3 0 0 0 4.2 4.2",
  upload: "M12 20V9M7 14l5-5 5 5M5 4h14",
  x: "M6 6l12 12M18 6L6 18",
  pin: "M9 4h6l-1 6 4 3v2H6v-2l4-3zM12 15v6",
  back: "M15 6l-6 6 6 6",
  external: "M14 4h6v6M20 4l-9 9M18 14v6H4V6h6",
  search: "M11 18a7 7 0 1 0 0-14 7 7 0 0 0 0 14zM20 20l-4-4",
};

export function icon(name, size = 16) {
  const NS = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", String(size));
  svg.setAttribute("height", String(size));
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  const path = document.createElementNS(NS, "path");
  path.setAttribute("d", ICONS[name] || "");
  path.setAttribute("fill", "none");
  path.setAttribute("stroke", "currentColor");
  path.setAttribute("stroke-width", "2");
  path.setAttribute("stroke-linecap", "round");
  path.setAttribute("stroke-linejoin", "round");
  svg.append(path);
  return svg;
}

/** A <button type=button>. opts: {variant: "primary"|"danger"|"ghost", small, icon, label (aria), onclick} */
export function button(text, opts = {}) {
  const cls = ["btn"];
  if (opts.variant) cls.push(`btn-${opts.variant}`);
  if (opts.small) cls.push("btn-sm");
  if (opts.iconOnly) cls.push("btn-icon");
  if (opts.class) cls.push(opts.class);
  const b = h("button", {
    type: opts.type || "button", class: cls.join(" "), onclick: opts.onclick, "aria-label": opts.label,
    title: opts.title || (opts.iconOnly ? opts.label : undefined), disabled: opts.disabled, dataset: opts.dataset,
  });
  if (opts.icon) b.append(icon(opts.icon));
  if (text) b.append(opts.iconOnly ? h("span", { class: "sr-only" }, text) : document.createTextNode(text));
  return b;
}

/** Run an async action with the button disabled and a busy label. */
export async function busy(btn, fn, label) {
  const old = Array.from(btn.childNodes);
  btn.disabled = true;
  btn.setAttribute("aria-busy", "true");
  if (label) {
    clear(btn);
    btn.append(h("span", { class: "spinner", "aria-hidden": "true" }), label);
  }
  try {
    return await fn();
  } finally {
    btn.disabled = false;
    btn.removeAttribute("aria-busy");
    if (label) {
      clear(btn);
      btn.append(...old);
    }
  }
}

// ---- formatting ----
const nf = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });

export function num(v) {
  if (v === null || v === undefined || v === "" || Number.isNaN(Number(v))) return "—";
  return nf.format(Number(v));
}

export function pct(v, digits = 1) {
  if (v === null || v === undefined || Number.isNaN(Number(v))) return "—";
  return `${(Number(v) * 100).toFixed(digits)}%`;
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined || seconds === "") return "—";
  let s = Math.max(0, Math.round(Number(seconds)));
  if (Number.isNaN(s)) return "—";
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const hh = Math.floor(s / 3600);
  s -= hh * 3600;
  const mm = Math.floor(s / 60);
  const ss = s - mm * 60;
  if (d) return `${d}d ${hh}h`;
  if (hh) return `${hh}h ${mm}m`;
  if (mm) return `${mm}m${ss ? ` ${ss}s` : ""}`;
  return `${ss}s`;
}

export function dateTime(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function relTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  const diff = (Date.now() - d.getTime()) / 1000;
  if (Number.isNaN(diff)) return "";
  const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
  const abs = Math.abs(diff);
  if (abs < 60) return rtf.format(-Math.round(diff), "second");
  if (abs < 3600) return rtf.format(-Math.round(diff / 60), "minute");
  if (abs < 86400) return rtf.format(-Math.round(diff / 3600), "hour");
  if (abs < 86400 * 30) return rtf.format(-Math.round(diff / 86400), "day");
  return d.toLocaleDateString();
}

export function plural(n, one, many) {
  return `${num(n)} ${Number(n) === 1 ? one : many || `${one}s`}`;
}

const STATUS_LABEL = {
  in_progress: "In progress", completed: "Completed", failed: "Failed",
  pending: "Queued", running: "Writing", ready: "Ready",
};

export function statusBadge(status) {
  const s = String(status || "unknown");
  return h("span", { class: `badge badge-${s.replace(/[^a-z_]/g, "")}` }, STATUS_LABEL[s] || s.replace(/_/g, " "));
}

export function meter(used, budget) {
  const u = Number(used) || 0;
  const b = Number(budget) || 0;
  if (!b) return null;
  const ratio = u / b;
  const bar = h("span");
  bar.style.width = `${Math.min(100, Math.round(ratio * 100))}%`;
  return h("div", {
    class: `meter${ratio > 1 ? " over" : ""}`, role: "img",
    "aria-label": `${Math.round(ratio * 100)}% of the budget used`,
  }, bar);
}

// ---- states ----
export function loading(text = "Loading…") {
  return h("div", { class: "state state-loading", role: "status" }, h("span", { class: "spinner", "aria-hidden": "true" }), text);
}

export function emptyState(title, text, action) {
  return h("div", { class: "empty" }, h("h3", null, title), text ? h("p", null, text) : null, action ? h("p", null, action) : null);
}

export function notice(kind, title, text, action) {
  return h("div", { class: `notice ${kind || ""}`, role: kind === "error" ? "alert" : "status" },
    h("div", { class: "grow" }, title ? h("p", null, h("strong", null, title)) : null, text ? h("p", null, text) : null),
    action || null);
}

export function errorState(err, retry) {
  const msg = (err && err.message) || String(err);
  if (err && err.status === 404) {
    return notice("warn", "Not found", `${msg.replace(/[.\s]*$/, ".")} It may have been deleted, or the link is wrong.`,
      h("a", { class: "btn btn-sm", href: "#/projects" }, "All projects"));
  }
  return notice("error", "Something went wrong", msg, retry ? button("Try again", { small: true, icon: "refresh", onclick: retry }) : null);
}

// ---- toasts ----
export function toast(message, kind = "info", ms) {
  // A modal <dialog> sits in the top layer, above everything else: toasts go inside it while it is open.
  const dialogs = document.querySelectorAll("dialog.modal[open]");
  const dlg = dialogs.length ? dialogs[dialogs.length - 1] : null;
  let host = document.getElementById("toasts");
  if (dlg) {
    host = dlg.querySelector(".toasts");
    if (!host) {
      host = h("div", { class: "toasts", "aria-live": "polite" });
      dlg.append(host);
    }
  }
  if (!host) return;
  const close = h("button", { type: "button", "aria-label": "Dismiss" }, "✕");
  const t = h("div", { class: `toast ${kind}`, role: kind === "error" ? "alert" : "status" }, h("span", { class: "toast-msg" }, message), close);
  const remove = () => t.remove();
  close.addEventListener("click", remove);
  host.append(t);
  setTimeout(remove, ms || (kind === "error" ? 8000 : 4000));
}

// ---- modal (native <dialog> + explicit focus trap) ----
const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/**
 * openModal({title, body: Node, actions: [buttons], wide, onClose}) -> {dialog, close, body}
 * Esc closes, Tab stays inside, focus returns to the opener.
 */
let modalSeq = 0;
export function openModal({ title, body, actions = [], wide = false, onClose, initialFocus }) {
  const id = `modal-title-${++modalSeq}`;
  const opener = document.activeElement;
  const closeBtn = button("Close", { iconOnly: true, icon: "x", variant: "ghost", label: "Close dialog" });
  const bodyEl = h("div", { class: "modal-body" }, body);
  const foot = actions.length ? h("div", { class: "modal-foot" }, actions) : null;
  const dialog = h("dialog", { class: `modal${wide ? " wide" : ""}`, "aria-labelledby": id, "aria-modal": "true" },
    h("div", { class: "modal-inner" }, h("div", { class: "modal-head" }, h("h2", { id }, title), closeBtn), bodyEl, foot));
  let closed = false;
  const close = (result) => {
    if (closed) return;
    closed = true;
    if (dialog.open) dialog.close();
    dialog.remove();
    if (!document.querySelector("dialog.modal[open]")) document.body.classList.remove("modal-open");
    if (opener && opener.isConnected && typeof opener.focus === "function") opener.focus();
    if (onClose) onClose(result);
  };
  closeBtn.addEventListener("click", () => close(undefined));
  dialog.addEventListener("cancel", (e) => {
    e.preventDefault();
    close(undefined);
  });
  dialog.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      e.preventDefault();
      close(undefined);
      return;
    }
    if (e.key !== "Tab") return;
    const items = Array.from(dialog.querySelectorAll(FOCUSABLE)).filter((el) => el.offsetParent !== null || el === document.activeElement);
    if (!items.length) return;
    const first = items[0];
    const last = items[items.length - 1];
    if (e.shiftKey && (document.activeElement === first || !dialog.contains(document.activeElement))) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && (document.activeElement === last || !dialog.contains(document.activeElement))) {
      e.preventDefault();
      first.focus();
    }
  });
  dialog.addEventListener("click", (e) => {
    if (e.target === dialog) close(undefined); // click on the backdrop
  });
  document.body.append(dialog);
  document.body.classList.add("modal-open");
  dialog.showModal();
  const target = initialFocus || bodyEl.querySelector("input:not([type=hidden]), select, textarea") || (foot && foot.querySelector(".btn-primary, .btn-danger")) || closeBtn;
  target.focus();
  return { dialog, close, body: bodyEl };
}

/** A confirmation dialog; resolves true when confirmed. */
export function confirmModal({ title, message, detail, confirmLabel = "Confirm", danger = false }) {
  return new Promise((resolve) => {
    let result = false;
    const cancel = button("Cancel", { onclick: () => m.close() });
    const ok = button(confirmLabel, {
      variant: danger ? "danger" : "primary",
      onclick: () => {
        result = true;
        m.close();
      },
    });
    const m = openModal({
      title,
      body: h("div", null, h("p", null, message), detail ? h("p", { class: "muted small" }, detail) : null),
      actions: [cancel, ok],
      onClose: () => resolve(result),
      initialFocus: cancel,
    });
  });
}

// ---- forms ----
let fieldSeq = 0;
let formSeq = 0;

/** A unique id for a <form> whose submit button sits in a modal footer (button form="id"). */
export function formId() {
  return `form-${++formSeq}`;
}

/** A labelled field. control: an input/select/textarea element. Returns the wrapper with .control, .setError(). */
export function field(label, control, { hint, optional } = {}) {
  const id = control.id || `f${++fieldSeq}`;
  control.id = id;
  const hintId = `${id}-hint`;
  const errId = `${id}-err`;
  const err = h("div", { class: "err", id: errId, hidden: true });
  const wrap = h("div", { class: "field" },
    h("label", { for: id }, label, optional ? h("span", { class: "opt" }, " (optional)") : null),
    control,
    hint ? h("div", { class: "hint", id: hintId }, hint) : null,
    err);
  control.setAttribute("aria-describedby", [hint ? hintId : null, errId].filter(Boolean).join(" "));
  wrap.control = control;
  wrap.setError = (msg) => {
    if (msg) {
      err.textContent = msg;
      err.hidden = false;
      control.setAttribute("aria-invalid", "true");
    } else {
      err.textContent = "";
      err.hidden = true;
      control.removeAttribute("aria-invalid");
    }
  };
  return wrap;
}

export function input(attrs = {}) {
  return h("input", { type: "text", autocomplete: "off", ...attrs });
}

export function textarea(attrs = {}) {
  return h("textarea", { rows: 3, ...attrs });
}

export function select(options, attrs = {}) {
  const s = h("select", attrs);
  for (const o of options) {
    const opt = typeof o === "string" ? { value: o, label: o } : o;
    s.append(h("option", { value: opt.value, selected: opt.selected }, opt.label));
  }
  return s;
}

/**
 * A small validator: rules per field name -> {get: () => value, check: (v) => message|null, field: wrapper}.
 * Returns the values, or null after marking the invalid fields (focusing the first).
 */
export function validate(rules) {
  const out = {};
  let first = null;
  for (const [name, r] of Object.entries(rules)) {
    const v = r.get();
    const msg = r.check ? r.check(v) : null;
    r.field.setError(msg);
    if (msg && !first) first = r.field.control;
    out[name] = v;
  }
  if (first) {
    first.focus();
    return null;
  }
  return out;
}

// ---- one form dialog for every create/edit form ----
function schemaType(prop) {
  const t = prop && prop.type;
  return Array.isArray(t) ? t.find((x) => x !== "null") : t;
}

/** A check for one field from its property in the API's request schema (limits are not copied into JS). */
function schemaCheck(prop, label, kind, required) {
  const type = schemaType(prop);
  if (type === "number" || type === "integer") {
    return (v) => {
      if (v === null || v === undefined || v === "") return required ? `${label} is required.` : null;
      if (typeof v !== "number" || Number.isNaN(v)) return `${label} must be a number.`;
      if (prop.minimum !== undefined && v < prop.minimum) return prop.minimum === 0 ? `${label} must be 0 or more.` : `${label} must be at least ${prop.minimum}.`;
      if (type === "integer" && !Number.isInteger(v)) return `${label} must be a whole number.`;
      if (prop.maximum !== undefined && v > prop.maximum) return `${label} is too large (at most ${num(prop.maximum)}).`;
      return null;
    };
  }
  if (type === "array") {
    const item = prop.items || {};
    const what = kind === "tags" ? "tags" : "lines";
    return (list) => {
      if (required && !list.length) return `${label} is required.`;
      if (prop.maxItems !== undefined && list.length > prop.maxItems) return `${label} has ${list.length} ${what}; the limit is ${prop.maxItems}.`;
      const i = item.maxLength !== undefined ? list.findIndex((x) => x.length > item.maxLength) : -1;
      if (i >= 0) {
        return kind === "tags"
          ? `The tag “${list[i].slice(0, 20)}…” is too long (${list[i].length} characters, the limit is ${item.maxLength}).`
          : `Line ${i + 1} is too long (${list[i].length} characters, the limit is ${item.maxLength}).`;
      }
      return null;
    };
  }
  return (v) => {
    const s = String(v || "");
    if (required && !s.trim()) return `${label} is required.`;
    if (prop && prop.maxLength !== undefined && s.length > prop.maxLength) {
      return `${label} is too long: ${s.length} characters, the limit is ${prop.maxLength}.`;
    }
    return null;
  };
}

function fieldControl(spec) {
  const a = spec.attrs || {};
  switch (spec.kind) {
    case "textarea":
    case "lines":
      return textarea({ rows: spec.rows || 3, placeholder: spec.placeholder, ...a });
    case "number":
    case "integer":
      return input({ type: "number", min: 0, step: spec.kind === "integer" ? 1 : "any", inputmode: spec.kind === "integer" ? "numeric" : "decimal", placeholder: spec.placeholder, ...a });
    case "select":
      return select(spec.options || [], a);
    default:
      return input({ placeholder: spec.placeholder, ...a });
  }
}

function fieldValue(spec, control) {
  switch (spec.kind) {
    case "number":
    case "integer":
      return numberValue(control);
    case "lines":
      return linesValue(control);
    case "tags": {
      const seen = new Set();
      return control.value.split(",").map((t) => t.trim()).filter((t) => t && !seen.has(t) && seen.add(t));
    }
    case "select":
      return control.value;
    default:
      return control.value.trim();
  }
}

/**
 * A form in a modal, with validation from the API's request schema. The one way views build forms.
 *
 * formDialog({
 *   title, schema: Promise<JSON Schema>|schema|null (see api.js requestSchema), wide,
 *   fields: {name: {label, kind: "text"|"textarea"|"lines"|"tags"|"number"|"integer"|"select", value,
 *            required, optional, hint, placeholder, rows, options, attrs, span}},
 *   layout: (f) => nodes (f: name -> field wrapper; default: the fields in order), before/after: nodes,
 *   submitLabel, submitIcon, busyLabel,
 *   submit: async (values, {form, fields, close}) => result   (throw an ApiError: shown on the field it names)
 * }) -> Promise<result | null>  (null when cancelled)
 *
 * Limits (maxLength, minimum/maximum, maxItems, item length) come from the schema's properties, so
 * the form and the API cannot disagree; `required` is the schema's list plus the field's flag.
 */
export function formDialog({ title, schema = null, fields, layout, before, after, wide = false, submitLabel = "Save",
  submitIcon, busyLabel = "Saving…", submit }) {
  return new Promise((resolve) => {
    let result = null;
    const f = {};
    for (const [name, spec] of Object.entries(fields)) {
      const control = fieldControl(spec);
      if (spec.value !== undefined && spec.value !== null && spec.kind !== "select") {
        control.value = Array.isArray(spec.value) ? spec.value.join(spec.kind === "tags" ? ", " : "\n") : String(spec.value);
      } else if (spec.kind === "select" && spec.value !== undefined) control.value = spec.value;
      f[name] = field(spec.label, control, { hint: spec.hint, optional: spec.optional });
      if (spec.span) f[name].classList.add(spec.span);
    }
    let props = {};
    let requiredNames = new Set();
    const ready = Promise.resolve(schema).then((sch) => {
      props = (sch && sch.properties) || {};
      requiredNames = new Set((sch && sch.required) || []);
      for (const [name, wrap] of Object.entries(f)) {
        const p = props[name];
        if (p && p.maxLength !== undefined && wrap.control.tagName !== "SELECT") wrap.control.maxLength = p.maxLength;
      }
    }).catch(() => {});
    const form = h("form", { class: "form", novalidate: true, id: formId() },
      before || null, layout ? layout(f) : Object.values(f), after || null);
    const ok = button(submitLabel, { variant: "primary", type: "submit", icon: submitIcon });
    ok.setAttribute("form", form.id);
    const cancel = button("Cancel", { onclick: () => m.close() });
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      if (ok.disabled) return;
      await ready;
      const rules = {};
      for (const [name, spec] of Object.entries(fields)) {
        const label = spec.label;
        const required = Boolean(spec.required || requiredNames.has(name));
        rules[name] = { field: f[name], get: () => fieldValue(spec, f[name].control),
          check: spec.kind === "select" ? () => null : schemaCheck(props[name], label, spec.kind, required) };
      }
      const values = validate(rules);
      if (!values) return;
      await busy(ok, async () => {
        try {
          result = await submit(values, { form, fields: f });
          m.close();
        } catch (err) {
          if (!showFieldError(err, f)) toast(err.message, "error");
        }
      }, busyLabel);
    });
    const m = openModal({ title, body: form, actions: [cancel, ok], wide, onClose: () => resolve(result) });
  });
}

/** Parse a number input: "" -> null, otherwise a Number (NaN when not a number). */
export function numberValue(el) {
  const raw = el.value.trim();
  if (raw === "") {
    return el.validity && el.validity.badInput ? Number.NaN : null;
  }
  return Number(raw);
}

/** Textarea -> list of non-empty trimmed lines. */
export function linesValue(el) {
  return el.value.split(/\r?\n/).map((s) => s.trim()).filter(Boolean);
}

/** Show an ApiError on the matching field when it names one; returns true if it did. */
export function showFieldError(err, fields) {
  if (!err || !err.field) return false;
  const key = String(err.field).split(".")[0];
  const f = fields[key];
  if (!f) return false;
  f.setError(err.message);
  f.control.focus();
  return true;
}

// ---- clipboard, download ----
export async function copyText(text) {
  window.__msoLastCopied = text; // read by the browser tests; harmless otherwise
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    /* fall through to the old way */
  }
  const ta = h("textarea", { readonly: true, "aria-hidden": "true" });
  ta.value = text;
  ta.style.position = "fixed";
  ta.style.top = "-1000px";
  ta.style.opacity = "0";
  document.body.append(ta);
  ta.select();
  let ok = false;
  try {
    ok = document.execCommand("copy");
  } catch {
    ok = false;
  }
  ta.remove();
  return ok;
}

export function downloadText(filename, text, type = "text/markdown;charset=utf-8") {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h("a", { href: url, download: filename });
  a.style.display = "none";
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

export function slug(s) {
  return String(s || "").toLowerCase().normalize("NFKD").replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 60) || "project";
}

/** A link only for http(s) URLs; anything else is shown as text. */
export function safeLink(text) {
  try {
    const u = new URL(text);
    if (u.protocol === "http:" || u.protocol === "https:") {
      return h("a", { href: u.href, target: "_blank", rel: "noopener noreferrer" }, text);
    }
  } catch {
    /* not a URL */
  }
  return document.createTextNode(text);
}
