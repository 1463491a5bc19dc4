// BENCHMARKS.md "Web inbox": first-load bytes and time to interactive in headless Chromium on
// loopback, and send-to-drawn latency in a second browser over 200 messages.
// INBOX_SIXIN_BIN=target/release/sixin node tests/browser/bench.mjs
import { chromium } from "playwright-core";
import { startSixin } from "./server.mjs";

const s = await startSixin(process.env.INBOX_SIXIN_BIN);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium", args: ["--no-sandbox"],
});
try {
  const alice = await s.member("alice", "alice-pw-1");
  const bob = await s.member("bob", "bob-pw-1");
  const first = await s.call("POST", "/v1/messages",
    { to: bob.uuid, type: "text", data: { content: "hello" } }, alice.token);

  // First load: every response of the page, its bytes as sent (sixin gzips them for a browser)
  // and decoded, with the headers; time to interactive is
  // navigation start → the conversation list drawn (signed in through the fragment).
  // A first page in a fresh context warms the browser up; the one measured is the second
  // context's first load (nothing cached).
  const warm = await (await browser.newContext()).newPage();
  await warm.goto(`${s.base}/inbox/#token=${alice.token}`);
  await warm.waitForSelector("#conv-list li");
  const page = await (await browser.newContext()).newPage();
  const responses = [];
  page.on("response", (r) => {
    if (r.url().includes("/inbox/")) responses.push(r);
  });
  const t0 = Date.now();
  await page.goto(`${s.base}/inbox/#token=${bob.token}`);
  await page.waitForSelector(`#conv-list li[data-id="${first.conversation_id}"]`);
  const tti = Date.now() - t0;
  let sent = 0;
  let headers = 0;
  let decoded = 0;
  let gzipped = 0;
  for (const r of responses) {
    const sizes = await r.request().sizes();
    sent += sizes.responseBodySize;
    headers += sizes.responseHeadersSize;
    decoded += (await r.body()).length;
    if ((await r.allHeaders())["content-encoding"] === "gzip") gzipped += 1;
  }
  console.log(`first load: ${responses.length} files (${gzipped} gzipped), ${sent} body bytes ` +
    `as sent (+${headers} header bytes), ${decoded} decoded; time to interactive ${tti} ms`);

  // Send → drawn: Bob has the thread open; a MutationObserver stamps each new message.
  await page.click(`#conv-list li[data-id="${first.conversation_id}"] button`);
  await page.waitForSelector("#messages li.msg");
  await page.evaluate(() => {
    window.drawn = {};
    new MutationObserver((records) => {
      for (const r of records) for (const n of r.addedNodes) {
        if (n.dataset?.id) window.drawn[n.dataset.id] = Date.now();
      }
    }).observe(document.getElementById("messages"), { childList: true });
  });
  const sentAt = {};
  for (let i = 0; i < 200; i++) {
    const before = Date.now();
    const m = await s.call("POST", "/v1/messages",
      { conversation_id: first.conversation_id, type: "text", data: { content: `m${i}` } },
      alice.token);
    sentAt[m.id] = before;
    await new Promise((r) => setTimeout(r, 20));
  }
  // Polled from here: waitForFunction's in-page polling evaluates a string, which the inbox's
  // CSP (no 'unsafe-eval') refuses. Bounded: 30 s.
  for (let i = 0; i < 300; i++) {
    if (await page.evaluate(() => Object.keys(window.drawn).length) >= 200) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const drawn = await page.evaluate(() => window.drawn);
  const lat = Object.entries(sentAt).map(([id, t]) => drawn[id] - t).sort((a, b) => a - b);
  const q = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))];
  console.log(`send → drawn over ${lat.length} messages: p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, ` +
    `max ${lat[lat.length - 1]} ms`);
} finally {
  await browser.close();
  s.stop();
}
