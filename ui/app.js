// Entry point: sign-in by #token=, the hash router, the shell.
import { getToken, onUnauthorized, setToken } from "./api.js";
import { clear, errorState, loading } from "./dom.js";
import { renderProjects } from "./projects.js";
import { renderProject } from "./project.js";
import { renderSession } from "./session.js";
import { renderAllAnalytics, renderAnalytics } from "./analytics.js";
import { renderAccounts } from "./accounts.js";
import { renderCompare } from "./compare.js";
import { renderKnowledge } from "./knowledge.js";
import { renderSettings } from "./settings.js";
import { installSearch } from "./search.js";

const ROUTES = [
  { re: /^\/projects\/?$/, view: renderProjects, nav: "projects", auth: true },
  { re: /^\/projects\/([A-Za-z0-9_-]+)\/?$/, view: renderProject, nav: "projects", auth: true },
  { re: /^\/projects\/([A-Za-z0-9_-]+)\/sessions\/(\d+)(?:\/messages\/(\d+))?\/?$/, view: renderSession, nav: "projects", auth: true },
  { re: /^\/projects\/([A-Za-z0-9_-]+)\/compare(?:\/(\d+)\/(\d+))?\/?$/, view: renderCompare, nav: "projects", auth: true },
  { re: /^\/analytics\/?$/, view: renderAllAnalytics, nav: "analytics", auth: true },
  { re: /^\/analytics\/([A-Za-z0-9_-]+)\/?$/, view: renderAnalytics, nav: "projects", auth: true },
  { re: /^\/knowledge\/?(?:\?.*)?$/, view: renderKnowledge, nav: "knowledge", auth: true },
  { re: /^\/accounts\/?$/, view: renderAccounts, nav: "accounts", auth: true },
  { re: /^\/settings\/?$/, view: renderSettings, nav: "settings", auth: false },
];

const main = document.getElementById("main");
let seq = 0;
let leaveHooks = [];
let flash = null; // a message for the next view (e.g. why we are on Settings)
let firstRender = true;

/** Take `#token=...` from the address bar: keep it, then remove it from the URL and history. */
function captureToken() {
  const raw = location.hash.replace(/^#\/?/, "");
  if (!/(^|[&?])token=/.test(raw)) return false;
  const params = new URLSearchParams(raw.replace(/^\?/, ""));
  const token = (params.get("token") || "").trim();
  const next = params.get("next");
  const target = next && next.startsWith("/") ? `#${next}` : "#/projects";
  history.replaceState(null, "", location.pathname + location.search + target);
  if (token) {
    setToken(token);
    flash = null;
  }
  return true;
}

export function navigate(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

export function setFlash(msg) {
  flash = msg;
}

function setNav(name) {
  for (const a of document.querySelectorAll("[data-nav]")) {
    if (a.dataset.nav === name) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
}

async function route() {
  for (const fn of leaveHooks) {
    try {
      fn();
    } catch {
      /* a view's cleanup must not break navigation */
    }
  }
  leaveHooks = [];
  const my = ++seq;
  const path = location.hash.replace(/^#/, "") || "/projects";
  if (path === "/" || path === "") {
    history.replaceState(null, "", "#/projects");
    return route();
  }
  let match = null;
  let spec = null;
  for (const r of ROUTES) {
    match = path.match(r.re);
    if (match) {
      spec = r;
      break;
    }
  }
  const ctx = {
    isCurrent: () => my === seq,
    onLeave: (fn) => leaveHooks.push(fn),
    navigate,
    takeFlash: () => {
      const f = flash;
      flash = null;
      return f;
    },
    setTitle: (t) => {
      document.title = t ? `${t} · Orchestrator` : "Multi-Session Orchestrator";
    },
  };
  clear(main);
  if (!spec) {
    setNav(null);
    ctx.setTitle("Not found");
    const h1 = document.createElement("h1");
    h1.textContent = "Page not found";
    const p = document.createElement("p");
    p.className = "page-sub";
    const a = document.createElement("a");
    a.href = "#/projects";
    a.textContent = "Go to your projects";
    p.append("There is nothing at this address. ", a, ".");
    main.append(h1, p);
    return;
  }
  if (spec.auth && !getToken()) {
    flash = flash || { kind: "info", title: "Sign in to continue",
      text: "Paste your access token below, or open the link that make dev prints (it ends in #token=…)." };
    history.replaceState(null, "", "#/settings");
    return route();
  }
  setNav(spec.nav);
  if (!firstRender) window.scrollTo(0, 0);
  main.append(loading());
  try {
    await spec.view(main, match.slice(1).map((v) => (v === undefined ? v : decodeURIComponent(v))), ctx);
  } catch (e) {
    if (!ctx.isCurrent()) return;
    if (e && e.status === 401) return; // the 401 handler moved us to Settings
    clear(main);
    main.append(errorState(e, () => route()));
    console.warn(e);
  }
  if (ctx.isCurrent() && !firstRender) {
    const h1 = main.querySelector("h1");
    if (h1) {
      h1.setAttribute("tabindex", "-1");
      h1.focus({ preventScroll: true });
    }
  }
  firstRender = false;
}

onUnauthorized((err) => {
  const here = location.hash.replace(/^#/, "");
  if (here.startsWith("/settings")) return; // Settings shows the answer itself
  flash = {
    kind: "error",
    title: "Your token was not accepted",
    text: `${err.message} Paste a valid token to continue.`,
  };
  for (const d of document.querySelectorAll("dialog.modal")) d.remove();
  document.body.classList.remove("modal-open");
  navigate("#/settings");
});

window.addEventListener("hashchange", () => {
  captureToken(); // a pasted #token= link in an open tab
  route();
});

// The skip link must not change the hash (that is the router's): move focus instead.
const skip = document.querySelector(".skip-link");
if (skip) {
  skip.addEventListener("click", (e) => {
    e.preventDefault();
    const target = main.querySelector("h1") || main;
    target.setAttribute("tabindex", "-1");
    target.focus();
  });
}

captureToken();
installSearch();
route();
