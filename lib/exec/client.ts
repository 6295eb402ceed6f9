/**
 * `socklab exec-client`: the client of exercise 4a. For each `CMD ARGS` line it
 * asks the binder `LOOKUP CMD`, sends the line to the server named, and prints
 * the reply. A server that does not answer within the time-out is dropped and
 * the binder asked again, so a crashed server costs one time-out, not an error.
 *
 * ```sh
 * socklab exec-client --binder localhost:5500 MAX 1 2 3 4    # MAX 4
 * printf 'MIN 3 1\nSORTU 8 1 4 0\n' | socklab exec-client     # prompt loop, scripted
 * ```
 * @module
 */
import type { CommandContext } from "../cli/command.ts";
import { FailError, UsageError } from "../cli/errors.ts";
import { parseFlags, UDP_CLIENT_OPTIONS, udpClientOptions, withUsage } from "../cli/flags.ts";
import { type LineInput, streamInput } from "../cli/input.ts";
import { formatJson, writeErr, writeOut } from "../cli/output.ts";
import { printableBytes } from "../cli/printable.ts";
import { formatHostPort, type HostPort } from "../net/address.ts";
import { aborted } from "../net/server.ts";
import { UdpSocket } from "../net/udp.ts";
import {
  DEFAULT_PORT as BINDER_PORT,
  isErrorReply,
  noServerReply,
  parseListReply,
  parseLookupReply,
  type RecordView,
  SPACE_RE,
  trimRequest,
} from "../binder/protocol.ts";
import { formatTable } from "../binder/table.ts";
import { binderAddresses } from "./flags.ts";

const USAGE =
  "usage: socklab exec-client [--binder HOST[:PORT],...] [--timeout MS] [--retries N] [-v] [--json] [--list] [CMD ARGS...]";
const HELP = `With CMD ARGS: looks CMD up at the binder, sends "CMD ARGS" to the server it
names, prints the reply (exit 1 on an ERR reply). Without: a prompt loop that
does the same for every line read (from the keyboard or a pipe; q ends it).
A server that does not answer within the time-out is dropped and the binder
asked again; each server gets 1 + retries tries, at most 8 servers per line.
When the binder has no server for CMD, the reply names the commands it has.

  --binder HOST[:PORT],...  the binder (default localhost:${BINDER_PORT}); with several, the
                            next is asked when one does not answer
  --list                    print the binder's records (all, or CMD's; every page) and exit
  --json                    one JSON document (the prompt loop: one per line)
  -v, --verbose             say which server answered, and each fail-over (stderr)
  --timeout MS              wait this long for each reply (default 2000)
  --retries N               resend this many times when no reply comes (default 2)

Exit status: 0 answered, 1 an ERR reply (the prompt loop: any line failed)
or no binder answered, 2 usage.`;

/** Most distinct servers one call tries before giving up. */
export const MAX_SERVERS_PER_CALL = 8;

const decoder = new TextDecoder();

/** Options of {@linkcode ExecClient}. */
export interface ExecClientOptions {
  /** The binder's address (an IP literal, resolved already); or give `binders`. */
  binder?: HostPort;
  /** Binders tried in order (`--binder A,B,...`): when one does not answer, the next. */
  binders?: readonly HostPort[];
  /** Wait per try, binder and servers alike (default 2000 ms). */
  timeoutMs?: number;
  /** Retries: of each binder request, and rounds over the servers (default 2). */
  retries?: number;
  /** Aborts a wait. */
  signal?: AbortSignal;
  /** Told about each fail-over (default: silent). */
  onFailover?: (server: HostPort, command: string) => void;
  /** Picks among servers after a fail-over (default Math.random). */
  random?: () => number;
}

/** The outcome of one {@linkcode ExecClient.call}. */
export interface CallResult {
  /** The reply text (`CMD r1 ... rN` or `ERR reason`). */
  reply: string;
  /** The server that answered (none when the binder had none). */
  server?: HostPort;
  /** Servers that did not answer before this one did. */
  failovers: number;
  /** When the binder had no server for the command: the commands it does have. */
  known?: string[];
}

/** Most LIST pages one listing fetches (a page is one datagram, up to ~2,500 records). */
export const MAX_LIST_PAGES = 64;

/** `data` without trailing CR, LF and NUL bytes. */
function trimmedBytes(data: Uint8Array): Uint8Array {
  let end = data.length;
  while (end > 0 && (data[end - 1] === 0 || data[end - 1] === 10 || data[end - 1] === 13)) end--;
  return data.subarray(0, end);
}

function serverKey(s: HostPort): string {
  return formatHostPort(s.hostname, s.port);
}

/** Looks commands up at a binder and calls the servers it names, failing over. */
export class ExecClient implements AsyncDisposable {
  readonly binders: readonly HostPort[];
  readonly #timeoutMs: number;
  readonly #retries: number;
  readonly #signal?: AbortSignal;
  readonly #onFailover?: (server: HostPort, command: string) => void;
  readonly #random: () => number;
  /** The binder that answered last: asked first next time. */
  #current = 0;
  // One socket per address family: a server may be IPv4 while the binder is IPv6.
  readonly #sockets = new Map<string, UdpSocket>();

  constructor(options: ExecClientOptions) {
    this.binders = options.binders ?? (options.binder ? [options.binder] : []);
    if (this.binders.length === 0) throw new TypeError("ExecClient needs a binder");
    this.#timeoutMs = options.timeoutMs ?? 2000;
    this.#retries = options.retries ?? 2;
    this.#signal = options.signal;
    this.#onFailover = options.onFailover;
    this.#random = options.random ?? Math.random;
  }

  /** The binder in use. */
  get binder(): HostPort {
    return this.binders[this.#current];
  }

  /** `binder HOST:PORT`, the one in use. */
  get binderLabel(): string {
    return `binder ${serverKey(this.binder)}`;
  }

  #socket(ip: string): UdpSocket {
    const family = ip.includes(":") ? "6" : "4";
    let sock = this.#sockets.get(family);
    if (!sock) {
      sock = UdpSocket.forTarget(ip);
      this.#sockets.set(family, sock);
    }
    return sock;
  }

  /**
   * Sends `payload` to the binder in use (with the usual retries); when it
   * does not answer, to the next of the list, in order. Returns the reply text.
   */
  async #askBinder(payload: string, accept: (text: string) => boolean): Promise<string> {
    let last: unknown;
    for (let n = 0; n < this.binders.length; n++) {
      const i = (this.#current + n) % this.binders.length;
      const binder = this.binders[i];
      try {
        const reply = await this.#socket(binder.hostname).request(payload, binder, {
          timeoutMs: this.#timeoutMs,
          retries: this.#retries,
          signal: this.#signal,
          label: `binder ${serverKey(binder)}`,
          accept: (data, from) => from.port === binder.port && accept(decoder.decode(data)),
        });
        this.#current = i;
        return trimRequest(decoder.decode(reply.data));
      } catch (err) {
        if (!(err instanceof FailError) || this.#signal?.aborted) throw err;
        last = err;
      }
    }
    throw last;
  }

  /** `LOOKUP command`: a server, or the binder's `ERR` reply. */
  async lookup(command: string): Promise<HostPort | { error: string }> {
    const text = await this.#askBinder(
      `LOOKUP ${command}`,
      (t) => isErrorReply(t) || t.toUpperCase().startsWith(`${command} `),
    );
    try {
      const r = parseLookupReply(text, command);
      return "error" in r ? r : { hostname: r.ip, port: r.port };
    } catch (err) {
      throw new FailError(`${this.binderLabel}: ${(err as Error).message}`);
    }
  }

  /**
   * `LIST [command]`: every live record, page after page (a binder answers a
   * first LIST with at most 512 bytes until this client has echoed its cookie,
   * and one datagram per page after that), or the binder's `ERR` reply.
   */
  async list(
    command?: string,
  ): Promise<{ records: RecordView[]; total: number } | { error: string }> {
    let request: string | undefined = command ? `LIST ${command}` : "LIST";
    const records: RecordView[] = [];
    let total = 0;
    for (let page = 0; request !== undefined && page < MAX_LIST_PAGES; page++) {
      const text = await this.#askBinder(
        request,
        (t) => isErrorReply(t) || t.startsWith("OK LIST"),
      );
      let got;
      try {
        got = parseListReply(text);
      } catch (err) {
        throw new FailError(`${this.binderLabel}: ${(err as Error).message}`);
      }
      if ("error" in got) return page === 0 ? got : { records, total };
      // A page that does not start where the last ended (the table changed): keep what fits.
      records.splice(got.from, records.length - got.from, ...got.records);
      total = got.total;
      request = got.more;
    }
    return { records, total };
  }

  /** The commands the binder has servers for (undefined when it cannot say). */
  async knownCommands(): Promise<string[] | undefined> {
    const all = await this.list();
    if ("error" in all) return undefined;
    return [...new Set(all.records.map((r) => r.command))].sort();
  }

  /**
   * Picks the server for the next try: the binder's LOOKUP answer unless it
   * already failed us; then any other live record (LIST), least-tried first.
   */
  async #choose(
    command: string,
    tried: Map<string, number>,
  ): Promise<HostPort | { error: string }> {
    const named = await this.lookup(command);
    if ("error" in named || !tried.has(serverKey(named))) return named;
    let candidates: HostPort[] = [named];
    const all = await this.list(command);
    if (!("error" in all)) {
      candidates = all.records.map((r) => ({ hostname: r.ip, port: r.port }));
    } else {
      // A binder without LIST: a few more LOOKUPs may name someone else.
      for (let i = 0; i < 3; i++) {
        const again = await this.lookup(command);
        if ("error" in again) break;
        if (!candidates.some((c) => serverKey(c) === serverKey(again))) candidates.push(again);
      }
    }
    const tries = (s: HostPort) => tried.get(serverKey(s)) ?? 0;
    const open = candidates.filter((s) => tries(s) <= this.#retries);
    if (open.length === 0) return { error: noServerReply(command) };
    const fewest = Math.min(...open.map(tries));
    const best = open.filter((s) => tries(s) === fewest);
    return best[Math.min(best.length - 1, Math.floor(this.#random() * best.length))];
  }

  /**
   * Runs one `CMD ARGS` line: look up, call, fail over. Resolves with the
   * reply (an `ERR` reply included); throws FailError when the binder does not
   * answer.
   */
  async call(line: string): Promise<CallResult> {
    const text = trimRequest(line);
    const command = text.split(SPACE_RE)[0].toUpperCase();
    const tried = new Map<string, number>();
    let failovers = 0;
    while (true) {
      const server = await this.#choose(command, tried);
      if ("error" in server) {
        if (failovers > 0 || !server.error.startsWith("ERR no server for")) {
          return { reply: server.error, failovers };
        }
        const known = await this.knownCommands();
        return known
          ? { reply: server.error, failovers, known }
          : { reply: server.error, failovers };
      }
      try {
        const reply = await this.#socket(server.hostname).request(text, server, {
          timeoutMs: this.#timeoutMs,
          retries: 0, // a silent server is dropped; the next round may come back to it
          signal: this.#signal,
          accept: (data, from) => {
            if (from.port !== server.port) return false;
            const t = decoder.decode(data.subarray(0, command.length + 4)).toUpperCase();
            return t.startsWith(`${command} `) || isErrorReply(t);
          },
        });
        // A server is a stranger: its reply is shown as one printable line.
        return { reply: printableBytes(trimmedBytes(reply.data)), server, failovers };
      } catch (err) {
        if (!(err instanceof FailError) || this.#signal?.aborted) throw err;
        const key = serverKey(server);
        tried.set(key, (tried.get(key) ?? 0) + 1);
        failovers++;
        this.#onFailover?.(server, command);
        const limit = MAX_SERVERS_PER_CALL * (this.#retries + 1);
        if (tried.size >= MAX_SERVERS_PER_CALL || failovers >= limit) break;
      }
    }
    return { reply: noServerReply(command), failovers };
  }

  async close(): Promise<void> {
    for (const sock of this.#sockets.values()) await sock.close();
    this.#sockets.clear();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** The reply as shown: with the binder's commands appended when it had none for CMD. */
export function shownReply(result: CallResult): string {
  if (!result.known) return result.reply;
  return `${result.reply} (${
    result.known.length === 0
      ? "the binder has no records"
      : `the binder has: ${result.known.join(", ")}`
  })`;
}

/** One call as `--json` shows it. */
export function callJson(request: string, result: CallResult, binder: HostPort) {
  const ok = !isErrorReply(result.reply);
  const words = result.reply.split(" ");
  return {
    binder: serverKey(binder),
    server: result.server ? serverKey(result.server) : null,
    request,
    reply: result.reply,
    ok,
    ...(ok ? { results: words.slice(1) } : {}),
    ...(result.known ? { known: result.known } : {}),
    failovers: result.failovers,
  };
}

/** Options of {@linkcode runExecPrompt}. */
export interface ExecPromptOptions {
  input: LineInput;
  /** Replies and the prompt (default stdout). */
  write?: (text: string) => void;
  /** Transport failures and verbose notes, one line each (default stderr). */
  warn?: (line: string) => void;
  signal?: AbortSignal;
  verbose?: boolean;
  /** One JSON document per line instead of the reply text. */
  json?: boolean;
}

/**
 * The prompt loop: one call per line until end of input or `q`. Every reply
 * (ERR replies too) goes to `write`; a binder that does not answer is one line
 * to `warn`, and the loop goes on. Returns how many lines failed.
 */
export async function runExecPrompt(
  client: ExecClient,
  options: ExecPromptOptions,
): Promise<number> {
  const write = options.write ?? writeOut;
  const warn = options.warn ?? ((line: string) => writeErr(`${line}\n`));
  const stop = options.signal ? aborted(options.signal).then(() => null) : undefined;
  let failed = 0;
  while (true) {
    if (options.input.interactive && !options.json) write("exec> ");
    const line = await (stop ? Promise.race([options.input.next(), stop]) : options.input.next());
    if (line === null) break;
    const text = line.trim();
    if (text === "") continue;
    if (/^(q|quit|exit)$/i.test(text)) break;
    try {
      const started = performance.now();
      const result = await client.call(text);
      write(
        options.json
          ? `${JSON.stringify(callJson(text, result, client.binder))}\n`
          : `${shownReply(result)}\n`,
      );
      if (isErrorReply(result.reply)) failed++;
      if (options.verbose && result.server) {
        warn(
          `socklab exec-client: answered by ${serverKey(result.server)} in ${
            (performance.now() - started).toFixed(1)
          } ms`,
        );
      }
    } catch (err) {
      if (options.signal?.aborted) break;
      failed++;
      warn(`socklab exec-client: ${err instanceof Error ? err.message : err}`);
    }
  }
  return failed;
}

const VALUE_FLAGS = new Set(["--binder", "--timeout", "--retries"]);

/**
 * Splits the command line where `CMD ARGS` begins, so that the arguments are
 * never read as flags: `MAX -5 3` has a negative number, not an option `-5`.
 */
export function splitCall(args: readonly string[]): [string[], string[]] {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--") return [args.slice(0, i), args.slice(i + 1)];
    if (!a.startsWith("-") || /^-[0-9]/.test(a)) return [args.slice(0, i), args.slice(i)];
    if (VALUE_FLAGS.has(a)) i++; // its value follows
  }
  return [[...args], []];
}

/** `--list`: every record the binder holds (all pages), as a table or JSON. */
async function printList(client: ExecClient, command: string | undefined, json: boolean) {
  const result = await client.list(command?.toUpperCase());
  if ("error" in result) throw new FailError(`${client.binderLabel}: ${result.error}`);
  if (json) {
    writeOut(
      `${
        formatJson({
          binder: serverKey(client.binder),
          total: result.total,
          records: result.records,
        })
      }\n`,
    );
    return;
  }
  const shown = result.records.length === result.total
    ? `${result.total}`
    : `${result.records.length} of ${result.total}`;
  writeOut(`${client.binderLabel}: ${shown} record${result.total === 1 ? "" : "s"}\n`);
  writeOut(formatTable(result.records, Infinity).join("\n") + "\n");
}

/** One `CMD ARGS` from the command line: the reply on stdout, or the ERR on stderr (exit 1). */
async function callOnce(
  client: ExecClient,
  request: string,
  options: { json: boolean; warn?: (line: string) => void },
): Promise<number> {
  const result = await client.call(request);
  if (options.json) {
    writeOut(`${formatJson(callJson(request, result, client.binder))}\n`);
    return isErrorReply(result.reply) ? 1 : 0;
  }
  if (isErrorReply(result.reply)) throw new FailError(shownReply(result));
  if (result.server) options.warn?.(`socklab exec-client: answered by ${serverKey(result.server)}`);
  writeOut(`${result.reply}\n`);
  return 0;
}

/** CLI entry point. */
export async function main(args: string[], ctx: CommandContext): Promise<number> {
  const [flagArgs, callArgs] = splitCall(args);
  const { values, positionals: flagPositionals } = parseFlags(flagArgs, {
    usage: USAGE,
    help: HELP,
    options: {
      ...UDP_CLIENT_OPTIONS,
      binder: { type: "string" },
      list: { type: "boolean" },
      json: { type: "boolean" },
      verbose: { type: "boolean", short: "v" },
    },
  });
  const positionals = [...flagPositionals, ...callArgs];
  const talk = withUsage(USAGE, () => udpClientOptions(values));
  if (values.list && positionals.length > 1) {
    throw new UsageError("--list takes at most one CMD", USAGE);
  }
  const binders = await binderAddresses(values.binder, USAGE);
  const verbose = values.verbose ?? false;
  const json = values.json ?? false;
  const warn = (line: string) => writeErr(`${line}\n`);
  await using client = new ExecClient({
    binders,
    ...talk,
    signal: ctx.signal,
    onFailover: verbose
      ? (s, cmd) =>
        warn(
          `socklab exec-client: ${cmd} server ${
            serverKey(s)
          } did not answer within ${talk.timeoutMs} ms; asking the binder again`,
        )
      : undefined,
  });
  if (values.list) {
    await printList(client, positionals[0], json);
    return 0;
  }
  if (positionals.length > 0) {
    return await callOnce(client, positionals.join(" "), {
      json,
      warn: verbose ? warn : undefined,
    });
  }
  const input = streamInput();
  const failed = await runExecPrompt(client, { input, signal: ctx.signal, verbose, warn, json });
  return failed > 0 ? 1 : 0;
}
