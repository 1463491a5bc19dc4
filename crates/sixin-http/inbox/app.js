// The web inbox: conversation list, thread, composer, live through /v1/events.
// User data is only ever set with textContent; rich text is rebuilt from an allow-list (render.js).
import { Api, ApiError, Events } from "./api.js";
import { t, translatePage } from "./i18n.js";
import { el, showStatus, timeOf } from "./dom.js";
import { messageBody, preview } from "./render.js";
import { onMembership, showMembers, wireGroups } from "./groups.js";
import { focusComposer, wireComposer } from "./composer.js";

const $ = (id) => document.getElementById(id);
const TOKEN_KEY = "sixin.inbox.token";
const PAGE = 30;

let api = null;
let events = null;
let me = null;
let unreadTotal = 0;
/** The uuids of the members this member blocks. */
const blocked = new Set();
/** id → {id, kind, title, members, unread, last, lastId, activity, peer} */
const convs = new Map();
/**
 * The open thread: {id, to, items: Map id → li, prevCursor, hasMore, loading, peerRead}.
 * `to` is the peer of a direct conversation; `peerRead` the peer's read-up-to mark seen live.
 */
let thread = null;
/** Whether the thread is scrolled to its end (kept there as pictures load). */
let pinned = true;

function setTitle() {
  document.title = unreadTotal > 0 ? `(${unreadTotal}) ${t("inbox")}` : t("inbox");
}

// ---- conversation list ----

function convFromItem(c) {
  const title = c.kind === "group"
    ? (c.subject || t("group", c.member_count)) : (c.peer?.username ?? "?");
  const last = c.last_message ?? null;
  return {
    id: c.id, kind: c.kind, title, members: c.member_count, unread: c.unread, last,
    lastId: last?.id ?? 0, activity: c.last_activity_at, peer: c.peer?.uuid ?? null,
  };
}

async function loadConversations() {
  const page = await api.call("GET", "/conversations?limit=100");
  convs.clear();
  for (const item of page.items) convs.set(item.id, convFromItem(item));
  const unread = await api.call("GET", "/unread");
  unreadTotal = unread.total;
  setTitle();
  renderList();
  showMembersButton();
}

let listTimer = null;
function reloadListSoon() {
  clearTimeout(listTimer);
  listTimer = setTimeout(() => loadConversations().catch(fail), 100);
}

function renderList() {
  const ul = $("conv-list");
  const sorted = [...convs.values()].sort((a, b) => b.activity - a.activity || b.id - a.id);
  ul.replaceChildren(...sorted.map((c) => {
    const li = el("li");
    li.dataset.id = c.id;
    const b = el("button", "conv");
    b.type = "button";
    if (thread?.id === c.id) b.setAttribute("aria-current", "true");
    const head = el("span", "conv-head");
    const name = el("span", "name", c.title);
    name.dir = "auto";
    head.append(name);
    if (c.unread > 0) {
      const badge = el("span", "badge", String(c.unread));
      badge.setAttribute("aria-label", t("unread", c.unread));
      head.append(badge);
    }
    const line = el("span", "preview", preview(c.last));
    line.dir = "auto";
    b.append(head, line);
    b.addEventListener("click", () => openConversation(c.id).catch(fail));
    li.append(b);
    return li;
  }));
  $("conv-empty").hidden = convs.size > 0;
}

// ---- thread ----

function messageItem(m) {
  const mine = m.sender.uuid === me.uuid;
  const li = el("li", mine ? "msg mine" : "msg");
  li.dataset.id = m.id;
  const meta = el("div", "meta");
  const who = el("span", "who", mine ? t("you") : m.sender.username);
  who.dir = "auto";
  meta.append(who);
  const time = el("time", null, timeOf(m.created_at));
  time.dateTime = new Date(m.created_at).toISOString();
  meta.append(time);
  if (mine && thread?.to && !m.recalled) {
    // Direct conversations: whether the peer has read it (history's `read`, then `read` events).
    const read = m.read || m.id <= thread.peerRead;
    li.dataset.read = read;
    meta.append(el("span", read ? "receipt read" : "receipt", t(read ? "read" : "sent")));
  }
  if (!m.recalled) meta.append(messageActions(m));
  li.append(meta, messageBody(m));
  return li;
}

/** The peer read up to `upTo` (or the one message `one`): own messages there show Read. */
function onPeerRead(upTo, one) {
  thread.peerRead = Math.max(thread.peerRead, upTo);
  for (const [id, li] of thread.items) {
    if (li.dataset.read !== "false" || (id > thread.peerRead && id !== one)) continue;
    li.dataset.read = "true";
    const r = li.querySelector(".receipt");
    r.textContent = t("read");
    r.classList.add("read");
  }
}

/** Recall (own messages; the server decides whether the window has passed) and delete for me. */
function messageActions(m) {
  const box = el("span", "actions");
  const action = (label, fn) => {
    const b = el("button", "link small", t(label));
    b.type = "button";
    b.addEventListener("click", () => fn().catch(fail));
    box.append(b);
  };
  if (m.sender.uuid === me.uuid) {
    action("recall", () => api.call("POST", `/messages/${m.id}/recall`).then(onRecalled));
  }
  action("hide", async () => {
    await api.call("DELETE", `/messages/${m.id}`);
    removeMessage(m.id);
  });
  return box;
}

function removeMessage(id) {
  thread?.items.get(id)?.remove();
  thread?.items.delete(id);
  reloadListSoon();
}

function onRecalled(m) {
  const old = thread?.items.get(m.id);
  if (old) {
    const li = messageItem(m);
    old.replaceWith(li);
    thread.items.set(m.id, li);
  }
  const c = convs.get(m.conversation_id);
  if (c?.lastId === m.id) c.last = m;
  renderList();
}

function atBottom(box) {
  return box.scrollHeight - box.scrollTop - box.clientHeight < 40;
}

/** Adds messages (ascending ids) to the open thread, each once, in id order. */
function addMessages(list, { stick = true } = {}) {
  const box = $("messages");
  const wasAtBottom = atBottom(box);
  for (const m of list) {
    if (thread.items.has(m.id)) continue;
    const li = messageItem(m);
    thread.items.set(m.id, li);
    const after = [...thread.items.keys()].filter((id) => id > m.id).sort((a, b) => a - b)[0];
    box.insertBefore(li, after === undefined ? null : thread.items.get(after));
  }
  box.querySelector(".empty")?.remove();
  if (stick && wasAtBottom) {
    box.scrollTop = box.scrollHeight;
    pinned = true;
  }
}

function showThread(title) {
  $("thread-title").textContent = title;
  $("composer").hidden = false;
  document.body.classList.add("in-thread");
  const box = $("messages");
  box.replaceChildren();
  box.dataset.conversation = thread.id ?? "";
  showBlock();
  showMembersButton();
}

function showMembersButton() {
  const c = thread && convs.get(thread.id);
  $("members-btn").hidden = c?.kind !== "group";
  if (c?.kind === "group") $("members-btn").textContent = t("membersN", c.members);
}

/** Closes the open thread (Back, or after leaving a group). */
function closeThread() {
  document.body.classList.remove("in-thread");
  thread = null;
  $("thread-title").textContent = t("pick");
  $("messages").replaceChildren();
  $("composer").hidden = true;
  showBlock();
  showMembersButton();
  renderList();
}

function showBlock() {
  const b = $("block");
  b.hidden = !thread?.to;
  b.textContent = t(blocked.has(thread?.to) ? "unblock" : "block");
}

async function toggleBlock() {
  const uuid = thread.to;
  if (blocked.has(uuid)) {
    await api.call("DELETE", `/blocks/${uuid}`);
    blocked.delete(uuid);
  } else {
    await api.call("PUT", `/blocks/${uuid}`);
    blocked.add(uuid);
  }
  showBlock();
}

async function loadPage(query) {
  const path = thread.id !== null
    ? `/conversations/${thread.id}/messages?${query}` : `/direct/${thread.to}/messages?${query}`;
  return api.call("GET", path);
}

async function openConversation(id) {
  const c = convs.get(id);
  thread = {
    id, to: c?.peer ?? null, items: new Map(), prevCursor: null, hasMore: false, peerRead: 0,
  };
  showThread(c?.title ?? "");
  renderList();
  const page = await loadPage(`limit=${PAGE}`);
  if (thread.id !== id) return;
  fillFirstPage(page);
  await markRead();
  focusComposer();
}

async function openDirect(uuid) {
  const known = [...convs.values()].find((c) => c.peer === uuid);
  if (known) return openConversation(known.id);
  const profile = await api.call("GET", `/members/${encodeURIComponent(uuid)}`);
  thread = {
    id: null, to: profile.uuid, items: new Map(), prevCursor: null, hasMore: false, peerRead: 0,
  };
  showThread(profile.username);
  renderList();
  fillFirstPage(await loadPage(`limit=${PAGE}`));
  focusComposer();
}

function fillFirstPage(page) {
  thread.prevCursor = page.prev_cursor;
  thread.hasMore = page.has_more;
  const msgs = page.items;
  if (thread.id === null && msgs.length) thread.id = msgs[0].conversation_id;
  addMessages(msgs, { stick: false });
  const box = $("messages");
  if (!msgs.length) box.append(el("li", "empty", t("noMessages")));
  box.scrollTop = box.scrollHeight;
  pinned = true;
}

async function loadOlder() {
  if (!thread || !thread.hasMore || thread.loading || !thread.prevCursor) return;
  const mine = thread;
  mine.loading = true;
  try {
    const page = await loadPage(`limit=${PAGE}&before=${encodeURIComponent(mine.prevCursor)}`);
    if (thread !== mine) return;
    const box = $("messages");
    const fromBottom = box.scrollHeight - box.scrollTop;
    addMessages(page.items, { stick: false });
    box.scrollTop = box.scrollHeight - fromBottom;
    mine.prevCursor = page.prev_cursor;
    mine.hasMore = page.has_more;
  } finally {
    mine.loading = false;
  }
}

async function markRead() {
  if (!thread || thread.id === null || document.visibilityState !== "visible") return;
  const c = convs.get(thread.id);
  if (c && c.unread === 0) return;
  await api.call("POST", `/conversations/${thread.id}/read`);
  if (c) {
    c.unread = 0;
    renderList();
  }
}

async function send(type, data) {
  const target = thread.id !== null ? { conversation_id: thread.id } : { to: thread.to };
  const m = await api.call("POST", "/messages", {
    ...target, type, data, client_msg_id: crypto.randomUUID(),
  });
  if (thread.id === null) thread.id = m.conversation_id;
  onMessage(m);
}

// ---- events ----

function onMessage(m) {
  const c = convs.get(m.conversation_id);
  const open = thread?.id === m.conversation_id;
  if (open) addMessages([m]);
  if (!c) {
    reloadListSoon();
    return;
  }
  if (m.id <= c.lastId) return;
  c.last = m;
  c.lastId = m.id;
  c.activity = Math.max(c.activity, m.created_at);
  const seen = open && document.visibilityState === "visible";
  if (m.sender.uuid !== me.uuid && !seen) c.unread += 1;
  if (m.sender.uuid !== me.uuid && seen) markRead().catch(fail);
  renderList();
}

function onEvent(frame) {
  unreadTotal = frame.unread_total;
  setTitle();
  if (frame.type === "message") onMessage(frame.message);
  else if (frame.type === "read" && frame.reader_uuid === me.uuid) {
    const c = convs.get(frame.conversation_id);
    if (c && frame.message_id === null) c.unread = 0;
    if (frame.message_id !== null) reloadListSoon();
    renderList();
  } else if (frame.type === "read") {
    if (thread?.to && thread.id === frame.conversation_id) {
      onPeerRead(frame.last_read_id, frame.message_id);
    }
  } else if (frame.type === "recalled") onRecalled(frame.message);
  else if (frame.type === "hidden") removeMessage(frame.message_id);
  else if (frame.type === "membership") {
    onMembership(frame);
    if (thread?.id === frame.conversation_id && frame.removed.includes(me.uuid)) closeThread();
    reloadListSoon();
  }
}

// ---- sign-in and start ----

function fail(e) {
  if (e instanceof ApiError && e.status === 401) return signOut(t("sessionEnded"));
  showStatus(e.code === "not_accepted" ? t("notAccepted") : t("failed", e.message));
  setTimeout(() => showStatus(""), 5000);
}

function signOut(message) {
  events?.stop();
  events = null;
  if (api) api.call("DELETE", "/sessions/current").catch(() => {});
  sessionStorage.removeItem(TOKEN_KEY);
  api = null;
  $("app-view").hidden = true;
  $("login-view").hidden = false;
  $("login-error").textContent = message || "";
  $("app-key").focus();
}

async function start(token) {
  api = new Api(token);
  try {
    me = await api.call("GET", "/me");
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return signOut(t("sessionEnded"));
    throw e;
  }
  $("my-uuid").textContent = me.uuid;
  $("dm-policy").value = me.effective_dm_policy;
  const blocks = await api.call("GET", "/blocks?limit=100");
  blocked.clear();
  for (const item of blocks.items) blocked.add(item.member.uuid);
  $("login-view").hidden = true;
  $("app-view").hidden = false;
  events = new Events(token, {
    onReady: (_frame, resumed) => {
      showStatus("");
      if (!resumed) loadConversations().catch(fail);
    },
    onEvent,
    onResync: () => loadConversations().catch(fail),
    onDown: () => showStatus(t("offline")),
    onEnded: () => signOut(t("sessionEnded")),
  });
  events.start();
}

function wire() {
  $("login-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    $("login-error").textContent = "";
    try {
      const s = await Api.login($("app-key").value.trim(), $("username").value, $("password").value);
      sessionStorage.setItem(TOKEN_KEY, s.token);
      $("password").value = "";
      await start(s.token);
    } catch (err) {
      $("login-error").textContent = err.code === "bad_credentials" || err.code === "unknown_app"
        ? t("badCredentials") : t("failed", err.message);
    }
  });
  $("logout").addEventListener("click", () => signOut(""));
  $("block").addEventListener("click", () => toggleBlock().catch(fail));
  $("dm-policy").addEventListener("change", () => {
    api.call("PUT", "/me/dm-policy", { policy: $("dm-policy").value }).catch(fail);
  });
  $("new-form").addEventListener("submit", (e) => {
    e.preventDefault();
    openDirect($("new-uuid").value.trim()).then(() => { $("new-uuid").value = ""; }, fail);
  });
  wireComposer(send, fail);
  wireGroups({
    api: () => api, me: () => me, fail, reload: loadConversations, open: openConversation,
    left: (id) => {
      if (thread?.id === id) closeThread();
      convs.delete(id);
      renderList();
      showStatus(t("left"));
      setTimeout(() => showStatus(""), 5000);
    },
  });
  $("members-btn").addEventListener("click", () => showMembers(thread.id).catch(fail));
  $("messages").addEventListener("scroll", () => {
    pinned = atBottom($("messages"));
    if ($("messages").scrollTop < 60) loadOlder().catch(fail);
  });
  // A picture that loads grows its message: a thread read at its end stays at its end.
  $("messages").addEventListener("load", (e) => {
    if (e.target.localName === "img" && pinned) $("messages").scrollTop = $("messages").scrollHeight;
  }, true);
  $("back").addEventListener("click", closeThread);
  document.addEventListener("visibilitychange", () => markRead().catch(fail));
}

function boot() {
  translatePage();
  setTitle();
  wire();
  const params = new URLSearchParams(location.search);
  if (params.get("app")) $("app-key").value = params.get("app");
  const fragment = new URLSearchParams(location.hash.slice(1));
  const fromApp = fragment.get("token");
  if (fromApp) {
    sessionStorage.setItem(TOKEN_KEY, fromApp);
    history.replaceState(null, "", location.pathname + location.search);
  }
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) start(token).catch(fail);
  else signOut("");
}

boot();
