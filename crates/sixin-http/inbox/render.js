// How each message type is drawn. Text is only ever set with textContent; rich text (html,
// already sanitised by the server) is parsed inert and rebuilt from an allow-list of tags, so
// nothing from a message reaches innerHTML.
import { t } from "./i18n.js";
import { el } from "./dom.js";

const TAGS = new Set(["a", "b", "strong", "i", "em", "u", "s", "del", "ins", "code", "pre", "br",
  "p", "ul", "ol", "li", "blockquote", "sub", "sup", "small", "mark", "img"]);
const DROP = new Set(["script", "style", "template", "iframe", "object", "embed", "svg", "math",
  "noscript", "title", "head"]);
const httpUrl = (u) => typeof u === "string" && /^https?:\/\//i.test(u);
const httpsUrl = (u) => typeof u === "string" && /^https:\/\//i.test(u);

function outLink(href) {
  const a = el("a");
  a.href = href;
  a.target = "_blank";
  a.rel = "noopener noreferrer nofollow";
  return a;
}

/** An image by URL: https only (the CSP allows `img-src https:`), shown as a link otherwise. */
function image(url, alt) {
  if (!httpsUrl(url)) {
    const a = outLink(url);
    a.textContent = url;
    return a;
  }
  const img = el("img");
  img.src = url;
  img.alt = alt;
  img.loading = "lazy";
  img.referrerPolicy = "no-referrer";
  return img;
}

function copy(node, out) {
  for (const n of node.childNodes) {
    if (n.nodeType === Node.TEXT_NODE) {
      out.append(n.data);
    } else if (n.nodeType === Node.ELEMENT_NODE) {
      const tag = n.localName;
      if (DROP.has(tag)) continue;
      if (!TAGS.has(tag)) {
        copy(n, out);
      } else if (tag === "img") {
        const src = n.getAttribute("src");
        if (httpUrl(src)) out.append(image(src, n.getAttribute("alt") || t("image")));
      } else if (tag === "a") {
        const href = n.getAttribute("href");
        const a = httpUrl(href) || /^mailto:/i.test(href ?? "") ? outLink(href) : el("span");
        copy(n, a);
        out.append(a);
      } else {
        const e = el(tag);
        copy(n, e);
        out.append(e);
      }
    }
  }
}

/** Sanitised rich text as DOM nodes (allow-listed tags; links and images http(s) only). */
export function richNodes(html) {
  const doc = new DOMParser().parseFromString(String(html ?? ""), "text/html");
  const box = document.createDocumentFragment();
  copy(doc.body, box);
  return box;
}

/** The body of a message, by type; `dir="auto"` on everything a member wrote. */
export function messageBody(m) {
  const body = el("div", "body");
  body.dir = "auto";
  const d = m.data ?? {};
  if (m.recalled) {
    body.classList.add("recalled");
    body.textContent = t("recalled");
  } else if (m.type === "text") {
    body.textContent = d.content ?? "";
  } else if (m.type === "html") {
    body.classList.add("rich");
    body.append(richNodes(d.content));
  } else if (m.type === "image") {
    body.classList.add("image");
    if (httpsUrl(d.url)) {
      const a = outLink(d.url);
      a.append(image(d.url, t("image")));
      body.append(a);
    } else {
      body.append(image(d.url));
    }
  } else if (m.type === "link") {
    body.classList.add("link-card");
    const a = outLink(d.url);
    a.append(el("strong", null, d.title || d.url));
    a.lastChild.dir = "auto";
    body.append(a);
    if (d.desc) {
      body.append(el("span", "desc", d.desc));
      body.lastChild.dir = "auto";
    }
    body.append(el("span", "host", hostOf(d.url)));
  } else {
    body.textContent = t("nonText", m.type);
  }
  return body;
}

function hostOf(url) {
  try {
    return new URL(url).host;
  } catch {
    return "";
  }
}

/** One line for the conversation list. */
export function preview(m) {
  if (!m) return "";
  if (m.recalled) return t("recalled");
  const d = m.data ?? {};
  if (m.type === "text") return d.content ?? "";
  if (m.type === "link") return d.title || d.url;
  if (m.type === "image") return t("imageMsg");
  if (m.type === "html") {
    const text = new DOMParser().parseFromString(String(d.content ?? ""), "text/html").body
      .textContent.replace(/\s+/g, " ").trim();
    return text || t("nonText", "html");
  }
  return t("nonText", m.type);
}
