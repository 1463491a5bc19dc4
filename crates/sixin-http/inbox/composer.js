// The composer: text, link, image (by URL) and rich text (bold and italic in an editable box;
// the server sanitises what is sent, and render.js draws only an allow-list).

const $ = (id) => document.getElementById(id);

const FIELDS = { text: "text", link: "link-url", image: "image-url", html: "rich" };

function setKind(kind) {
  for (const k of Object.keys(FIELDS)) {
    const f = $(`f-${k}`);
    f.hidden = f.disabled = k !== kind;
  }
}

export function focusComposer() {
  $(FIELDS[$("kind").value]).focus();
}

/** The composer's message as {type, data}, or null when it is empty. */
function composed() {
  const kind = $("kind").value;
  if (kind === "text") {
    const content = $("text").value;
    return content.trim() ? { type: "text", data: { content } } : null;
  }
  if (kind === "link") {
    const url = $("link-url").value.trim();
    return url ? { type: "link", data: { url, title: $("link-title").value.trim() || url } } : null;
  }
  if (kind === "image") {
    const url = $("image-url").value.trim();
    return url ? { type: "image", data: { url } } : null;
  }
  const rich = $("rich");
  const empty = !rich.textContent.trim() && !rich.querySelector("img");
  return empty ? null : { type: "html", data: { content: rich.innerHTML } };
}

/** Empties the composer and returns a function that puts back what it held. */
function takeComposer() {
  const inputs = ["text", "link-url", "link-title", "image-url"].map((id) => [id, $(id).value]);
  const nodes = [...$("rich").childNodes];
  for (const [id] of inputs) $(id).value = "";
  $("rich").replaceChildren();
  return () => {
    for (const [id, v] of inputs) $(id).value = v;
    $("rich").replaceChildren(...nodes);
  };
}

/** `send(type, data)` posts a message; `fail(error)` shows a failure. */
export function wireComposer(send, fail) {
  $("composer").addEventListener("submit", (e) => {
    e.preventDefault();
    const message = composed();
    if (!message) return;
    const restore = takeComposer();
    send(message.type, message.data).catch((err) => {
      restore();
      fail(err);
    });
  });
  const enterSends = (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      $("composer").requestSubmit();
    }
  };
  $("text").addEventListener("keydown", enterSends);
  $("rich").addEventListener("keydown", enterSends);
  $("kind").addEventListener("change", () => setKind($("kind").value));
  for (const [id, command] of [["bold", "bold"], ["italic", "italic"]]) {
    $(id).addEventListener("mousedown", (e) => e.preventDefault());
    $(id).addEventListener("click", () => {
      $("rich").focus();
      document.execCommand(command);
    });
  }
}
