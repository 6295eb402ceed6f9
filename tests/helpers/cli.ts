/**
 * Runs the real socklab CLI as a subprocess for end-to-end tests, with its
 * stdout and stderr read as lines so a test waits on an event (a line), never
 * on a fixed sleep.
 *
 * A server test usually starts through tests/helpers/server.ts (startServer:
 * the port from the start-up line, disposed with `await using`), and writes
 * its command lines with {@linkcode argv}.
 *
 * @example
 * ```ts ignore
 * import { argv, runCli, spawnCli } from "./cli.ts";
 * await using server = spawnCli(argv`udp-server --bind 127.0.0.1 --port 0`);
 * const first = await server.stdout.waitFor(/port UDP (\d+)/);
 * const { code, stdout } = await runCli(argv`--version`);
 * ```
 * @module
 */
import { fileURLToPath as fromFileUrl } from "node:url";
import { lineTest, LineWaiters } from "../../lib/cli/line_waiters.ts";
import { LineFramer } from "../../lib/net/framing.ts";
import { FETCH_ENV } from "../../scripts/fetch_env.ts";

/** The repository root (where deno.json is). */
export const ROOT = fromFileUrl(new URL("../../", import.meta.url));
/** The CLI entry point. */
export const MAIN = fromFileUrl(new URL("../../main.ts", import.meta.url));

/** The argv that runs socklab: `deno run -A main.ts`, or `SOCKLAB_CMD` (e.g. the bundle). */
export function socklabArgv(): string[] {
  const custom = Deno.env.get("SOCKLAB_CMD");
  if (custom) return custom.split(" ").filter(Boolean);
  return [Deno.execPath(), "run", "-A", "--quiet", MAIN];
}

/** Lines of one output stream, collected as they arrive. */
export class LineLog implements OutputSink {
  readonly lines: string[] = [];
  #partial = "";
  #raw = "";
  readonly #waiters = new LineWaiters();
  #ended = false;
  #endWaiters: (() => void)[] = [];
  /** Every byte received, for binary checks. */
  readonly chunks: Uint8Array[] = [];

  /** Keeps a chunk of a process's output (see {@linkcode PipedProcess}). */
  receive(chunk: Uint8Array, text: string): void {
    this.chunks.push(chunk);
    this.push(text);
  }

  /** Appends decoded text. */
  push(text: string): void {
    this.#raw += text;
    const parts = (this.#partial + text).split("\n");
    this.#partial = parts.pop() ?? "";
    for (const line of parts) this.#add(line);
    // A prompt or a peer's unterminated line can satisfy a wait too.
    if (this.#partial !== "") this.#notify(this.#partial);
  }

  /** Marks EOF: a trailing partial line becomes a line; pending waits fail. */
  end(): void {
    if (this.#partial !== "") this.#add(this.#partial);
    this.#partial = "";
    this.#ended = true;
    this.#endWaiters.forEach((r) => r());
  }

  /** Text not yet ended by a newline (a prompt, say). */
  get partial(): string {
    return this.#partial;
  }

  /** Everything received so far, exactly. */
  get text(): string {
    return this.#raw;
  }

  #add(line: string): void {
    this.lines.push(line);
    this.#notify(line);
  }

  #notify(line: string): void {
    this.#waiters.notify(line);
  }

  /**
   * The first line (seen or coming) matching `pattern`. Rejects after
   * `timeoutMs` or at EOF, with the lines seen so far in the message.
   */
  waitFor(pattern: RegExp | string, timeoutMs = 10_000): Promise<string> {
    const test = lineTest(pattern);
    const seen = this.lines.find(test) ??
      (this.#partial !== "" && test(this.#partial) ? this.#partial : undefined);
    if (seen !== undefined) return Promise.resolve(seen);
    const error = (why: string) => new Error(`${why} waiting for ${pattern}; got:\n${this.text}`);
    const wait = this.#waiters.wait(test, timeoutMs, error);
    if (this.#ended) wait.fail("stream ended");
    else this.#endWaiters.push(() => wait.fail("stream ended"));
    return wait.promise;
  }

  /** Resolves at EOF. */
  ended(): Promise<void> {
    return this.#ended ? Promise.resolve() : new Promise((r) => this.#endWaiters.push(r));
  }
}

/** Where a {@linkcode PipedProcess} writes one output stream. */
export interface OutputSink {
  /** One chunk, as bytes and as text (UTF-8; a character split between chunks is joined). */
  receive(chunk: Uint8Array, text: string): void;
  /** The stream ended. */
  end(): void;
}

/** Options of {@linkcode PipedProcess}. */
export interface SpawnOptions {
  /** Extra environment variables (colours and Deno's update check are off). */
  env?: Record<string, string>;
  /** Pipe stdin for {@linkcode PipedProcess.write} (else /dev/null). */
  stdin: boolean;
}

/**
 * A subprocess run in the repository root with stdout and stderr piped into
 * two sinks, and stdin piped when asked: the part {@linkcode CliProcess} (every
 * line kept) and tests/reliability's WatchedProcess (scanned, not stored) share.
 */
export class PipedProcess<O extends OutputSink> implements AsyncDisposable {
  readonly child: Deno.ChildProcess;
  readonly #pumps: Promise<void>[];
  #stdin: WritableStreamDefaultWriter<Uint8Array> | undefined;
  #exited: Deno.CommandStatus | undefined;
  readonly #status: Promise<Deno.CommandStatus>;

  /** Starts `argv` (`argv[0]` the program). */
  constructor(argv: string[], readonly stdout: O, readonly stderr: O, options: SpawnOptions) {
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
    this.#pumps = [pump(this.child.stdout, stdout), pump(this.child.stderr, stderr)];
    this.#status = this.child.status.then((s) => (this.#exited = s));
  }

  /** The process id. */
  get pid(): number {
    return this.child.pid;
  }

  /** The exit status once it has exited, else undefined. */
  get exited(): Deno.CommandStatus | undefined {
    return this.#exited;
  }

  /** Writes text (or bytes) to stdin; resolves once the pipe took it (back-pressure included). */
  async write(data: string | Uint8Array): Promise<void> {
    if (!this.#stdin) throw new Error("stdin is not piped");
    await this.#stdin.write(typeof data === "string" ? new TextEncoder().encode(data) : data);
  }

  /** Closes stdin (EOF for the process). */
  async closeStdin(): Promise<void> {
    const w = this.#stdin;
    this.#stdin = undefined;
    if (w) await w.close().catch(() => {});
  }

  /** Sends a signal (default SIGTERM) if the process still runs. */
  kill(signal: Deno.Signal = "SIGTERM"): void {
    if (this.#exited) return;
    try {
      this.child.kill(signal);
    } catch {
      // already exited
    }
  }

  /** Waits for exit and for both output streams to end. */
  async status(): Promise<Deno.CommandStatus> {
    const s = await this.#status;
    await Promise.all(this.#pumps);
    return s;
  }

  /** Closes stdin, kills the process (SIGKILL) and waits for its output to end. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.closeStdin();
    this.kill("SIGKILL");
    await this.status();
  }
}

async function pump(stream: ReadableStream<Uint8Array>, sink: OutputSink): Promise<void> {
  const decoder = new TextDecoder();
  try {
    for await (const chunk of stream) sink.receive(chunk, decoder.decode(chunk, { stream: true }));
  } finally {
    sink.end();
  }
}

/** A running socklab subprocess, every output line kept. Dispose to kill it and free its pipes. */
export class CliProcess extends PipedProcess<LineLog> {
  /** Starts `argv` with stdin piped unless `stdin: false`. */
  constructor(argv: string[], options: { env?: Record<string, string>; stdin?: boolean } = {}) {
    super(argv, new LineLog(), new LineLog(), {
      env: { ...FETCH_ENV, ...options.env },
      stdin: options.stdin !== false,
    });
  }

  /** Waits for exit, killing it after `timeoutMs`. */
  async exit(timeoutMs = 10_000): Promise<Deno.CommandStatus> {
    const timer = setTimeout(() => this.kill("SIGKILL"), timeoutMs);
    try {
      return await this.status();
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Starts socklab with `args`. */
export function spawnCli(
  args: string[],
  options: { env?: Record<string, string>; stdin?: boolean } = {},
): CliProcess {
  return new CliProcess([...socklabArgv(), ...args], options);
}

/** Starts another program (a peer such as nc or a lecture C program) the same way. */
export function spawnProgram(
  argv: string[],
  options: { env?: Record<string, string>; stdin?: boolean } = {},
): CliProcess {
  return new CliProcess(argv, options);
}

/** A port that was free a moment ago (for peers that cannot bind port 0 themselves). */
export function freePort(transport: "tcp" | "udp" = "tcp"): number {
  if (transport === "udp") {
    const s = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    const port = (s.addr as Deno.NetAddr).port;
    s.close();
    return port;
  }
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Result of {@linkcode runCli}. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs socklab to completion with optional stdin text; kills it after `timeoutMs`. */
export async function runCli(
  args: string[],
  options: { stdin?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<CliResult> {
  await using p = spawnCli(args, { env: options.env });
  if (options.stdin !== undefined) await p.write(options.stdin);
  await p.closeStdin();
  const status = await p.exit(options.timeoutMs ?? 20_000);
  return { code: status.code, stdout: p.stdout.text, stderr: p.stderr.text };
}

/** What {@linkcode argv} interpolates: one argument, or several (an array). */
export type ArgValue = string | number | readonly (string | number)[];

/**
 * A command line written as a template: the literal text is split on blanks,
 * an interpolated value stays one argument (blanks and all, even when empty)
 * or joins the text around it, and an interpolated array adds its elements.
 *
 * @example
 * ```ts
 * import { argv } from "./cli.ts";
 * const port = 5500;
 * const extra = ["--ttl", "2"];
 * const args = argv`exec-client --binder 127.0.0.1:${port} MAX ${"1 "} ${extra}`;
 * console.assert(args.join("|") === "exec-client|--binder|127.0.0.1:5500|MAX|1 |--ttl|2");
 * ```
 */
export function argv(text: TemplateStringsArray, ...values: ArgValue[]): string[] {
  const out: string[] = [];
  let word: string | undefined;
  const flush = () => {
    if (word !== undefined) out.push(word);
    word = undefined;
  };
  text.forEach((literal, i) => {
    if (i > 0 && typeof values[i - 1] === "object" && /^\S/.test(literal)) {
      throw new Error(`argv: an array must stand alone, before "${literal}"`);
    }
    for (const ch of literal) {
      if (/\s/.test(ch)) flush();
      else word = (word ?? "") + ch;
    }
    if (i >= values.length) return;
    const value = values[i];
    if (typeof value !== "object") {
      word = (word ?? "") + value;
      return;
    }
    if (word !== undefined) throw new Error(`argv: an array must stand alone, after "${word}"`);
    out.push(...value.map(String));
  });
  flush();
  return out;
}

/** The port in a server's first line (the last number on it). */
export function portOf(line: string): number {
  const m = line.match(/(\d+)\D*$/);
  if (!m) throw new Error(`no port in line: ${line}`);
  return Number(m[1]);
}

/** Splits bytes into lines (for tests that read raw sockets). */
export function framer(maxLine?: number): LineFramer {
  return new LineFramer({ maxLine });
}
