// Small DOM and formatting helpers of the inbox. Text is only ever set with textContent.

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

export function timeOf(ms) {
  return new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}
