/**
 * `socklab binder`: the name service of exercise 4a. Servers REGISTER the
 * commands they offer (recorded under the datagram's real source address),
 * clients LOOKUP a command and get one server at random; records expire after
 * `--ttl` seconds unless re-registered, and the table is printed on every change.
 *
 * ```sh
 * socklab binder --port 5500 --ttl 30
 * ```
 * @module
 */
import type { CommandContext } from "../cli/command.ts";
import { UsageError } from "../cli/errors.ts";
import { LineWriter } from "../cli/line_writer.ts";
import { intFlag, parseFlags, SERVER_OPTIONS, serverAddress, serverHelp } from "../cli/flags.ts";
import { formatHostPort } from "../net/address.ts";
import { listenLine } from "../net/server.ts";
import { bindUdp, MAX_DATAGRAM } from "../net/udp.ts";
import { serveUdp } from "../net/udp_serve.ts";
import {
  DEFAULT_PORT,
  DEFAULT_TTL_SECONDS,
  formatError,
  formatListReply,
  formatRegisterReply,
  formatTtlReply,
  formatUnregisterReply,
  noServerReply,
  parseRequest,
  recordIp,
} from "./protocol.ts";
import { type BinderRecord, BinderTable, formatTable, TableLimitError } from "./table.ts";

const USAGE = "usage: socklab binder [--port N] [--bind ADDR] [--ttl SECONDS] [--quiet]";
const HELP = `Keeps the table of (command, server IP, server port) records of exercise 4a.

Requests (one per datagram; keywords and commands are case-insensitive):
  REGISTER C1 ... Ck  record each Ci under the sender's IP and port -> OK REGISTER C1 ... Ck
  UNREGISTER          remove the sender's own records           -> OK UNREGISTER n
  LOOKUP CMD          one server offering CMD, chosen at random -> CMD IP PORT
  LIST [CMD]          every record (or CMD's)                   -> OK LIST n, then CMD IP PORT SECONDS-LEFT lines
  TTL                 how long a record lives                   -> OK TTL seconds

${serverHelp(DEFAULT_PORT)}
  --ttl SECONDS  a record expires this long after its last REGISTER (default ${DEFAULT_TTL_SECONDS})
  --quiet        do not print each LOOKUP (table changes are always printed)`;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });
const NOT_TEXT = encoder.encode(formatError("request is not UTF-8 text"));

/** Options of {@linkcode runBinder}. */
export interface BinderOptions {
  signal: AbortSignal;
  /** Lifetime of a record after its last REGISTER (default 30 s). */
  ttlSeconds?: number;
  /** Where each line goes (default console.log). */
  log?: (line: string) => void;
  /** Leave out the line per LOOKUP and per refused request (table changes still print). */
  quiet?: boolean;
  /** The table's clock in ms (tests); default `performance.now`. */
  clock?: () => number;
  /** The table's random source (tests); default `Math.random`. */
  random?: () => number;
}

/** Serves the binder on an already bound socket until the signal aborts. */
export async function runBinder(conn: Deno.DatagramConn, options: BinderOptions): Promise<void> {
  const log = options.log ?? console.log;
  const quiet = options.quiet ?? false;
  const ttlSeconds = options.ttlSeconds ?? DEFAULT_TTL_SECONDS;
  const table = new BinderTable({
    ttlMs: ttlSeconds * 1000,
    clock: options.clock,
    random: options.random,
  });
  const ttlReply = encoder.encode(formatTtlReply(ttlSeconds));

  const printTable = (event: string) => {
    const view = table.view();
    log(
      `socklab binder: ${event}; table has ${view.length} record${view.length === 1 ? "" : "s"}:`,
    );
    for (const line of formatTable(view)) log(line);
  };

  // One timer, set for the earliest expiry. A refresh only moves expiries
  // later, so a timer that fires early just finds nothing and re-arms.
  let timer: ReturnType<typeof setTimeout> | undefined;
  const armExpiry = () => {
    if (timer !== undefined || options.signal.aborted) return;
    const next = table.nextExpiry();
    if (next === undefined) return;
    timer = setTimeout(onExpiry, Math.max(0, next - table.now()) + 1);
  };
  const onExpiry = () => {
    timer = undefined;
    const gone = table.expire();
    if (gone.length > 0) {
      printTable(
        `${gone.length} record${gone.length === 1 ? "" : "s"} expired (${
          servers(gone)
        } did not re-register within ${ttlSeconds} s)`,
      );
    }
    armExpiry();
  };

  const refuse = (reason: string, from: Deno.NetAddr): string => {
    if (!quiet) {
      log(`socklab binder: ERR to ${formatHostPort(from.hostname, from.port)}: ${reason}`);
    }
    return formatError(reason);
  };

  const handler = (data: Uint8Array, from: Deno.NetAddr): Uint8Array | string | undefined => {
    let text: string;
    try {
      text = decoder.decode(data);
    } catch {
      if (!quiet) {
        log(`socklab binder: ERR to ${formatHostPort(from.hostname, from.port)}: not text`);
      }
      return NOT_TEXT;
    }
    const req = parseRequest(text);
    switch (req.kind) {
      case "lookup": {
        const found = table.lookup(req.command);
        if (!quiet) {
          const all = table.matching(req.command);
          log(
            `socklab binder: LOOKUP ${req.command} from ${senderText(from)}: ${
              all.length === 0
                ? "no record"
                : `${all.length} record${all.length === 1 ? "" : "s"} (${servers(all)})`
            } -> ${found ? formatHostPort(found.ip, found.port) : "ERR"}`,
          );
        }
        return found ? found.reply : noServerReply(req.command);
      }
      case "register": {
        let result;
        try {
          result = table.register(recordIp(from.hostname), from.port, req.commands);
        } catch (err) {
          if (err instanceof TableLimitError) return refuse(err.message, from);
          throw err;
        }
        if (result.added.length > 0) {
          printTable(
            `REGISTER ${req.commands.join(" ")} from ${
              senderText(from)
            } (${result.added.length} new)`,
          );
          armExpiry();
        }
        return formatRegisterReply(req.commands);
      }
      case "unregister": {
        const gone = table.unregister(recordIp(from.hostname), from.port);
        if (gone.length > 0) {
          log(`socklab binder: UNREGISTER from ${senderText(from)} deletes:`);
          for (const r of gone) log(`  ${r.command} ${r.ip} ${r.port}`);
          printTable(`UNREGISTER from ${senderText(from)} (${gone.length} deleted)`);
        } else if (!quiet) {
          log(
            `socklab binder: UNREGISTER from ${
              senderText(from)
            }: it has no records (only the registering address can delete records)`,
          );
        }
        return formatUnregisterReply(gone.length);
      }
      case "list": {
        const view = table.view(req.command);
        if (!quiet) {
          log(
            `socklab binder: LIST${req.command ? ` ${req.command}` : ""} from ${
              senderText(from)
            }: ${view.length} record${view.length === 1 ? "" : "s"}`,
          );
        }
        return formatListReply(view, MAX_DATAGRAM);
      }
      case "ttl":
        return ttlReply;
      case "ignore":
        return undefined;
      case "error":
        return refuse(req.reason, from);
    }
  };

  log(listenLine("binder", conn.addr as Deno.NetAddr));
  log(`socklab binder: records expire ${ttlSeconds} s after their last REGISTER`);
  try {
    await serveUdp(conn, handler, {
      signal: options.signal,
      onError: (err, from) =>
        log(`socklab binder: ${from ? `${formatHostPort(from.hostname, from.port)}: ` : ""}${err}`),
    });
  } finally {
    clearTimeout(timer);
    timer = undefined;
  }
}

/** The sender as records show it (computed only when a line needs it: LOOKUP under load does not). */
function senderText(from: Deno.NetAddr): string {
  return formatHostPort(recordIp(from.hostname), from.port);
}

/** `127.0.0.1:40001, 127.0.0.1:40002`: the distinct servers of some records. */
function servers(records: readonly BinderRecord[]): string {
  return [...new Set(records.map((r) => formatHostPort(r.ip, r.port)))].join(", ");
}

/** CLI entry point. */
export async function main(args: string[], ctx: CommandContext): Promise<number> {
  const { values } = parseFlags(args, {
    usage: USAGE,
    help: HELP,
    maxPositionals: 0,
    options: {
      ...SERVER_OPTIONS,
      ttl: { type: "string" },
      quiet: { type: "boolean", short: "q" },
    },
  });
  let ttlSeconds, addr;
  try {
    ttlSeconds = intFlag(values.ttl, "ttl", 1, 86_400, DEFAULT_TTL_SECONDS);
    addr = serverAddress(values, DEFAULT_PORT);
  } catch (err) {
    if (err instanceof UsageError) throw new UsageError(err.message, USAGE);
    throw err;
  }
  const conn = bindUdp(addr);
  // Batched and bounded: a LOOKUP line each must neither cost a write each nor
  // stall serving when nobody reads stdout.
  const out = new LineWriter();
  try {
    await runBinder(conn, {
      signal: ctx.signal,
      ttlSeconds,
      quiet: values.quiet ?? false,
      log: out.line,
    });
  } finally {
    await out.flushed();
  }
  return 0;
}
