/**
 * A minimal Chrome DevTools Protocol client for the console's browser tests:
 * starts Debian's headless chromium with a fresh profile, talks to it over the
 * WebSocket it announces (Deno has WebSocket built in), and gives a page
 * navigate / evaluate / wait-until / screenshot. Under 300 lines instead of a
 * dependency: puppeteer-core and playwright-core are tens of MB of npm
 * packages that expect Node's module graph and would bring a second copy of
 * what these tests use (four CDP methods).
 *
 * @example
 * ```ts ignore
 * import { launchChromium } from "./cdp.ts";
 * await using browser = await launchChromium();
 * const page = await browser.newPage();
 * await page.goto("http://127.0.0.1:8080/");
 * const title = await page.evaluate<string>("document.title");
 * ```
 * @module
 */

/** Where Debian installs chromium. */
export const CHROMIUM = "/usr/bin/chromium";

/** The flags chromium needs as root in a container, with no network of its own. */
export const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
  "--hide-scrollbars",
  "--mute-audio",
  "--remote-debugging-port=0",
];

type Json = Record<string, unknown>;
interface Pending {
  resolve: (v: Json) => void;
  reject: (e: Error) => void;
  method: string;
}

/** A running chromium and its DevTools connection. Dispose to end both. */
export class Chromium implements AsyncDisposable {
  readonly #child: Deno.ChildProcess;
  readonly #ws: WebSocket;
  readonly #profile: string;
  readonly #pending = new Map<number, Pending>();
  readonly #listeners = new Set<(method: string, params: Json, session?: string) => void>();
  readonly #stderr: string[];
  readonly #drained: Promise<void>;
  #nextId = 1;

  constructor(
    child: Deno.ChildProcess,
    ws: WebSocket,
    profile: string,
    stderr: string[],
    drained: Promise<void>,
  ) {
    this.#child = child;
    this.#ws = ws;
    this.#profile = profile;
    this.#stderr = stderr;
    this.#drained = drained;
    ws.onmessage = (m) => this.#receive(JSON.parse(String(m.data)));
    ws.onclose = () => {
      for (const p of this.#pending.values()) {
        p.reject(new Error(`chromium closed during ${p.method}`));
      }
      this.#pending.clear();
    };
  }

  /** Sends one command (to a page when `session` is given) and resolves with its result. */
  send(method: string, params: Json = {}, session?: string): Promise<Json> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, method });
      this.#ws.send(JSON.stringify({ id, method, params, sessionId: session }));
    });
  }

  /** Calls `listen` for every protocol event until the returned function is called. */
  on(listen: (method: string, params: Json, session?: string) => void): () => void {
    this.#listeners.add(listen);
    return () => this.#listeners.delete(listen);
  }

  /** A new tab of `width`×`height` CSS pixels. */
  async newPage(width = 1100, height = 900): Promise<Page> {
    const { targetId } = await this.send("Target.createTarget", { url: "about:blank" });
    const { sessionId } = await this.send("Target.attachToTarget", { targetId, flatten: true });
    const page = new Page(this, String(sessionId));
    await page.send("Page.enable");
    await page.send("Runtime.enable");
    await page.send("Emulation.setDeviceMetricsOverride", {
      width,
      height,
      deviceScaleFactor: 1,
      mobile: false,
    });
    return page;
  }

  /** chromium's last stderr lines, for failure messages. */
  get log(): string {
    return this.#stderr.slice(-20).join("\n");
  }

  #receive(msg: Json): void {
    if (typeof msg.id === "number") {
      const p = this.#pending.get(msg.id);
      this.#pending.delete(msg.id);
      const error = msg.error as { message?: string } | undefined;
      if (error) p?.reject(new Error(`${p.method}: ${error.message}`));
      else p?.resolve((msg.result ?? {}) as Json);
      return;
    }
    const session = msg.sessionId as string | undefined;
    for (const l of this.#listeners) l(String(msg.method), (msg.params ?? {}) as Json, session);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    const exited = this.#child.status;
    if (this.#ws.readyState === WebSocket.OPEN) {
      const closed = new Promise((r) => this.#ws.addEventListener("close", r, { once: true }));
      await this.send("Browser.close").catch(() => {});
      this.#ws.close();
      await closed;
    }
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
    await this.#drained;
    await Deno.remove(this.#profile, { recursive: true }).catch(() => {});
  }
}

/** One tab. */
export class Page {
  readonly #browser: Chromium;
  readonly session: string;

  constructor(browser: Chromium, session: string) {
    this.#browser = browser;
    this.session = session;
  }

  /** Sends a command to this tab. */
  send(method: string, params: Json = {}): Promise<Json> {
    return this.#browser.send(method, params, this.session);
  }

  /** Navigates and resolves once the page's load event fired. */
  async goto(url: string, timeoutMs = 15_000): Promise<void> {
    let stop = () => {};
    const loaded = new Promise<void>((resolve) => {
      stop = this.#browser.on((method, _p, session) => {
        if (method === "Page.loadEventFired" && session === this.session) resolve();
      });
    });
    try {
      const nav = await this.send("Page.navigate", { url });
      if (nav.errorText) throw new Error(`cannot open ${url}: ${nav.errorText}`);
      await withTimeout(loaded, timeoutMs, `the load event of ${url}`);
    } finally {
      stop();
    }
  }

  /** The value of a JavaScript expression in the page (awaited if it is a promise). */
  async evaluate<T>(expression: string): Promise<T> {
    const r = await this.send("Runtime.evaluate", {
      expression,
      returnByValue: true,
      awaitPromise: true,
    });
    const thrown = r.exceptionDetails as
      | { exception?: { description?: string }; text?: string }
      | undefined;
    if (thrown) throw new Error(`page: ${thrown.exception?.description ?? thrown.text}`);
    return (r.result as { value: T }).value;
  }

  /**
   * Re-evaluates `expression` (every 100 ms) until it is truthy and returns
   * that value; throws naming `what` and the last value after `timeoutMs`.
   */
  async waitFor<T>(expression: string, what: string, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    while (Date.now() < deadline) {
      last = await this.evaluate<T>(expression);
      if (last) return last as T;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(
      `timed out after ${timeoutMs} ms waiting for ${what} (last: ${JSON.stringify(last)})`,
    );
  }

  /** Saves a PNG of the page as it looks now (the whole page, not only the viewport). */
  async screenshot(path: string): Promise<number> {
    const { data } = await this.send("Page.captureScreenshot", {
      format: "png",
      captureBeyondViewport: true,
    });
    const bytes = Uint8Array.from(atob(String(data)), (c) => c.charCodeAt(0));
    await Deno.writeFile(path, bytes);
    return bytes.byteLength;
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** Reads chromium's stderr as lines into `lines`, resolving `announced` with the DevTools URL. */
async function readStderr(
  stream: ReadableStream<Uint8Array>,
  lines: string[],
  announced: (url: string) => void,
): Promise<void> {
  let partial = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    const parts = (partial + text).split("\n");
    partial = parts.pop() ?? "";
    for (const line of parts) {
      lines.push(line);
      if (lines.length > 200) lines.shift();
      const m = /DevTools listening on (ws:\/\/\S+)/.exec(line);
      if (m) announced(m[1]);
    }
  }
}

/** Starts headless chromium (default {@linkcode CHROMIUM}) with a fresh profile. */
export async function launchChromium(path = CHROMIUM): Promise<Chromium> {
  const profile = await Deno.makeTempDir({ prefix: "socklab-chromium-" });
  const child = new Deno.Command(path, {
    args: [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`, "about:blank"],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  let announced!: (url: string) => void;
  const url = new Promise<string>((resolve) => (announced = resolve));
  const drained = readStderr(child.stderr, lines, announced);
  const ended = child.status.then((s) => {
    throw new Error(`chromium exited (${s.code}) before DevTools listened:\n${lines.join("\n")}`);
  });
  try {
    const wsUrl = await withTimeout(Promise.race([url, ended]), 30_000, "chromium's DevTools URL");
    const ws = new WebSocket(wsUrl);
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = () => reject(new Error(`cannot connect to ${wsUrl}`));
    });
    ended.catch(() => {});
    return new Chromium(child, ws, profile, lines, drained);
  } catch (err) {
    ended.catch(() => {});
    child.kill("SIGKILL");
    await child.status;
    await drained;
    await Deno.remove(profile, { recursive: true }).catch(() => {});
    throw err;
  }
}
