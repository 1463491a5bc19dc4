// Starts a real `sixin serve` in an empty directory with one app, for the browser tests.
import { spawn, execFileSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export async function startSixin(bin, env = {}) {
  const dir = mkdtempSync(join(tmpdir(), "sixin-inbox-"));
  // Only the settings given here: sixin refuses SIXIN_* variables that are not settings.
  const clean = Object.fromEntries(Object.entries(process.env)
    .filter(([k]) => !k.startsWith("SIXIN_")));
  const sixin = (...args) => execFileSync(bin, args, { cwd: dir, encoding: "utf8", env: clean });
  const app = JSON.parse(sixin("app", "create", "demo", "--json"));
  sixin("app", "set-member-tokens", app.app_key, "provision");
  sixin("app", "set-limits", "--app", app.app_key, "--json",
    '{"sends":{"per":1000,"secs":1,"burst":1000}}');
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  let child = null;
  const serve = async () => {
    child = spawn(bin, ["serve", "--listen", `127.0.0.1:${port}`], {
      cwd: dir, env: { ...clean, ...env }, stdio: ["ignore", "ignore", "inherit"],
    });
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`${base}/readyz`)).ok) break;
      } catch { /* not yet */ }
      if (i > 100) throw new Error("sixin serve did not become ready");
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  await serve();
  /** Stops the server (SIGTERM: streams get `closing`) and starts it again on the same port. */
  const restart = async () => {
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
    await serve();
  };
  const call = async (method, path, body, token) => {
    const headers = { "content-type": "application/json" };
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await fetch(base + path, { method, headers, body: body && JSON.stringify(body) });
    const json = res.status === 204 ? null : await res.json();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const member = async (username, password) => {
    const m = await call("POST", "/v1/members", { app_key: app.app_key, username, password });
    const s = await call("POST", "/v1/sessions", { app_key: app.app_key, username, password });
    return { ...m, password, token: s.token };
  };
  /** An app-signed member token (README "App-signed member tokens"), valid one hour. */
  const memberToken = (sub, name) => {
    const b64 = (s) => Buffer.from(s).toString("base64url");
    const now = Math.floor(Date.now() / 1000);
    const header = b64(JSON.stringify({ alg: "HS256", typ: "JWT" }));
    const claims = b64(JSON.stringify({ iss: app.app_key, sub, name, iat: now, exp: now + 3600 }));
    const sig = createHmac("sha256", app.app_secret).update(`${header}.${claims}`)
      .digest("base64url");
    return `${header}.${claims}.${sig}`;
  };
  const stop = () => {
    child.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  };
  return { base, app, call, member, memberToken, restart, stop };
}
