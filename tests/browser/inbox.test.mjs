// The web inbox in a real browser (Debian's Chromium, headless) against a real `sixin serve`:
// two members exchange messages live, unread badges rise and clear, a reload loses nothing,
// older messages load on scroll without gaps or repeats, an iframe session opens with an
// app-signed token, and axe-core finds no serious or critical violation. Screenshots of the
// main views go to docs/screenshots/. Run by .ci/browser.
import assert from "node:assert/strict";
import { readFileSync, mkdirSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { freePort, startSixin } from "./server.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const shots = process.env.INBOX_SCREENSHOTS || join(here, "../../docs/screenshots");
const axeSource = readFileSync(join(here, "node_modules/axe-core/axe.min.js"), "utf8");
const DESKTOP = { width: 1200, height: 760 };
// Image messages point at https://img.example/, answered by the browser's request routing.
const PICTURE = '<svg xmlns="http://www.w3.org/2000/svg" width="160" height="100">' +
  '<rect width="160" height="100" fill="#0b5cd6"/><circle cx="80" cy="50" r="30" fill="#fff"/></svg>';

async function newContext(browser, options) {
  const ctx = await browser.newContext(options);
  await ctx.route("https://img.example/**", (route) =>
    route.fulfill({ contentType: "image/svg+xml", body: PICTURE }));
  return ctx;
}
const PHONE = { width: 390, height: 760 };

async function until(what, fn, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const badge = (page, convId) =>
  page.locator(`#conv-list li[data-id="${convId}"] .badge`).textContent({ timeout: 200 })
    .catch(() => null);
const messageIds = (page) =>
  page.$$eval("#messages li.msg", (lis) => lis.map((li) => Number(li.dataset.id)));

async function signIn(page, base, appKey, m) {
  await page.goto(`${base}/inbox/?app=${appKey}`);
  await page.getByLabel(/Username|用户名/).fill(m.username);
  await page.getByLabel(/Password|密码/).fill(m.password);
  await page.locator("#login-form button[type=submit]").click();
  await until("signed in", async () => (await page.textContent("#my-uuid")) === m.uuid);
}

async function typeAndSend(page, text) {
  await page.fill("#text", text);
  await page.press("#text", "Enter");
}

async function axeCheck(page, what) {
  const result = await page.evaluate(async (src) => {
    // Evaluated through the DevTools protocol: the page's CSP does not apply to it.
    (0, eval)(src);
    const r = await window.axe.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length }));
  }, axeSource);
  const bad = result.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(bad, [], `axe on ${what}: ${JSON.stringify(bad)}`);
  return result;
}

async function main() {
  const bin = process.env.INBOX_SIXIN_BIN;
  assert.ok(bin, "set INBOX_SIXIN_BIN to the sixin binary");
  const hostPort = await freePort();
  const host = `http://127.0.0.1:${hostPort}`;
  const s = await startSixin(bin, {
    SIXIN_HTTP__INBOX_FRAME_ANCESTORS: JSON.stringify(["'self'", host]),
  });
  let embedSrc = "";
  const hostServer = createServer((_req, res) => {
    res.setHeader("content-type", "text/html; charset=utf-8");
    res.end(`<!doctype html><title>App</title><h1>The app</h1>
      <iframe title="Inbox" src="${embedSrc}" width="900" height="600"></iframe>`);
  }).listen(hostPort, "127.0.0.1");
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox"],
  });
  try {
    await run(s, browser, host, (src) => { embedSrc = src; });
  } catch (e) {
    for (const [i, ctx] of browser.contexts().entries()) {
      for (const [j, p] of ctx.pages().entries()) {
        await p.screenshot({ path: join(tmpdir(), `inbox-failure-${i}-${j}.png`) }).catch(() => {});
      }
    }
    console.error(`failure screenshots: ${tmpdir()}/inbox-failure-*.png`);
    throw e;
  } finally {
    await browser.close();
    hostServer.close();
    s.stop();
  }
}

async function run(s, browser, host, setEmbed) {
  const key = s.app.app_key;
  const alice = await s.member("alice", "alice-pw-1");
  const bob = await s.member("bob", "bob-pw-1");

  // Security headers on every inbox response.
  for (const path of ["/inbox/", "/inbox/app.js", "/inbox/style.css", "/inbox/nope"]) {
    const res = await fetch(s.base + path);
    const csp = res.headers.get("content-security-policy");
    assert.match(csp, /default-src 'self'/, path);
    assert.match(csp, new RegExp(`frame-ancestors 'self' ${host}$`), path);
    assert.doesNotMatch(csp, /unsafe/, path);
    assert.equal(res.headers.get("x-content-type-options"), "nosniff", path);
    assert.equal(res.headers.get("referrer-policy"), "no-referrer", path);
    assert.match(csp, /img-src 'self' data: https:;/, path);
  }
  console.log("ok - security headers");

  const ctxA = await newContext(browser, { locale: "en-US", viewport: DESKTOP });
  const ctxB = await newContext(browser, { locale: "en-US", viewport: DESKTOP });
  const a = await ctxA.newPage();
  const b = await ctxB.newPage();
  const errors = [];
  for (const p of [a, b]) {
    p.on("pageerror", (e) => errors.push(String(e)));
    p.on("dialog", (d) => errors.push(`dialog: ${d.message()}`));
    p.on("console", (m) => m.type() === "error" && console.error("page console:", m.text()));
  }
  await b.goto(`${s.base}/inbox/?app=${key}`);
  await b.waitForSelector("#login-form button[type=submit]");
  await axeCheck(b, "the sign-in form");
  await signIn(a, s.base, key, alice);
  await signIn(b, s.base, key, bob);
  await axeCheck(b, "the empty inbox");
  console.log("ok - both members signed in");

  // Alice starts a conversation with Bob by his member ID; it arrives live with a badge.
  await a.fill("#new-uuid", bob.uuid);
  await a.press("#new-uuid", "Enter");
  await typeAndSend(a, "Hi Bob! 你好 👋");
  const conv = await until("Bob's conversation", () =>
    b.getAttribute("#conv-list li", "data-id", { timeout: 200 }).catch(() => null));
  await until("badge 1", async () => (await badge(b, conv)) === "1");
  await until("title (1)", async () => (await b.title()) === "(1) Inbox");
  await typeAndSend(a, "Lunch?");
  await until("badge 2", async () => (await badge(b, conv)) === "2");
  assert.equal(await b.textContent(`#conv-list li[data-id="${conv}"] .preview`), "Lunch?");
  console.log("ok - messages arrive live, the unread badge rises");

  // Bob opens it: the badge and the title clear; his reply reaches Alice's open thread.
  await b.click(`#conv-list li[data-id="${conv}"] button`);
  await until("badge cleared", async () => (await badge(b, conv)) === null);
  await until("title cleared", async () => (await b.title()) === "Inbox");
  assert.deepEqual(await b.$$eval("#messages .body", (x) => x.map((e) => e.textContent)),
    ["Hi Bob! 你好 👋", "Lunch?"]);
  await typeAndSend(b, "<b>Yes</b>, at noon");
  await until("reply in Alice's thread", async () =>
    (await a.$$eval("#messages .body", (x) => x.map((e) => e.textContent)))
      .includes("<b>Yes</b>, at noon"));
  assert.equal(await a.locator("#messages b").count(), 0, "text is never parsed as HTML");
  await axeCheck(b, "an open thread");
  console.log("ok - reading clears badges and the tab title, replies arrive live");

  // A reload, with messages sent while Bob's page is away: nothing lost, nothing doubled.
  const reload = b.reload();
  for (let i = 0; i < 3; i++) {
    await s.call("POST", "/v1/messages",
      { conversation_id: Number(conv), type: "text", data: { content: `away ${i}` } },
      alice.token);
  }
  await reload;
  await until("signed in again", async () => (await b.textContent("#my-uuid")) === bob.uuid);
  await until("badge 3 after reload", async () => (await badge(b, conv)) === "3");
  await b.click(`#conv-list li[data-id="${conv}"] button`);
  await until("all 6 after reload", async () => (await messageIds(b)).length === 6);
  await s.call("POST", "/v1/messages",
    { conversation_id: Number(conv), type: "text", data: { content: "after reload" } },
    alice.token);
  await until("live after reload", async () => (await messageIds(b)).length === 7);
  console.log("ok - a reload resumes without loss");

  // A dropped stream: the server restarts; what is sent before the page reconnects arrives by
  // replay from its last position, once.
  const sockets = [];
  b.on("websocket", (ws) => sockets.push(ws.url()));
  await s.restart();
  for (let i = 0; i < 2; i++) {
    await s.call("POST", "/v1/messages",
      { conversation_id: Number(conv), type: "text", data: { content: `while down ${i}` } },
      alice.token);
  }
  await until("replayed after the drop", async () => (await messageIds(b)).length === 9, 20000);
  await new Promise((r) => setTimeout(r, 500));
  assert.equal((await messageIds(b)).length, 9, "nothing doubled after the drop");
  assert.match(sockets.at(-1), /[?&]after=\d+/, "the page reconnected by position");
  console.log("ok - a dropped stream resumes by position without loss");

  // Older messages load on scroll, by cursor, with no gap and no repeat.
  for (let i = 0; i < 75; i++) {
    await s.call("POST", "/v1/messages",
      { conversation_id: Number(conv), type: "text", data: { content: `old ${i}` } },
      alice.token);
  }
  await b.reload();
  await until("signed in again", async () => (await b.textContent("#my-uuid")) === bob.uuid);
  await b.click(`#conv-list li[data-id="${conv}"] button`);
  await until("first page", async () => (await messageIds(b)).length === 30);
  await until("scrolled to the start", async () => {
    await b.$eval("#messages", (m) => { m.scrollTop = 0; });
    return (await messageIds(b)).length === 84;
  }, 20000);
  const ids = await messageIds(b);
  const history = await s.call("GET", `/v1/conversations/${conv}/messages?limit=100`, null,
    bob.token);
  assert.deepEqual(ids, history.items.map((i) => i.id).slice(-84));
  assert.deepEqual(ids, [...new Set(ids)].sort((x, y) => x - y));
  console.log("ok - scrolling up loads every older message once, in order");

  // Embedded: an app page frames the inbox with an app-signed token in the fragment.
  const carolToken = s.memberToken("ext-carol", "carol");
  setEmbed(`${s.base}/inbox/#token=${carolToken}`);
  const ctxC = await newContext(browser, { locale: "en-US", viewport: DESKTOP });
  const c = await ctxC.newPage();
  c.on("pageerror", (e) => errors.push(String(e)));
  await c.goto(host);
  const frame = await until("the inbox frame", () => c.frames().find((f) => f.url().includes("/inbox/")));
  await until("embedded session", async () => (await frame.textContent("#my-uuid")) !== "");
  assert.equal(frame.url(), `${s.base}/inbox/`, "the token leaves the address bar");
  await frame.fill("#new-uuid", alice.uuid);
  await frame.press("#new-uuid", "Enter");
  await frame.fill("#text", "Hello from inside the app");
  await frame.press("#text", "Enter");
  await until("Carol's message reaches Alice", async () =>
    (await a.$$eval("#conv-list .preview", (x) => x.map((e) => e.textContent)))
      .includes("Hello from inside the app"));
  await c.screenshot({ path: join(shots, "inbox-embedded-en.png") });
  console.log("ok - an iframe session through an app-signed member token");

  // Recall (for everyone, live) and delete for me (only the member who deletes).
  const idOf = (page, text) => page.$$eval("#messages li.msg", (lis, t) =>
    lis.find((li) => li.querySelector(".body").textContent === t)?.dataset.id, text);
  await typeAndSend(a, "to recall");
  await typeAndSend(a, "to hide");
  const rid = await until("Bob has it", () => idOf(b, "to recall"));
  const hid = await until("Bob has it", () => idOf(b, "to hide"));
  await a.click(`#messages li[data-id="${rid}"] .actions button >> text=Recall`);
  await until("recalled for Bob", async () =>
    (await b.textContent(`#messages li[data-id="${rid}"] .body`)) === "Message recalled");
  await b.click(`#messages li[data-id="${hid}"] .actions button >> text=Delete for me`);
  await until("gone for Bob", async () => !(await messageIds(b)).includes(Number(hid)));
  assert.ok((await messageIds(a)).includes(Number(hid)), "Alice still has it");
  console.log("ok - recall reaches the peer live; delete for me hides for the deleter only");

  // Block and unblock from the thread; the who-may-message setting from the list.
  await b.click("#block");
  await until("Unblock shown", async () => (await b.textContent("#block")) === "Unblock");
  await typeAndSend(a, "blocked?");
  await until("refusal shown to Alice", async () =>
    (await a.textContent("#status")) === "This member does not accept your messages.");
  await b.click("#block");
  await until("Block shown", async () => (await b.textContent("#block")) === "Block");
  await typeAndSend(a, "unblocked");
  await until("arrives after unblock", () => idOf(b, "unblocked"));
  assert.equal(await idOf(b, "blocked?"), undefined);
  await b.selectOption("#dm-policy", "nobody");
  await until("policy saved", async () =>
    (await s.call("GET", "/v1/me", null, bob.token)).dm_policy === "nobody");
  await b.selectOption("#dm-policy", "everyone");
  await until("policy saved", async () =>
    (await s.call("GET", "/v1/me", null, bob.token)).dm_policy === "everyone");
  console.log("ok - block, unblock and the who-may-message setting");

  await composerTypes(s, a, b, bob, conv);
  await readReceipts(s, a, b, bob, conv);
  await groups(s, a, b, alice, bob);
  await keyboardOnly(browser, s, a, bob, conv, errors);
  await bidiAndLongText(s, a, alice, errors);

  await screenshots(browser, s, key, [alice, bob], conv);
  assert.deepEqual(errors, [], "no page errors");
}

const lastBody = (page) => page.locator("#messages li.msg:last-child .body");
const previewOf = (page, convId) =>
  page.textContent(`#conv-list li[data-id="${convId}"] .preview`, { timeout: 200 }).catch(() => null);

// Link, image (by URL) and rich text from the composer, each drawn as its type; rich text
// only through the allow-list (no script, no handler, links open outside with noopener).
async function composerTypes(s, a, b, bob, conv) {
  await a.selectOption("#kind", "link");
  await a.fill("#link-url", "https://example.com/docs?q=1");
  await a.fill("#link-title", "Example docs 文档");
  await a.press("#link-title", "Enter");
  const link = lastBody(b).locator("a");
  await until("link drawn for Bob", async () =>
    (await link.getAttribute("href", { timeout: 200 }).catch(() => null)) ===
      "https://example.com/docs?q=1");
  assert.equal(await link.textContent(), "Example docs 文档");
  assert.equal(await link.getAttribute("target"), "_blank");
  assert.match(await link.getAttribute("rel"), /noopener/);
  assert.equal(await lastBody(b).locator(".host").textContent(), "example.com");
  await until("link preview", async () => (await previewOf(b, conv)) === "Example docs 文档");

  await a.selectOption("#kind", "image");
  await a.fill("#image-url", "https://img.example/picture.svg");
  await a.press("#image-url", "Enter");
  await until("image drawn and loaded for Bob (CSP img-src https:)", () =>
    b.$eval("#messages li.msg:last-child .body img", (img) =>
      img.complete && img.naturalWidth === 160 && img.alt === "Image").catch(() => false));
  await until("image preview", async () => (await previewOf(b, conv)) === "[Image]");

  await a.selectOption("#kind", "html");
  await a.click("#rich");
  await a.keyboard.type("plain and ");
  await a.click("#bold");
  await a.keyboard.type("bold");
  await a.keyboard.press("Enter");
  await until("rich text drawn for Bob", async () =>
    (await b.$$eval("#messages li.msg:last-child .body.rich :is(b, strong)",
      (x) => x.map((e) => e.textContent)).catch(() => [])).includes("bold"));
  assert.equal((await lastBody(b).textContent()).replace(/\s+/g, " "), "plain and bold");
  assert.equal(await a.textContent("#rich"), "", "the composer is emptied");

  // Hostile markup sent through the API: the server sanitises, the inbox draws only its
  // allow-list (links get target and rel; no script, no handlers, no javascript: links).
  await s.call("POST", "/v1/messages", { conversation_id: Number(conv), type: "html", data: {
    content: '<p>see <a href="https://ok.example/">this</a> <a href="javascript:alert(1)">x</a>' +
      '<script>alert(1)</script><img src="https://img.example/p.svg" onerror="alert(2)"></p>',
  } }, bob.token);
  await until("hostile html drawn", async () =>
    (await lastBody(a).textContent().catch(() => "")).startsWith("see this"));
  const drawn = await lastBody(a).evaluate((body) => ({
    scripts: body.querySelectorAll("script").length,
    handlers: [...body.querySelectorAll("*")].filter((e) =>
      [...e.attributes].some((at) => at.name.startsWith("on"))).length,
    links: [...body.querySelectorAll("a")].map((x) => [x.getAttribute("href"), x.target, x.rel]),
    imgs: [...body.querySelectorAll("img")].map((i) => i.getAttribute("src")),
  }));
  assert.deepEqual(drawn, {
    scripts: 0, handlers: 0,
    links: [["https://ok.example/", "_blank", "noopener noreferrer nofollow"]],
    imgs: ["https://img.example/p.svg"],
  });
  await a.selectOption("#kind", "text");
  console.log("ok - link, image and rich-text messages from the composer, drawn by type");
}

// A direct conversation shows when the peer has read: Sent, then Read live, and Read again
// from history after a reload.
async function readReceipts(s, a, b, bob, conv) {
  await b.reload();
  await until("Bob back", async () => (await b.textContent("#my-uuid")) === bob.uuid);
  await typeAndSend(a, "did you read this?");
  const id = await until("sent", () => a.$$eval("#messages li.msg.mine", (lis) =>
    lis.find((li) => li.querySelector(".body").textContent === "did you read this?")?.dataset.id));
  const receipt = () => a.textContent(`#messages li[data-id="${id}"] .receipt`);
  await until("badge for Bob", async () => (await badge(b, conv)) !== null);
  assert.equal(await receipt(), "Sent");
  await b.click(`#conv-list li[data-id="${conv}"] button`);
  await until("Read, live", async () => (await receipt()) === "Read");
  await a.reload();
  await until("Alice back", async () => (await a.textContent("#my-uuid")) !== "");
  await a.click(`#conv-list li[data-id="${conv}"] button`);
  await until("Read from history", async () =>
    (await a.textContent(`#messages li[data-id="${id}"] .receipt`, { timeout: 200 })
      .catch(() => null)) === "Read");
  console.log("ok - read receipts in a direct conversation (live and from history)");
}

// Create a group, add and remove members (owner), leave (member); live for the others.
async function groups(s, a, b, alice, bob) {
  const dave = await s.member("dave", "dave-pw-1");
  await a.click("#new-group");
  await a.fill("#group-subject", "Weekend 周末 🏕️");
  await a.fill("#group-members", bob.uuid);
  await a.press("#group-subject", "Enter");
  await until("group open", async () => (await a.textContent("#thread-title")) === "Weekend 周末 🏕️");
  await until("members button", async () => (await a.textContent("#members-btn")) === "Members (2)");
  const gid = Number(await a.getAttribute("#messages", "data-conversation"));
  await until("the group reaches Bob live", async () =>
    (await b.textContent(`#conv-list li[data-id="${gid}"] .name`, { timeout: 200 })
      .catch(() => null)) === "Weekend 周末 🏕️");
  await typeAndSend(a, "hi group");
  await until("group message for Bob", async () => (await previewOf(b, gid)) === "hi group");

  await a.click("#members-btn");
  const names = (page) => page.$$eval("#member-list li .name", (x) => x.map((e) => e.textContent));
  await until("members listed", async () =>
    JSON.stringify(await names(a)) === JSON.stringify(["alice", "bob"]));
  await axeCheck(a, "the members dialog");
  await a.fill("#add-uuid", dave.uuid);
  await a.press("#add-uuid", "Enter");
  await until("dave added", async () => (await names(a)).includes("dave"));
  const inGroup = async () => (await s.call("GET", `/v1/conversations/${gid}`, null, alice.token))
    .participants.map((p) => p.username).sort();
  assert.deepEqual(await inGroup(), ["alice", "bob", "dave"]);
  await a.click(`#member-list li[data-uuid="${dave.uuid}"] button`);
  await until("dave removed", async () => !(await names(a)).includes("dave"));
  assert.deepEqual(await inGroup(), ["alice", "bob"]);
  await a.click("#members-close");
  await until("members button after changes", async () =>
    (await a.textContent("#members-btn")) === "Members (2)");

  await b.click(`#conv-list li[data-id="${gid}"] button`);
  await b.click("#members-btn");
  await until("Bob sees the members", async () => (await names(b)).length === 2);
  assert.equal(await b.isVisible("#add-form"), false, "only the owner is offered adding");
  await b.click("#leave");
  await until("Bob's thread closed", async () =>
    (await b.getAttribute("#messages", "data-conversation")) !== String(gid) ||
    !(await b.isVisible("#composer")));
  await until("Bob left", async () => JSON.stringify(await inGroup()) === '["alice"]');
  await until("Alice's count drops live", async () =>
    (await a.textContent("#members-btn")) === "Members (1)");
  console.log("ok - groups: create, add and remove members, leave");
}

// Keyboard only: sign in, open a conversation and send, with Tab and Enter; the focus is
// visible at every step.
async function keyboardOnly(browser, s, a, bob, conv, errors) {
  const ctx = await newContext(browser, { locale: "en-US", viewport: DESKTOP });
  const k = await ctx.newPage();
  k.on("pageerror", (e) => errors.push(String(e)));
  await k.goto(`${s.base}/inbox/?app=${s.app.app_key}`);
  await until("focus in the form", async () =>
    (await k.evaluate(() => document.activeElement?.id)) === "app-key");
  const focused = () => k.evaluate(() => {
    const e = document.activeElement;
    const st = getComputedStyle(e);
    return { id: e.id, conv: e.closest("#conv-list li")?.dataset.id ?? null,
      visible: e.matches(":focus-visible") && st.outlineStyle !== "none" &&
        parseFloat(st.outlineWidth) >= 2 };
  });
  await k.keyboard.press("Tab");
  assert.deepEqual(await focused(), { id: "username", conv: null, visible: true });
  await k.keyboard.type(bob.username);
  await k.keyboard.press("Tab");
  assert.deepEqual(await focused(), { id: "password", conv: null, visible: true });
  await k.keyboard.type(bob.password);
  await k.keyboard.press("Enter");
  await until("signed in by keyboard", async () => (await k.textContent("#my-uuid")) === bob.uuid);
  await until("list drawn", async () => (await k.$$("#conv-list li")).length > 0);
  let f = null;
  for (let i = 0; i < 40; i++) {
    await k.keyboard.press("Tab");
    f = await focused();
    assert.ok(f.visible, `focus visible on ${JSON.stringify(f)}`);
    if (f.conv === String(conv)) break;
  }
  assert.equal(f.conv, String(conv), "Tab reaches the conversation");
  await k.keyboard.press("Enter");
  await until("composer focused", async () => (await focused()).id === "text");
  assert.ok((await focused()).visible, "focus visible in the composer");
  await k.keyboard.type("typed with the keyboard only");
  await k.keyboard.press("Enter");
  await until("keyboard message reaches Alice", async () =>
    (await previewOf(a, conv)) === "typed with the keyboard only");
  await ctx.close();
  console.log("ok - keyboard only: sign in, open, send; focus always visible");
}

// Long Chinese and English text, emoji and a right-to-left name: dir="auto" on everything a
// member wrote, drawn without overflowing the thread, every character intact.
async function bidiAndLongText(s, a, alice, errors) {
  const rtl = await s.member("مريم 🌙", "maryam-pw-1");
  const long = "这是一段很长的中文消息，没有空格也要正确换行。".repeat(30) +
    " Supercalifragilistic".repeat(20) + "x".repeat(300) + " 👩‍💻🎉🇨🇳";
  await s.call("POST", "/v1/messages", { to: alice.uuid, type: "text", data: { content: long } },
    rtl.token);
  const m2 = await s.call("POST", "/v1/messages",
    { to: alice.uuid, type: "text", data: { content: "مرحبا بك 👋" } }, rtl.token);
  const row = `#conv-list li[data-id="${m2.conversation_id}"]`;
  await until("RTL member in the list", async () =>
    (await a.textContent(`${row} .name`, { timeout: 200 }).catch(() => null)) === "مريم 🌙");
  assert.deepEqual(await a.$eval(`${row} .name`, (e) => [e.dir, e.matches(":dir(rtl)")]),
    ["auto", true]);
  await a.click(`${row} button`);
  await until("both messages", async () => (await messageIds(a)).includes(m2.id));
  const r = await a.evaluate(() => {
    const box = document.getElementById("messages");
    const bodies = [...box.querySelectorAll("li.msg .body")];
    return {
      texts: bodies.map((b) => b.textContent),
      dirs: bodies.map((b) => [b.dir, b.matches(":dir(rtl)")]),
      who: [...box.querySelectorAll(".who")].map((w) => [w.dir, w.matches(":dir(rtl)")]),
      title: [document.getElementById("thread-title").dir,
        document.getElementById("thread-title").matches(":dir(rtl)")],
      overflow: box.scrollWidth - box.clientWidth,
      wide: [...box.querySelectorAll("li.msg")].filter((li) =>
        li.getBoundingClientRect().right > box.getBoundingClientRect().right + 1).length,
    };
  });
  assert.deepEqual(r.texts, [long, "مرحبا بك 👋"]);
  assert.deepEqual(r.dirs, [["auto", false], ["auto", true]]);
  assert.deepEqual(r.who, [["auto", true], ["auto", true]]);
  assert.deepEqual(r.title, ["auto", true]);
  assert.equal(r.overflow, 0, "no sideways scrolling");
  assert.equal(r.wide, 0, "every message fits the thread");
  void errors;
  console.log("ok - long Chinese and English text, emoji and right-to-left names");
}

async function screenshots(browser, s, key, [alice, bob], conv) {
  mkdirSync(shots, { recursive: true });
  for (const [lang, locale] of [["en", "en-US"], ["zh", "zh-CN"]]) {
    for (const [size, viewport] of [["desktop", DESKTOP], ["phone", PHONE]]) {
      const ctx = await newContext(browser, { locale, viewport, colorScheme: "light" });
      const p = await ctx.newPage();
      await p.goto(`${s.base}/inbox/?app=${key}`);
      if (size === "desktop") await p.screenshot({ path: join(shots, `inbox-${lang}-signin.png`) });
      await signIn(p, s.base, key, alice);
      if (size === "phone") await p.screenshot({ path: join(shots, `inbox-${lang}-${size}-list.png`) });
      await p.click(`#conv-list li[data-id="${conv}"] button`);
      await until("thread", async () => (await messageIds(p)).length >= 30);
      await p.screenshot({ path: join(shots, `inbox-${lang}-${size}.png`) });
      if (lang === "zh") {
        assert.equal(await p.textContent("#composer button[type=submit]"), "发送");
        await axeCheck(p, `the ${lang} ${size} thread`);
      }
      await ctx.close();
    }
  }
  void bob;
  console.log(`ok - screenshots in ${shots}`);
}

main().then(() => console.log("browser tests passed"), (e) => {
  console.error(e);
  process.exit(1);
});
