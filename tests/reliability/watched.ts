/**
 * A server process under fuzzing: its output is scanned as it streams (for
 * the lines a test waits on and for stack traces) but only a head and a tail
 * are kept, since a server that prints every hostile datagram can write
 * hundreds of megabytes. tests/helpers/cli.ts keeps everything; this does not.
 *
 * @example
 * ```ts ignore
 * import { WatchedProcess } from "./watched.ts";
 * await using p = new WatchedProcess([...socklabArgv(), "rates-server", "--port", "0"]);
 * await p.stdout.waitFor(/listening on UDP/);
 * ```
 * @module
 */
import { ROOT } from "../helpers/cli.ts";

/** Lines that mean a stack trace or a runtime crash reached the output. */
const CRASH_PATTERNS = [
  /^\s+at .*(\.ts|\.js|\.mjs|ext:|<anonymous>|native)/,
  /^error: Uncaught/,
  /^Uncaught /,
  /panicked at/,
  /^Segmentation fault/,
  /RUST_BACKTRACE/,
  /Stack trace:/,
];

const KEEP_HEAD_LINES = 40;
const KEEP_TAIL_CHARS = 16_384;
/** Longest line kept whole for matching; longer lines are matched on their start. */
const MAX_LINE_CHARS = 65_536;

/** One output stream, scanned line by line. */
export class ScannedOutput {
  /** Bytes seen. */
  bytes = 0;
  /** Lines seen. */
  lines = 0;
  /** The first lines (the start-up line among them). */
  readonly head: string[] = [];
  /** The first line that looked like a stack trace, with its line number. */
  crash: string | undefined;
  #tail = "";
  #listeners = new Set<(line: string) => void>();
  #partial = "";
  #partialCut = false;
  #ended = false;
  #waiters: {
    test: (l: string) => boolean;
    resolve: (l: string) => void;
    fail: (e: Error) => void;
  }[] = [];

  /** The last characters written, for failure messages. */
  get tail(): string {
    return this.#tail;
  }

  /** Feeds decoded text. */
  push(text: string, byteCount: number): void {
    this.bytes += byteCount;
    this.#tail = (this.#tail + text).slice(-KEEP_TAIL_CHARS);
    let start = 0;
    while (true) {
      const nl = text.indexOf("\n", start);
      const piece = text.slice(start, nl < 0 ? text.length : nl);
      if (!this.#partialCut) {
        this.#partial += piece;
        if (this.#partial.length > MAX_LINE_CHARS) {
          this.#partial = this.#partial.slice(0, MAX_LINE_CHARS);
          this.#partialCut = true;
        }
      }
      if (nl < 0) break;
      this.#line(this.#partial);
      this.#partial = "";
      this.#partialCut = false;
      start = nl + 1;
    }
  }

  /** Marks EOF: pending waits fail. */
  end(): void {
    if (this.#partial !== "") this.#line(this.#partial);
    this.#partial = "";
    this.#ended = true;
    for (const w of this.#waiters) w.fail(new Error("the stream ended"));
    this.#waiters = [];
  }

  #line(line: string): void {
    this.lines++;
    if (this.head.length < KEEP_HEAD_LINES) this.head.push(line);
    if (this.crash === undefined && CRASH_PATTERNS.some((p) => p.test(line))) {
      this.crash = `line ${this.lines}: ${line.slice(0, 300)}`;
    }
    for (const l of this.#listeners) l(line);
    if (this.#waiters.length === 0) return;
    this.#waiters = this.#waiters.filter((w) => {
      if (!w.test(line)) return true;
      w.resolve(line);
      return false;
    });
  }

  /** Calls `fn` with every line from now on; returns the function that stops it. */
  onLine(fn: (line: string) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /**
   * The next line matching `pattern` (or one among the head lines already
   * seen, when `inHead`). Rejects after `timeoutMs` or at EOF.
   */
  waitFor(pattern: RegExp, timeoutMs = 10_000, inHead = false): Promise<string> {
    const test = (l: string) => pattern.test(l);
    if (inHead) {
      const seen = this.head.find(test);
      if (seen !== undefined) return Promise.resolve(seen);
    }
    if (this.#ended) return Promise.reject(new Error(`the stream ended waiting for ${pattern}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w.resolve !== done);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${pattern}`));
      }, timeoutMs);
      const done = (l: string) => {
        clearTimeout(timer);
        resolve(l);
      };
      this.#waiters.push({
        test,
        resolve: done,
        fail: (err) => {
          clearTimeout(timer);
          reject(new Error(`${err.message} waiting for ${pattern}`));
        },
      });
    });
  }
}

/** A subprocess whose stdout and stderr are scanned, not stored. */
export class WatchedProcess implements AsyncDisposable {
  readonly argv: string[];
  readonly child: Deno.ChildProcess;
  readonly stdout = new ScannedOutput();
  readonly stderr = new ScannedOutput();
  readonly #pumps: Promise<void>[];
  #stdin: WritableStreamDefaultWriter<Uint8Array> | undefined;
  #status: Deno.CommandStatus | undefined;
  readonly #statusPromise: Promise<Deno.CommandStatus>;

  constructor(argv: string[], options: { stdin?: boolean; env?: Record<string, string> } = {}) {
    this.argv = argv;
    const [cmd, ...args] = argv;
    this.child = new Deno.Command(cmd, {
      args,
      cwd: ROOT,
      stdin: options.stdin ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1", ...options.env },
    }).spawn();
    this.#stdin = options.stdin ? this.child.stdin.getWriter() : undefined;
    this.#pumps = [pump(this.child.stdout, this.stdout), pump(this.child.stderr, this.stderr)];
    this.#statusPromise = this.child.status.then((s) => (this.#status = s));
  }

  /** The process id (of `deno` itself: `ip netns exec` execs in place). */
  get pid(): number {
    return this.child.pid;
  }

  /** The exit status once it has exited, else undefined. */
  get exited(): Deno.CommandStatus | undefined {
    return this.#status;
  }

  /** Writes to stdin; resolves once the pipe took it (back-pressure included). */
  async write(data: string | Uint8Array): Promise<void> {
    if (!this.#stdin) throw new Error("stdin is not piped");
    await this.#stdin.write(typeof data === "string" ? new TextEncoder().encode(data) : data);
  }

  /** Closes stdin. */
  async closeStdin(): Promise<void> {
    const w = this.#stdin;
    this.#stdin = undefined;
    if (w) await w.close().catch(() => {});
  }

  /** Sends a signal if the process still runs. */
  kill(signal: Deno.Signal = "SIGTERM"): void {
    if (this.#status) return;
    try {
      this.child.kill(signal);
    } catch {
      // already gone
    }
  }

  /** Waits for exit and the end of both streams; SIGKILL after `timeoutMs`. */
  async exit(timeoutMs = 10_000): Promise<Deno.CommandStatus & { timedOut: boolean }> {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      this.kill("SIGKILL");
    }, timeoutMs);
    try {
      const status = await this.#statusPromise;
      await Promise.all(this.#pumps);
      return { ...status, timedOut };
    } finally {
      clearTimeout(timer);
    }
  }

  /** What the process printed, short, for a failure message. */
  describe(): string {
    const show = (name: string, o: ScannedOutput) =>
      `${name} (${o.lines} lines, ${o.bytes} bytes): first lines:\n  ${
        o.head.slice(0, 8).map((l) => l.slice(0, 200)).join("\n  ")
      }\n  ... last:\n  ${
        o.tail.slice(-1500).split("\n").map((l) => l.slice(0, 200)).join("\n  ")
      }`;
    const state = this.#status
      ? `exited: code ${this.#status.code}${
        this.#status.signal ? `, signal ${this.#status.signal}` : ""
      }`
      : "running";
    return `pid ${this.pid} (${state}): ${this.argv.slice(-8).join(" ")}\n${
      show("stdout", this.stdout)
    }\n${show("stderr", this.stderr)}`;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.closeStdin();
    this.kill("SIGKILL");
    await this.exit();
  }
}

async function pump(stream: ReadableStream<Uint8Array>, out: ScannedOutput): Promise<void> {
  const decoder = new TextDecoder();
  try {
    for await (const chunk of stream) {
      out.push(decoder.decode(chunk, { stream: true }), chunk.length);
    }
  } finally {
    out.end();
  }
}
