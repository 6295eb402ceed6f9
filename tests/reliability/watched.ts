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
import { type OutputSink, PipedProcess } from "../helpers/cli.ts";

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
export class ScannedOutput implements OutputSink {
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

  /** Feeds a chunk of the process's output (see PipedProcess). */
  receive(chunk: Uint8Array, text: string): void {
    this.push(text, chunk.length);
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
export class WatchedProcess extends PipedProcess<ScannedOutput> {
  /** Starts `argv`; stdin is /dev/null unless `stdin: true`. */
  constructor(
    readonly argv: string[],
    options: { stdin?: boolean; env?: Record<string, string> } = {},
  ) {
    super(argv, new ScannedOutput(), new ScannedOutput(), {
      env: options.env,
      stdin: options.stdin ?? false,
    });
  }

  /** Waits for exit and the end of both streams; SIGKILL after `timeoutMs`. */
  async exit(timeoutMs = 10_000): Promise<Deno.CommandStatus & { timedOut: boolean }> {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      this.kill("SIGKILL");
    }, timeoutMs);
    try {
      return { ...await this.status(), timedOut };
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
    const state = this.exited
      ? `exited: code ${this.exited.code}${
        this.exited.signal ? `, signal ${this.exited.signal}` : ""
      }`
      : "running";
    return `pid ${this.pid} (${state}): ${this.argv.slice(-8).join(" ")}\n${
      show("stdout", this.stdout)
    }\n${show("stderr", this.stderr)}`;
  }
}
