/**
 * `socklab chat-client`: signs in, then runs two tasks at once — the keyboard
 * to the server (`/who`, `/quit`, anything else is `chat LINE`) and the server
 * to the screen, each line shown as soon as it arrives. On a terminal the line
 * being typed is redrawn under each message; with a pipe it is scriptable
 * (end of input signs out). The transport is TCP, or UDP with `--udp`.
 *
 * ```sh
 * socklab chat-client 127.0.0.1 5600 alice
 * printf 'hello\n/who\n' | socklab chat-client 127.0.0.1 5600 bob
 * ```
 * @module
 */
import type { CommandContext } from "../cli/command.ts";
import { FailError, UsageError } from "../cli/errors.ts";
import { parseFlags, UDP_CLIENT_HELP, UDP_CLIENT_OPTIONS, udpClientOptions } from "../cli/flags.ts";
import { streamInput } from "../cli/input.ts";
import { writeErr, writeOut } from "../cli/output.ts";
import { printableText } from "../cli/printable.ts";
import { formatHostPort, type HostPort, parseHostPort, parsePort } from "../net/address.ts";
import { resolveHost } from "../net/resolve.ts";
import { aborted } from "../net/server.ts";
import { closeQuietly, connectTcp, isGone, readLines, writeAll } from "../net/tcp.ts";
import { RefusedError, UdpSocket } from "../net/udp.ts";
import { type Keyboard, lineKeyboard, terminalKeyboard } from "./keyboard.ts";
import { DEFAULT_PORT, nameProblem, parseRequest, parseServerLine } from "./protocol.ts";
import { datagramLine } from "./udp_server.ts";

const USAGE =
  "usage: socklab chat-client [HOST[:PORT]] [PORT] [NAME] [--udp [--timeout MS] [--retries N]]";
const HELP = `Joins the chat at HOST (asked for when missing; default 127.0.0.1) and PORT
(default ${DEFAULT_PORT}) as NAME (asked for when missing). Lines typed are sent as
chat messages; every line from the server is printed as it arrives.
  /who     list the members          /quit    sign out and leave
  //text   send a line that starts with "/"
With a pipe on stdin each line is one message, and end of input signs out
after the server has confirmed everything sent before it.

  --udp         use the UDP chat server (one datagram per line)
${UDP_CLIENT_HELP}
                (UDP: a request the server never answers means it is gone)`;

/** The client's connection to the server, TCP or UDP. */
export interface ChatLink {
  /** `HOST:PORT (TCP)`, for messages. */
  readonly label: string;
  /** The one line to print when the server is gone. */
  readonly lostReason: string;
  /** Sends one protocol line; throws when the server is gone. */
  send(line: string): Promise<void>;
  /** The next line from the server; null once the server is gone (or the link closed). */
  receive(): Promise<string | null>;
  close(): Promise<void>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A TCP connection carrying newline-terminated lines. */
export class TcpLink implements ChatLink {
  readonly label: string;
  readonly #conn: Deno.TcpConn;
  readonly #frames: AsyncGenerator<{ kind: string; text?: string }>;

  constructor(conn: Deno.TcpConn, label: string) {
    this.#conn = conn;
    this.label = `${label} (TCP)`;
    this.#frames = readLines(conn, { maxLine: 1 << 20 });
  }

  get lostReason(): string {
    return `lost the connection to ${this.label.replace(/ \(TCP\)$/, "")}`;
  }

  async send(line: string): Promise<void> {
    try {
      await writeAll(this.#conn, encoder.encode(`${line}\n`));
    } catch (err) {
      if (isGone(err)) throw new FailError(this.lostReason);
      throw err;
    }
  }

  async receive(): Promise<string | null> {
    while (true) {
      const r = await this.#frames.next();
      if (r.done) return null;
      if (r.value.kind === "line") return r.value.text ?? "";
    }
  }

  close(): Promise<void> {
    closeQuietly(this.#conn);
    return Promise.resolve();
  }
}

/**
 * UDP datagrams to one server. UDP cannot tell that a server is gone, so a
 * request (signin, who, signout, or a chat line, whose echo is the answer)
 * that gets no datagram back within the time-out is re-sent — a chat line is
 * never re-sent, a `who` asks instead — and after the last try `receive`
 * returns null.
 */
export class UdpLink implements ChatLink {
  readonly label: string;
  readonly #sock: UdpSocket;
  readonly #server: HostPort;
  readonly #timeoutMs: number;
  readonly #tries: number;
  #name = "";
  #deadline: number | undefined;
  #sent = 0;
  #resend = "";
  #hiddenUsers = 0;
  /** Why the link ended early (the server's port refused), if it did. */
  #lost: string | undefined;

  constructor(
    sock: UdpSocket,
    server: HostPort,
    label: string,
    options: { timeoutMs: number; retries: number },
  ) {
    this.#sock = sock;
    this.#server = server;
    this.label = `${label} (UDP)`;
    this.#timeoutMs = options.timeoutMs;
    this.#tries = options.retries + 1;
  }

  get lostReason(): string {
    const label = this.label.replace(/ \(UDP\)$/, "");
    if (this.#lost) return this.#lost;
    return `no reply from ${label} after ${this.#tries} ${this.#tries === 1 ? "try" : "tries"}`;
  }

  async send(line: string): Promise<void> {
    await this.#sock.send(line, this.#server);
    const req = parseRequest(line);
    if (req.kind === "signin") this.#name = req.name;
    if (req.kind === "empty" || req.kind === "invalid") return;
    // Re-sending a chat line could show it twice: ask who is there instead.
    this.#resend = req.kind === "chat" ? `who ${this.#name}` : line;
    if (this.#deadline === undefined) {
      this.#deadline = performance.now() + this.#timeoutMs;
      this.#sent = 1;
    }
  }

  async receive(): Promise<string | null> {
    while (true) {
      const wait = this.#deadline === undefined
        ? 3_600_000
        : Math.max(0, this.#deadline - performance.now());
      let got: [Uint8Array, Deno.NetAddr] | null;
      try {
        got = await this.#sock.receiveWatching(
          wait,
          this.#server,
          this.label.replace(/ \(UDP\)$/, ""),
        );
      } catch (err) {
        if (err instanceof RefusedError) this.#lost = err.message;
        return null; // refused, or closed
      }
      if (got === null) {
        if (this.#deadline === undefined) continue;
        if (this.#sent >= this.#tries) return null;
        this.#sent++;
        this.#deadline = performance.now() + this.#timeoutMs;
        if (this.#resend.startsWith("who ")) this.#hiddenUsers++;
        await this.#sock.send(this.#resend, this.#server).catch(() => {});
        continue;
      }
      const [data, from] = got;
      if (from.port !== this.#server.port || from.hostname !== this.#server.hostname) continue;
      this.#deadline = undefined; // the server is there
      const text = decoder.decode(datagramLine(data));
      if (this.#hiddenUsers > 0 && text.startsWith("Users:")) {
        this.#hiddenUsers--;
        continue;
      }
      return text;
    }
  }

  async close(): Promise<void> {
    await this.#sock.close();
  }
}

/** Options of {@linkcode runChatClient}. */
export interface ChatClientOptions {
  keyboard: Keyboard;
  /** Stops the client: it signs out and returns. */
  signal?: AbortSignal;
  /** Longest wait for the server to confirm a signout (default 2000 ms). */
  quitWaitMs?: number;
}

/** What the person typed, as the client understands it. */
export type Typed =
  | { kind: "send"; line: string }
  | { kind: "quit" }
  | { kind: "nothing" }
  | { kind: "help"; text: string };

const TYPED_HELP = "type a line to chat; /who lists the members, /quit leaves";

/** Turns one typed line into what to do (pure). */
export function interpretTyped(line: string, me: string): Typed {
  if (line.trim() === "") return { kind: "nothing" };
  if (line.startsWith("//")) return { kind: "send", line: `chat ${line.slice(1)}` };
  if (!line.startsWith("/")) return { kind: "send", line: `chat ${line}` };
  const command = line.trim().toLowerCase();
  if (command === "/quit" || command === "/q" || command === "/exit") return { kind: "quit" };
  if (command === "/who") return { kind: "send", line: `who ${me}` };
  if (command === "/help") return { kind: "help", text: TYPED_HELP };
  return { kind: "help", text: `unknown command ${line.trim().split(/\s/)[0]}: ${TYPED_HELP}` };
}

/**
 * Signs in as `name` (asking for another one on a terminal when it is taken),
 * then chats until the keyboard quits, the signal aborts (both sign out and
 * resolve) or the server is gone (FailError with one line).
 */
export async function runChatClient(
  link: ChatLink,
  name: string,
  options: ChatClientOptions,
): Promise<void> {
  const kb = options.keyboard;
  const { signal } = options;
  const onAbort = () => void link.close();
  let me: string | null = null;
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    me = await signIn(link, name, kb, signal);
    if (me === null) return;
    signal?.removeEventListener("abort", onAbort);
    kb.note(`socklab chat-client: signed in as ${me} at ${link.label}; ${TYPED_HELP}`);
    kb.setPrompt(`${me}> `);
    let quitting = false;
    const reader = (async () => {
      while (true) {
        const line = await link.receive();
        if (line === null) return "lost" as const;
        if (quitting && parseServerLine(line).kind === "signedOut") return "done" as const;
        kb.show(printableText(line));
      }
    })();
    const typer = (async () => {
      while (true) {
        const line = await kb.next();
        if (line === null) return "quit" as const;
        const typed = interpretTyped(line, me!);
        if (typed.kind === "quit") return "quit" as const;
        if (typed.kind === "help") kb.note(typed.text);
        if (typed.kind !== "send") continue;
        try {
          await link.send(typed.line);
        } catch {
          return "lost" as const;
        }
      }
    })();
    const stop = signal
      ? aborted(signal).then(() => "quit" as const)
      : new Promise<never>(() => {});
    const first = await Promise.race([reader, typer, stop]);
    if (first === "lost") throw new FailError(link.lostReason);
    if (first === "done") return;
    // Sign out, and keep showing what is on its way until the server confirms.
    quitting = true;
    try {
      await link.send(`signout ${me}`);
    } catch {
      return;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      reader,
      new Promise((resolve) => (timer = setTimeout(resolve, options.quitWaitMs ?? 2000))),
    ]);
    clearTimeout(timer);
  } finally {
    signal?.removeEventListener("abort", onAbort);
    kb.close();
    await link.close();
  }
}

/** Signs in; the name the server accepted, or null when the signal stopped it. */
async function signIn(
  link: ChatLink,
  first: string,
  kb: Keyboard,
  signal: AbortSignal | undefined,
): Promise<string | null> {
  let name = first;
  while (true) {
    try {
      await link.send(`signin ${name}`);
    } catch (err) {
      if (signal?.aborted) return null;
      throw err;
    }
    while (true) {
      const line = await link.receive();
      if (line === null) {
        if (signal?.aborted) return null;
        throw new FailError(link.lostReason);
      }
      const reply = parseServerLine(line);
      if (reply.kind === "signedIn") return reply.name;
      if (reply.kind === "err") {
        if (!kb.interactive) {
          throw new FailError(`cannot sign in as '${name}': ${printableText(reply.reason)}`);
        }
        kb.note(`socklab chat-client: ${printableText(reply.reason)}`);
        const again = await askName(kb);
        if (again === null) return null;
        name = again;
        break;
      }
      kb.show(printableText(line));
    }
  }
}

/** Asks for a name until a valid one is typed (a terminal) or fails (a pipe). */
async function askName(kb: Keyboard): Promise<string | null> {
  while (true) {
    const answer = await kb.ask("Name: ");
    if (answer === null) return null;
    const name = answer.trim();
    if (name === "" && !kb.interactive) throw new UsageError("Missing NAME", USAGE);
    const problem = nameProblem(name);
    if (!problem) return name;
    if (!kb.interactive) throw new UsageError(`Cannot use NAME: ${problem}`, USAGE);
    kb.note(`socklab chat-client: ${problem}`);
  }
}

/** HOST, PORT and NAME from the positionals: `HOST[:PORT] [PORT] [NAME]` or `HOST[:PORT] NAME`. */
export function splitPositionals(
  positionals: readonly string[],
): { host?: string; port?: string; name?: string } {
  const [host, second, third] = positionals;
  if (third !== undefined) return { host, port: second, name: third };
  if (second !== undefined && !/^[0-9]+$/.test(second)) return { host, name: second };
  return { host, port: second };
}

/** CLI entry point. */
export async function main(args: string[], ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    usage: USAGE,
    help: HELP,
    maxPositionals: 3,
    options: { udp: { type: "boolean" }, ...UDP_CLIENT_OPTIONS },
  });
  if (!values.udp && (values.timeout !== undefined || values.retries !== undefined)) {
    throw new UsageError("Cannot use --timeout or --retries without --udp", USAGE);
  }
  const udp = values.udp ? udpClientOptions(values) : undefined;
  const given = splitPositionals(positionals);
  const tty = Deno.stdin.isTerminal() && Deno.stdout.isTerminal();
  const kb = tty ? terminalKeyboard() : lineKeyboard(streamInput(), writeOut, writeErr);
  try {
    const target = await askTarget(kb, given);
    if (target === null) return 0;
    let name = given.name?.trim();
    if (name !== undefined && nameProblem(name)) {
      throw new UsageError(`Cannot use NAME: ${nameProblem(name)}`, USAGE);
    }
    name ??= await askName(kb) ?? undefined;
    if (name === undefined) throw new UsageError("Missing NAME", USAGE);
    const ip = await resolveHost(target.hostname);
    const label = formatHostPort(target.hostname, target.port);
    let link: ChatLink;
    if (udp) {
      link = new UdpLink(UdpSocket.forTarget(ip), { hostname: ip, port: target.port }, label, udp);
    } else {
      const conn = await connectTcp({ hostname: ip, port: target.port }, label);
      conn.setNoDelay(true);
      link = new TcpLink(conn, label);
    }
    await runChatClient(link, name, {
      keyboard: kb,
      signal: ctx.signal,
      quitWaitMs: udp ? udp.timeoutMs * (udp.retries + 1) + 100 : 2000,
    });
    return 0;
  } finally {
    kb.close();
  }
}

/** The server address from the arguments, asking for the host (and port) when missing. */
async function askTarget(
  kb: Keyboard,
  given: { host?: string; port?: string },
): Promise<HostPort | null> {
  let hostText = given.host;
  let portText = given.port;
  if (hostText === undefined) {
    const answer = await kb.ask("Server [127.0.0.1]: ");
    if (answer === null) return null;
    hostText = answer.trim() || "127.0.0.1";
    if (!hasPort(hostText)) {
      const port = await kb.ask(`Port [${DEFAULT_PORT}]: `);
      if (port === null) return null;
      portText = port.trim() || undefined;
    }
  }
  try {
    if (portText !== undefined && hasPort(hostText)) {
      throw new SyntaxError(`Cannot give the port twice ("${hostText}" and "${portText}")`);
    }
    const target = parseHostPort(hostText, DEFAULT_PORT);
    if (portText !== undefined) target.port = parsePort(portText);
    return target;
  } catch (err) {
    throw new UsageError((err as Error).message, USAGE);
  }
}

function hasPort(text: string): boolean {
  try {
    parseHostPort(text);
    return true;
  } catch {
    return false;
  }
}
