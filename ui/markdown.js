// Markdown -> sanitized DOM. marked renders (raw HTML escaped), DOMPurify cleans, the result is inserted as nodes.
import { h } from "./dom.js";

let hooked = false;

function purifier() {
  const P = window.DOMPurify;
  if (!P || typeof P.sanitize !== "function") throw new Error("DOMPurify did not load (ui/vendor missing?)");
  if (!hooked) {
    hooked = true;
    P.addHook("afterSanitizeAttributes", (node) => {
      if (node.tagName === "A" && node.hasAttribute("href")) {
        const href = node.getAttribute("href") || "";
        if (/^https?:/i.test(href)) {
          node.setAttribute("target", "_blank");
          node.setAttribute("rel", "noopener noreferrer");
        } else if (!href.startsWith("#")) {
          node.removeAttribute("href"); // relative links have nowhere to go from a handoff
        }
      }
      if (node.tagName === "INPUT") {
        // GFM task lists ("- [ ] step") are the only inputs kept: read-only checkboxes.
        if ((node.getAttribute("type") || "").toLowerCase() !== "checkbox") node.remove();
        else {
          node.setAttribute("disabled", "");
          node.removeAttribute("name");
        }
      }
    });
  }
  return P;
}

const PURIFY_OPTIONS = {
  USE_PROFILE: { html: true },
  // No styles (the CSP forbids them anyway), no images (img-src is 'self'), no forms or media.
  FORBID_TAGS: ["style", "img", "form", "button", "textarea", "select", "iframe", "video", "audio", "svg", "math"],
  FORBID_ATTR: ["style", "class", "id", "srcset"],
  RETURN_DOM_FRAGMENT: true,
};

const escapeHtml = (s) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

let parser = null;
function markdownParser() {
  const lib = window.marked;
  if (!lib) return null;
  if (!parser) {
    // Handoffs are Markdown written from what people and transcripts said: raw HTML in it is text
    // someone typed (e.g. "<script> tag breaks the build"), so it is shown, not interpreted.
    const options = { gfm: true, breaks: true, async: false, renderer: { html: ({ text }) => escapeHtml(text) } };
    parser = typeof lib.Marked === "function" ? new lib.Marked(options) : null;
    if (!parser && typeof lib.parse === "function") parser = { parse: (md) => lib.parse(md, { gfm: true, breaks: true, async: false }) };
  }
  return parser;
}

/** Render Markdown to a sanitized DocumentFragment inside a `.markdown` container. */
export function renderMarkdown(md) {
  const container = h("div", { class: "markdown" });
  const p = markdownParser();
  if (!p) {
    container.append(h("pre", { class: "codeblock" }, md || ""));
    return container;
  }
  const html = p.parse(String(md || ""));
  const frag = purifier().sanitize(html, PURIFY_OPTIONS);
  // The page has one h1 (its title): a document's "# Title" becomes an h2, its "##" an h3, and so on.
  for (const el of Array.from(frag.querySelectorAll("h1, h2, h3, h4, h5"))) {
    const lower = document.createElement(`h${Number(el.tagName[1]) + 1}`);
    lower.dataset.md = el.tagName.toLowerCase();
    lower.append(...el.childNodes);
    el.replaceWith(lower);
  }
  container.append(frag);
  return container;
}
