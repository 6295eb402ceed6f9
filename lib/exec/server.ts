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
import { FailError, UsageError } from "../cli/errors.ts";
import { LineWriter } from "../cli/line_writer.ts";
import {
  intFlag,
  parseFlags,
  SERVER_OPTIONS,
  UDP_CLIENT_HELP,
  UDP_CLIENT_OPTIONS,
  udpClientOptions,
} from "../cli/flags.ts";
import { formatHostPort, type HostPort } from "../net/address.ts";
import { listenLine } from "../net/server.ts";
import { bindUdp, reason, UdpSocket } from "../net/udp.ts";
import { serveUdp } from "../net/udp_serve.ts";
import {
  DEFAULT_PORT as BINDER_PORT,
  DEFAULT_TTL_SECONDS,
  formatRegister,
  isErrorReply,
  parseRegisterReply,
  parseTtlReply,
  parseUnregisterReply,
  quote,
} from "../binder/protocol.ts";
import { type Operation, OPERATIONS } from "./operations.ts";
import { answerRequest, parseCommandList, registeredNames } from "./protocol.ts";
import { binderAddress, withUsage } from "./flags.ts";

const USAGE =
  "usage: socklab exec-server [--binder HOST[:PORT]] [--commands LIST] [--ttl SECONDS] [--port N] [--bind ADDR] [-v]";
const HELP = `Answers "CMD a1 ... aN" with "CMD r1 ... rN" (integers of any size) after
registering CMD with the binder; re-registers every ttl/3 and unregisters on exit.

Commands: ${
  OPERATIONS.map((op) => `${[op.name, ...op.aliases].join("/")} (${op.summary})`).join(", ")
}.

  --binder HOST[:PORT]  the binder (default localhost:${BINDER_PORT})
  --commands LIST       commands to offer, e.g. MIN,MAX (default all; aliases come along)
  --ttl SECONDS         the binder's record lifetime; re-register every ttl/3
                        (default: ask the binder with TTL; ${DEFAULT_TTL_SECONDS} if it cannot say)
  --port N              port to serve on (default 0 = any free port)
  --bind ADDR           address to bind (default 0.0.0.0, or :: for an IPv6 binder)
  -v, --verbose         print every request and reply
${UDP_CLIENT_HELP.replaceAll("reply", "binder reply")}`;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });
const NOT_TEXT = encoder.encode("ERR request is not UTF-8 text");
const UNREGISTER = encoder.encode("UNREGISTER");

/** Options of {@linkcode runExecServer}. */
export interface ExecServerOptions {
  /** Aborted on SIGINT/SIGTERM: stop serving, then unregister. */
  signal: AbortSignal;
  /** The binder's address (an IP literal, resolved already). */
  binder: HostPort;
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
}

/**
 * Registers with the binder, serves on the already bound `conn` until the
 * signal aborts, then unregisters. Throws FailError when the binder does not
 * answer or refuses at start-up.
 */
export async function runExecServer(
  conn: Deno.DatagramConn,
  options: ExecServerOptions,
): Promise<void> {
  const log = options.log ?? console.log;
  const ops = options.operations ?? OPERATIONS;
  const names = registeredNames(ops);
  const binder = options.binder;
  const binderLabel = `binder ${formatHostPort(binder.hostname, binder.port)}`;
  const local = conn.addr as Deno.NetAddr;
  const talk = {
    timeoutMs: options.timeoutMs ?? 2000,
    retries: options.retries ?? 2,
    label: binderLabel,
    signal: options.signal,
  };
  log(listenLine("exec-server", local));

  // Talk to the binder from the serving socket itself: the binder records the
  // datagram's source address, so that is the address clients will be sent to.
  const setup = new UdpSocket(conn);
  let ttlSeconds: number;
  try {
    ttlSeconds = options.ttlSeconds ?? await askTtl(setup, binder, talk, log);
    const reply = await setup.request(formatRegister(names), binder, {
      ...talk,
      accept: (data, from) => from.port === binder.port && answers("REGISTER", data),
    });
    const ok = parseRegisterReply(new TextDecoder().decode(reply.data));
    if (ok !== true) throw new FailError(`${binderLabel} refused REGISTER: ${ok}`);
  } catch (err) {
    await setup.close();
    if (options.signal.aborted) return;
    if (err instanceof SyntaxError) throw new FailError(`${binderLabel}: ${err.message}`);
    throw err;
  }
  const refreshMs = Math.max(100, Math.floor(ttlSeconds * 1000 / 3));
  log(
    `socklab exec-server: registered ${
      names.join(" ")
    } with ${binderLabel} (records live ${ttlSeconds} s; re-registering every ${
      Number((refreshMs / 1000).toFixed(2))
    } s)`,
  );
  options.onRegistered?.(ttlSeconds);

  const registerBytes = encoder.encode(formatRegister(names));
  const binderAddr: Deno.NetAddr = {
    transport: "udp",
    hostname: binder.hostname,
    port: binder.port,
  };
  let onUnregisterReply: ((text: string) => void) | undefined;
  let refreshFailed = false;
  const refresh = setInterval(() => {
    conn.send(registerBytes, binderAddr).then(() => {
      if (refreshFailed) log(`socklab exec-server: re-registering with ${binderLabel} again`);
      refreshFailed = false;
    }, (err) => {
      if (!refreshFailed && !options.signal.aborted) {
        log(`socklab exec-server: cannot re-register with ${binderLabel}: ${reason(err)}`);
      }
      refreshFailed = true;
    });
  }, refreshMs);

  const limits = { random: options.random };
  const verbose = options.verbose ?? false;
  const handler = (data: Uint8Array, from: Deno.NetAddr): string | Uint8Array | undefined => {
    let text: string;
    try {
      text = decoder.decode(data);
    } catch {
      return NOT_TEXT;
    }
    const reply = answerRequest(text, ops, limits);
    if (reply === undefined) {
      // A reply (the binder's answer to a refresh or to UNREGISTER): never
      // answered, but a binder's ERR is worth a line.
      if (onUnregisterReply && from.port === binder.port && answers("UNREGISTER", data)) {
        onUnregisterReply(text);
        return undefined;
      }
      if (from.port === binder.port && isErrorReply(text)) {
        log(`socklab exec-server: ${binderLabel} says: ${text.trim()}`);
      }
      return undefined;
    }
    if (verbose) {
      log(
        `socklab exec-server: ${formatHostPort(from.hostname, from.port)}: ${
          quote(text.trim(), 80)
        } -> ${quote(reply, 80)}`,
      );
    }
    return reply;
  };

  // On SIGINT/SIGTERM the socket keeps serving until the binder has answered
  // UNREGISTER: the binder honours only the address that registered, and this
  // socket is that address (binding the port again after closing it races
  // other processes for it).
  const serving = new AbortController();
  const stop = async () => {
    clearInterval(refresh);
    if (options.unregisterOnExit ?? true) await unregister();
    serving.abort();
  };
  const unregister = async () => {
    const tries = talk.retries + 1;
    const waitMs = Math.min(talk.timeoutMs, 500); // shutdown should be quick
    for (let attempt = 1; attempt <= tries; attempt++) {
      const answered = new Promise<string | undefined>((resolve) => {
        const timer = setTimeout(() => resolve(undefined), waitMs);
        onUnregisterReply = (text) => {
          clearTimeout(timer);
          resolve(text);
        };
      });
      conn.send(UNREGISTER, binderAddr).catch(() => {});
      const text = await answered;
      onUnregisterReply = undefined;
      if (text === undefined) continue;
      try {
        const n = parseUnregisterReply(text);
        log(
          `socklab exec-server: unregistered from ${binderLabel} (${n} record${
            n === 1 ? "" : "s"
          } deleted)`,
        );
      } catch (err) {
        log(`socklab exec-server: cannot unregister: ${err instanceof Error ? err.message : err}`);
      }
      return;
    }
    log(
      `socklab exec-server: cannot unregister: no reply from ${binderLabel} after ${tries} ${
        tries === 1 ? "try" : "tries"
      }`,
    );
  };
  let stopping: Promise<void> | undefined;
  const onAbort = () => stopping ??= stop();
  if (options.signal.aborted) onAbort();
  else options.signal.addEventListener("abort", onAbort, { once: true });
  try {
    await serveUdp(conn, handler, {
      signal: serving.signal,
      onError: (err, from) =>
        log(
          `socklab exec-server: ${from ? `${formatHostPort(from.hostname, from.port)}: ` : ""}${
            reason(err)
          }`,
        ),
    });
  } finally {
    clearInterval(refresh);
    options.signal.removeEventListener("abort", onAbort);
    serving.abort();
  }
  await stopping;
}

async function askTtl(
  sock: UdpSocket,
  binder: HostPort,
  talk: { timeoutMs: number; retries: number; label: string; signal: AbortSignal },
  log: (line: string) => void,
): Promise<number> {
  const reply = await sock.request("TTL", binder, talk);
  const ttl = parseTtlReply(new TextDecoder().decode(reply.data));
  if (ttl !== undefined) return ttl;
  log(
    `socklab exec-server: ${talk.label} does not say its ttl; assuming ${DEFAULT_TTL_SECONDS} s (use --ttl)`,
  );
  return DEFAULT_TTL_SECONDS;
}

/** True when `data` is the binder's answer to `verb`: `OK VERB ...` or an `ERR`. */
function answers(verb: string, data: Uint8Array): boolean {
  const text = new TextDecoder().decode(data.subarray(0, verb.length + 3));
  return text === `OK ${verb}` || text.startsWith("ERR");
}

/** CLI entry point. */
export async function main(args: string[], ctx: CommandContext): Promise<number> {
  const { values } = parseFlags(args, {
    usage: USAGE,
    help: HELP,
    maxPositionals: 0,
    options: {
      ...SERVER_OPTIONS,
      ...UDP_CLIENT_OPTIONS,
      binder: { type: "string" },
      commands: { type: "string" },
      ttl: { type: "string" },
      verbose: { type: "boolean", short: "v" },
    },
  });
  const { operations, ttlSeconds, port, talk } = withUsage(USAGE, () => {
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
      port: intFlag(values.port, "port", 0, 65535, 0),
      talk: udpClientOptions(values),
    };
  });
  const binder = await binderAddress(values.binder, USAGE);
  const hostname = values.bind ?? (binder.hostname.includes(":") ? "::" : "0.0.0.0");
  const conn = bindUdp({ hostname, port });
  const out = new LineWriter();
  try {
    await runExecServer(conn, {
      signal: ctx.signal,
      binder,
      operations,
      ttlSeconds,
      ...talk,
      verbose: values.verbose ?? false,
      log: out.line,
    });
  } finally {
    await out.flushed();
  }
  return 0;
}
