// Settings: the access token (masked, reveal, paste, clear), the API base, links.
import { API_BASE, api, apiUrl, clearToken, getToken, setToken } from "./api.js";
import { busy, button, clear, dateTime, h, icon, notice, toast } from "./dom.js";
import { pageHead } from "./projects.js";

export async function renderSettings(main, _params, ctx) {
  ctx.setTitle("Settings");
  const flash = ctx.takeFlash();
  const token = getToken();

  const tokenInput = h("input", {
    type: "password", id: "token-input", autocomplete: "off", spellcheck: "false", value: token,
    placeholder: "mso_…", "aria-describedby": "token-hint token-status",
  });
  const reveal = button("Show", { icon: "eye", label: "Show the token", onclick: () => {
    const shown = tokenInput.type === "text";
    tokenInput.type = shown ? "password" : "text";
    reveal.setAttribute("aria-pressed", String(!shown));
    reveal.setAttribute("aria-label", shown ? "Show the token" : "Hide the token");
    clear(reveal).append(icon(shown ? "eye" : "eyeOff"), shown ? "Show" : "Hide");
  } });
  reveal.setAttribute("aria-pressed", "false");
  const status = h("div", { id: "token-status", class: "small", role: "status" });
  const setStatus = (kind, text) => {
    status.className = `small ${kind === "error" ? "err" : kind === "ok" ? "num-pos" : "muted"}`;
    status.textContent = text;
  };
  const save = button("Save token", { variant: "primary" });
  const clearBtn = button("Clear", { variant: "ghost", class: "danger", onclick: () => {
    clearToken();
    tokenInput.value = "";
    setStatus("", "Token cleared from this browser.");
    toast("Signed out: the token was removed from this browser", "success");
    tokenInput.focus();
  } });

  const verify = async () => {
    try {
      await api("GET", "/api/projects", { query: { limit: 1 } });
      setStatus("ok", "Signed in: the API accepts this token.");
      return true;
    } catch (e) {
      setStatus("error", e.status === 401 ? `The API rejected this token: ${e.message}` : e.message);
      return false;
    }
  };
  save.addEventListener("click", () => busy(save, async () => {
    const v = tokenInput.value.trim();
    if (!v) {
      setStatus("error", "Paste a token first.");
      tokenInput.setAttribute("aria-invalid", "true");
      tokenInput.focus();
      return;
    }
    if (v.length > 512 || /\s/.test(v)) {
      setStatus("error", "That does not look like a token (no spaces, at most 512 characters).");
      tokenInput.setAttribute("aria-invalid", "true");
      return;
    }
    tokenInput.removeAttribute("aria-invalid");
    setToken(v);
    if (await verify()) {
      toast("Token saved", "success");
      if (flash) ctx.navigate("#/projects");
    }
  }, "Checking…"));

  const base = API_BASE || `${location.origin} (same origin)`;
  const health = h("span", { class: "muted" }, "checking…");
  api("GET", "/api/health", { auth: false })
    .then((r) => {
      health.className = "num-pos";
      health.textContent = `ok${r && r.version ? ` · version ${r.version}` : ""}`;
    })
    .catch((e) => {
      health.className = "err";
      health.textContent = e.message;
    });

  const llm = h("section", { class: "card", "aria-labelledby": "llm-h", id: "llm-status" },
    h("h2", { id: "llm-h" }, "LLM for handoffs"), h("p", { class: "muted small" }, "Checking…"));
  api("GET", "/api/llm/status").then((st) => {
    const outcome = (o, ok) => (o
      ? h("span", { class: ok ? "num-pos" : "err" }, `${dateTime(o.at)} · session ${o.session}`,
        ok ? ` · ${o.method}${o.model ? ` (${o.model})` : ""}` : ` · ${o.reason || "failed"}`)
      : h("span", { class: "muted" }, "none yet"));
    const bedrock = st.provider === "bedrock";
    llm.replaceChildren(h("h2", { id: "llm-h" }, "LLM for handoffs"),
      st.configured
        ? notice("", "An LLM is configured", "Handoffs in Auto or LLM mode are written by the model, checked against the rules' must-keep facts and repaired.")
        : notice("warn", "No LLM configured", bedrock
          ? "Handoffs are written by the rules (deterministic, no network). Set MSO_LLM_MODEL to a Bedrock model or inference profile id for the server to use Amazon Bedrock."
          : "Handoffs are written by the rules (deterministic, no network). Set MSO_LLM_API_KEY or HF_TOKEN for the server to use a model."),
      h("dl", { class: "kv section" },
        h("dt", null, "Provider"), h("dd", { id: "llm-provider" }, bedrock ? "Amazon Bedrock" : (st.provider === "openai" ? "OpenAI-compatible" : (st.provider || "—"))),
        h("dt", null, "Model"), h("dd", { class: "mono", id: "llm-model" }, st.model || "—"),
        ...(bedrock ? [h("dt", null, "Region"), h("dd", { class: "mono", id: "llm-region" }, st.region || "—")] : []),
        h("dt", null, "Endpoint host"), h("dd", { class: "mono" }, st.endpoint_host || "—"),
        ...(bedrock
          ? [h("dt", null, "Credentials"), h("dd", null, "the server's AWS role (no key)")]
          : [h("dt", null, "Key"), h("dd", null, st.key_source ? `set (from ${st.key_source}; never shown)` : "not set")]),
        h("dt", null, "Last success"), h("dd", { id: "llm-last-success" }, outcome(st.last_success, true)),
        h("dt", null, "Last failure"), h("dd", { id: "llm-last-failure" }, outcome(st.last_failure, false))));
  }).catch((e) => {
    llm.replaceChildren(h("h2", { id: "llm-h" }, "LLM for handoffs"), h("p", { class: "err small" }, e.message));
  });

  clear(main);
  main.append(
    pageHead("Settings", "How this dashboard reaches the API."),
    h("div", { class: "settings" },
      flash ? notice(flash.kind, flash.title, flash.text) : null,
      h("form", { class: "card", "aria-labelledby": "token-h", id: "token-form", onsubmit: (e) => {
        e.preventDefault();
        save.click();
      } },
        h("h2", { id: "token-h" }, "Access token"),
        h("p", { id: "token-hint", class: "muted small" },
          "Kept in this browser only (localStorage) and sent as a bearer token. ",
          h("code", null, "make dev"), " prints a link ending in ", h("code", null, "#token=…"),
          ": opening it signs you in. For another tenant run ", h("code", null, "make token TENANT=name"), "."),
        h("div", { class: "field" },
          h("label", { for: "token-input" }, "Token"),
          h("div", { class: "input-group" }, tokenInput, reveal)),
        status,
        h("div", { class: "toolbar section" }, save, clearBtn)),
      llm,
      h("section", { class: "card", "aria-labelledby": "api-h" },
        h("h2", { id: "api-h" }, "API"),
        h("dl", { class: "kv" },
          h("dt", null, "Base URL"), h("dd", { class: "mono", id: "api-base" }, base),
          h("dt", null, "Health"), h("dd", null, health),
          h("dt", null, "Reference"), h("dd", null,
            h("a", { href: apiUrl("/api/openapi.json"), target: "_blank", rel: "noopener" }, "OpenAPI document (openapi.json)", " ", icon("external", 13)))),
        h("p", { class: "muted small section" }, "The base URL comes from the ", h("code", null, "mso-api-base"),
          " meta tag of index.html (empty means this site's own origin); the deploy step sets it."))));
  if (token && !flash) verify();
  else if (!token) tokenInput.focus();
}
