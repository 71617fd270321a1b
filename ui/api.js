// The API client: base URL (from <meta name="mso-api-base">), bearer token, JSON errors in words.

const TOKEN_KEY = "mso.token";

function readBase() {
  const meta = document.querySelector('meta[name="mso-api-base"]');
  const raw = (meta && meta.getAttribute("content")) || "";
  return raw.trim().replace(/\/+$/, "");
}

export const API_BASE = readBase();

/** Absolute URL of an API path ("/api/...") under the configured base. */
export function apiUrl(path) {
  return API_BASE + path;
}

export function getToken() {
  try {
    return localStorage.getItem(TOKEN_KEY) || "";
  } catch {
    return "";
  }
}

export function setToken(token) {
  localStorage.setItem(TOKEN_KEY, token.trim());
}

export function clearToken() {
  localStorage.removeItem(TOKEN_KEY);
}

/** An error from the API (or the network), with a message a person can read. */
export class ApiError extends Error {
  constructor(status, code, message, field = null, body = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.field = field;
    this.body = body;
  }

  get notFound() {
    return this.status === 404;
  }
}

const listeners = new Set();
/** Called with the ApiError on every 401 answer. */
export function onUnauthorized(fn) {
  listeners.add(fn);
}

const STATUS_WORDS = {
  400: "The request was not accepted",
  401: "You are not signed in",
  403: "This is not allowed",
  404: "Not found",
  409: "This conflicts with the current state",
  413: "That is too large for the server",
  415: "The server does not accept this kind of content",
  422: "The server could not process this",
  429: "Too many requests: wait a moment and try again",
  500: "The server failed on this request",
  502: "The server is unreachable (bad gateway)",
  503: "The service is unavailable right now",
  504: "The server took too long to answer",
};

function messageFor(status, err) {
  if (err && typeof err.message === "string" && err.message.trim()) {
    const m = err.message.trim();
    return m.charAt(0).toUpperCase() + m.slice(1);
  }
  return STATUS_WORDS[status] || `The server answered with status ${status}`;
}

/**
 * Call the API. `body` is sent as JSON unless `raw` is given (a Blob/File/ArrayBuffer/string sent as is).
 * Resolves to the parsed JSON (or text for non-JSON answers); rejects with ApiError.
 */
export async function api(method, path, { body, raw, contentType, query, signal, auth = true } = {}) {
  let url = apiUrl(path);
  if (query) {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) {
      if (v !== undefined && v !== null && v !== "") qs.set(k, String(v));
    }
    const s = qs.toString();
    if (s) url += (url.includes("?") ? "&" : "?") + s;
  }
  const headers = { Accept: "application/json" };
  if (auth) {
    const token = getToken();
    if (token) headers.Authorization = `Bearer ${token}`;
  }
  let payload;
  if (raw !== undefined) {
    payload = raw;
    headers["Content-Type"] = contentType || "application/octet-stream";
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers["Content-Type"] = "application/json";
  }
  let res;
  try {
    res = await fetch(url, { method, headers, body: payload, signal, cache: "no-store" });
  } catch (e) {
    if (e && e.name === "AbortError") throw e;
    throw new ApiError(0, "network_error",
      `Could not reach the API at ${API_BASE || location.origin}. Is the server running?`);
  }
  const ctype = res.headers.get("Content-Type") || "";
  let data = null;
  if (res.status !== 204) {
    const text = await res.text();
    if (ctype.includes("json")) {
      try {
        data = text ? JSON.parse(text) : null;
      } catch {
        data = null;
      }
    } else {
      data = text;
    }
  }
  if (!res.ok) {
    const err = data && typeof data === "object" && data.error && typeof data.error === "object" ? data.error : null;
    const e = new ApiError(res.status, (err && err.code) || `http_${res.status}`, messageFor(res.status, err),
      (err && err.field) || null, data);
    if (res.status === 401 && auth) listeners.forEach((fn) => fn(e));
    throw e;
  }
  return data;
}

// ---- small typed helpers ----
const enc = encodeURIComponent;
export const paths = {
  projects: () => "/api/projects",
  project: (p) => `/api/projects/${enc(p)}`,
  pins: (p) => `/api/projects/${enc(p)}/pins`,
  sessions: (p) => `/api/projects/${enc(p)}/sessions`,
  session: (p, n) => `/api/projects/${enc(p)}/sessions/${enc(n)}`,
  complete: (p, n) => `/api/projects/${enc(p)}/sessions/${enc(n)}/complete`,
  transcript: (p, n) => `/api/projects/${enc(p)}/sessions/${enc(n)}/transcript`,
  transcriptUpload: (p, n) => `/api/projects/${enc(p)}/sessions/${enc(n)}/transcript-upload`,
  files: (p, n) => `/api/projects/${enc(p)}/sessions/${enc(n)}/files`,
  notes: (p, n) => `/api/projects/${enc(p)}/sessions/${enc(n)}/notes`,
  handoff: (p, n) => `/api/projects/${enc(p)}/sessions/${enc(n)}/handoff`,
  analytics: (p) => `/api/projects/${enc(p)}/analytics`,
  openItems: (p) => `/api/projects/${enc(p)}/open-items`,
  openItemsClose: (p) => `/api/projects/${enc(p)}/open-items/close`,
  latestHandoff: (p) => `/api/projects/${enc(p)}/handoff/latest`,
  knowledge: (p) => `/api/projects/${enc(p)}/knowledge`,
  knowledgeUse: (p, id) => `/api/projects/${enc(p)}/knowledge/${enc(id)}/use`,
  knowledgeSearch: () => "/api/knowledge",
  accounts: () => "/api/accounts",
  stats: () => "/api/stats",
};

// ---- request schemas (the API's own limits, from its OpenAPI document) ----
let openapiDoc = null;

/**
 * The JSON Schema of a route's request body, e.g. requestSchema("/api/projects", "post").
 * Resolves to null when the document cannot be read (the API still validates every request).
 */
export function requestSchema(path, method) {
  if (!openapiDoc) {
    openapiDoc = api("GET", "/api/openapi.json", { auth: false }).catch(() => {
      openapiDoc = null;
      return null;
    });
  }
  return Promise.resolve(openapiDoc).then((doc) => {
    const op = doc && doc.paths && doc.paths[path] && doc.paths[path][method.toLowerCase()];
    const body = op && op.requestBody && op.requestBody.content && op.requestBody.content["application/json"];
    return (body && body.schema) || null;
  });
}
