// Small DOM and formatting helpers of the inbox. Text is only ever set with textContent.
import { t } from "./i18n.js";

const $ = (id) => document.getElementById(id);

export function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

export function showStatus(text) {
  const s = $("status");
  s.textContent = text || "";
  s.hidden = !text;
}

export function preview(m) {
  if (!m) return "";
  if (m.recalled) return t("recalled");
  if (m.type === "text") return m.data.content ?? "";
  if (m.type === "link") return m.data.title ?? m.data.url;
  return t("nonText", m.type);
}

export function timeOf(ms) {
  return new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}
