// The native API (`/v1`) and the event stream (`/v1/events`); nothing here decides anything.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code);
    this.status = status;
    this.code = code;
  }
}

export class Api {
  constructor(token) {
    this.token = token;
  }

  async call(method, path, body) {
    const headers = { accept: "application/json" };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    const res = await fetch(`/v1${path}`, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (res.status === 204) return null;
    const json = await res.json().catch(() => ({}));
    if (!res.ok) {
      const e = json.error || {};
      throw new ApiError(res.status, e.code || "http_" + res.status, e.message);
    }
    return json;
  }

  static async login(appKey, username, password) {
    return new Api(null).call("POST", "/sessions", { app_key: appKey, username, password });
  }
}

/**
 * Follows the member's event stream over WebSocket, reconnecting after drops and resuming
 * after the last position processed, so nothing is missed or doubled.
 * handlers: onReady(frame, resumed), onEvent(frame), onResync(), onDown(), onEnded().
 */
export class Events {
  constructor(token, handlers) {
    this.token = token;
    this.h = handlers;
    this.position = null;
    this.delay = 500;
    this.stopped = false;
  }

  start() {
    const url = new URL("/v1/events", location.href);
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    url.searchParams.set("access_token", this.token);
    const resumed = this.position !== null;
    if (resumed) url.searchParams.set("after", String(this.position));
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.onmessage = (msg) => {
      const frame = JSON.parse(msg.data);
      if (frame.type === "ready") {
        this.delay = 500;
        this.h.onReady(frame, resumed);
      } else if (frame.type === "resync") {
        this.h.onResync();
      } else if (frame.type !== "closing") {
        this.h.onEvent(frame);
      }
      this.position = frame.position;
    };
    ws.onclose = (e) => {
      if (this.stopped) return;
      if (e.code === 1008) {
        this.h.onEnded();
        return;
      }
      this.h.onDown();
      setTimeout(() => this.start(), this.delay);
      this.delay = Math.min(this.delay * 2, 15000);
    };
  }

  stop() {
    this.stopped = true;
    this.ws?.close();
  }
}
