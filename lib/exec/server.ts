/**
 * `socklab exec-server`: a remote-execution server of exercise 4a. It binds a
 * free UDP port, registers its commands with the binder from that very socket
 * (so the binder records its real address), re-registers every ttl/3, answers
 * `CMD a1 ... aN` with BigInt arithmetic, and unregisters when it stops.
 *
 * ```sh
 * socklab exec-server --binder localhost:5500 --commands MIN,MAX
 * ```
 * @module
 */
import type { CommandContext } from "../cli/command.ts";
import { UsageError } from "../cli/errors.ts";
import { LineWriter } from "../cli/line_writer.ts";
import {
  intFlag,
  parseServerFlags,
  UDP_CLIENT_OPTIONS,
  udpClientOptions,
  withUsage,
} from "../cli/flags.ts";
import { formatHostPort, type HostPort } from "../net/address.ts";
import { listenLine } from "../net/server.ts";
import { bindUdp } from "../net/udp.ts";
import { serveUdp } from "../net/udp_serve.ts";
import { udpErrorLog } from "../net/udp_service.ts";
import { DEFAULT_PORT as BINDER_PORT, DEFAULT_TTL_SECONDS, quote } from "../binder/protocol.ts";
import { readKeyFile } from "../binder/auth.ts";
import { type Operation, OPERATIONS } from "./operations.ts";
import { answerRequest, parseCommandList, registeredNames } from "./protocol.ts";
import { BinderLink } from "./binder_link.ts";
import { binderAddresses } from "./flags.ts";

const USAGE =
  "usage: socklab exec-server [--binder HOST[:PORT],...] [--commands LIST] [--ttl SECONDS] [--key FILE] [--port N] [--bind ADDR] [--timeout MS] [--retries N] [-v]";
const HELP = `Answers "CMD a1 ... aN" with "CMD r1 ... rN" (integers of any size) after
registering CMD with the binder; re-registers every ttl/3 and unregisters on exit.

Commands (integers of any size as arguments):
${
  OPERATIONS.map((op) => `  ${[op.name, ...op.aliases].join(", ").padEnd(18)}${op.summary}`).join(
    "\n",
  )
}

  --binder HOST[:PORT],...  the binder (default localhost:${BINDER_PORT}); with several, the
                            first that accepts, and the next when one stops answering
  --commands LIST           commands to offer, e.g. MIN,MAX (default all; aliases come along)
  --ttl SECONDS             the binder's record lifetime; re-register every ttl/3
                            (default: ask the binder with TTL; ${DEFAULT_TTL_SECONDS} if it cannot say)
  --key FILE                sign every REGISTER with the key in FILE (binder --key)
  --port N                  port to serve on (default 0 = any free port)
  --bind ADDR               address to bind (default 0.0.0.0, or :: for an IPv6 binder)
  --timeout MS              wait this long for each binder reply (default 2000)
  --retries N               resend this many times when no binder reply comes (default 2)
  -v, --verbose             print every request and reply

Exit status: 0 after SIGINT/SIGTERM (having unregistered), 1 when no binder
answers or accepts the REGISTER at start-up, 2 usage.`;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });
const NOT_TEXT = encoder.encode("ERR request is not UTF-8 text");

/** Options of {@linkcode runExecServer}. */
export interface ExecServerOptions {
  /** Aborted on SIGINT/SIGTERM: stop serving, then unregister. */
  signal: AbortSignal;
  /** The binder's address (an IP literal, resolved already); or give `binders`. */
  binder?: HostPort;
  /** Binders tried in order (`--binder A,B,...`); the records stay alive through whichever answers. */
  binders?: readonly HostPort[];
  /** The operations offered (default all). */
  operations?: readonly Operation[];
  /** The binder's record lifetime; `undefined` asks the binder (`TTL`). */
  ttlSeconds?: number;
  /** Time-out per try talking to the binder (default 2000 ms). */
  timeoutMs?: number;
  /** Retries talking to the binder (default 2). */
  retries?: number;
  /** Where each line goes (default console.log). */
  log?: (line: string) => void;
  /** Print every request and its reply. */
  verbose?: boolean;
  /**
   * Send UNREGISTER on the way out (default true). The demo sets false to
   * show what a crash looks like to the binder and the clients.
   */
  unregisterOnExit?: boolean;
  /** Random source for PERMUTE (default Math.random). */
  random?: () => number;
  /** Called once registered, with the ttl in use (the demo waits on it). */
  onRegistered?: (ttlSeconds: number) => void;
  /** Shared key: sign every REGISTER with it (the binder has --key). */
  key?: Uint8Array;
}

/** Answers requests; hands the binder's own datagrams to the link. */
class ExecService {
  readonly #ops: readonly Operation[];
  readonly #limits: { random?: () => number };
  readonly #link: BinderLink;
  readonly #log?: (line: string) => void;

  constructor(link: BinderLink, options: ExecServerOptions) {
    this.#link = link;
    this.#ops = options.operations ?? OPERATIONS;
    this.#limits = { random: options.random };
    this.#log = options.verbose ? options.log ?? console.log : undefined;
  }

  handle(data: Uint8Array, from: Deno.NetAddr): string | Uint8Array | undefined {
    let text: string;
    try {
      text = decoder.decode(data);
    } catch {
      return NOT_TEXT;
    }
    const reply = answerRequest(text, this.#ops, this.#limits);
    if (reply === undefined) {
      // A reply (a binder's answer to a refresh or to UNREGISTER): never answered.
      this.#link.onReply(text, from);
      return undefined;
    }
    this.#log?.(
      `socklab exec-server: ${formatHostPort(from.hostname, from.port)}: ${
        quote(text.trim(), 80)
      } -> ${quote(reply, 80)}`,
    );
    return reply;
  }
}

/**
 * Registers with the binder, serves on the already bound `conn` until the
 * signal aborts, then unregisters. Throws FailError when no binder answers or
 * accepts at start-up.
 */
export async function runExecServer(
  conn: Deno.DatagramConn,
  options: ExecServerOptions,
): Promise<void> {
  const log = options.log ?? console.log;
  const names = registeredNames(options.operations ?? OPERATIONS);
  const binders = options.binders ?? (options.binder ? [options.binder] : []);
  if (binders.length === 0) throw new TypeError("runExecServer needs a binder");
  log(listenLine("exec-server", conn.addr as Deno.NetAddr));
  const link = new BinderLink(conn, { ...options, binders, names, log });
  let ttlSeconds: number;
  try {
    ttlSeconds = await link.register();
  } catch (err) {
    if (options.signal.aborted) return;
    throw err;
  }
  const refreshMs = Math.max(100, Math.floor(ttlSeconds * 1000 / 3));
  log(
    `socklab exec-server: registered ${names.join(" ")} with binder ${
      formatHostPort(link.binder.hostname, link.binder.port)
    } (records live ${ttlSeconds} s; re-registering every ${
      Number((refreshMs / 1000).toFixed(2))
    } s)`,
  );
  options.onRegistered?.(ttlSeconds);
  link.startRefresh(refreshMs);
  await serveUntilUnregistered(conn, new ExecService(link, options), link, options, log);
}

/**
 * Serves until the signal aborts; on SIGINT/SIGTERM the socket keeps serving
 * until the binder has answered UNREGISTER: the binder honours only the
 * address that registered, and this socket is that address (binding the port
 * again after closing it races other processes for it).
 */
async function serveUntilUnregistered(
  conn: Deno.DatagramConn,
  service: ExecService,
  link: BinderLink,
  options: ExecServerOptions,
  log: (line: string) => void,
): Promise<void> {
  const serving = new AbortController();
  const stop = async () => {
    link.stopRefresh();
    if (options.unregisterOnExit ?? true) await link.unregister();
    serving.abort();
  };
  let stopping: Promise<void> | undefined;
  const onAbort = () => stopping ??= stop();
  if (options.signal.aborted) onAbort();
  else options.signal.addEventListener("abort", onAbort, { once: true });
  try {
    await serveUdp(conn, (data, from) => service.handle(data, from), {
      signal: serving.signal,
      onError: udpErrorLog("exec-server", log),
    });
  } finally {
    link.stopRefresh();
    options.signal.removeEventListener("abort", onAbort);
    serving.abort();
  }
  await stopping;
}

/** exec-server's command line, checked before any I/O. */
function readFlags(args: string[]) {
  const { values, address } = parseServerFlags(args, {
    usage: USAGE,
    help: HELP,
    defaultPort: 0,
    options: {
      ...UDP_CLIENT_OPTIONS,
      binder: { type: "string" },
      commands: { type: "string" },
      ttl: { type: "string" },
      key: { type: "string" },
      verbose: { type: "boolean", short: "v" },
    },
  });
  return {
    values,
    port: address.port,
    ...withUsage(USAGE, () => {
      let operations: Operation[];
      try {
        operations = values.commands === undefined
          ? [...OPERATIONS]
          : parseCommandList(values.commands);
      } catch (err) {
        throw new UsageError(`--commands: ${(err as Error).message}`);
      }
      return {
        operations,
        ttlSeconds: values.ttl === undefined ? undefined : intFlag(values.ttl, "ttl", 1, 86_400),
        talk: udpClientOptions(values),
      };
    }),
  };
}

/** CLI entry point. */
export async function main(args: string[], ctx: CommandContext): Promise<number> {
  const { values, operations, ttlSeconds, port, talk } = readFlags(args);
  const key = values.key === undefined ? undefined : await readKeyFile(values.key, USAGE);
  const binders = await binderAddresses(values.binder, USAGE);
  const hostname = values.bind ?? (binders[0].hostname.includes(":") ? "::" : "0.0.0.0");
  const conn = bindUdp({ hostname, port });
  const out = new LineWriter();
  try {
    await runExecServer(conn, {
      signal: ctx.signal,
      binders,
      operations,
      ttlSeconds,
      key,
      ...talk,
      verbose: values.verbose ?? false,
      log: out.line,
    });
  } finally {
    await out.flushed();
  }
  return 0;
}
