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
import { LineWriter } from "../cli/line_writer.ts";
import { intFlag, parseServerFlags, withUsage } from "../cli/flags.ts";
import type { ServiceMonitor } from "../net/monitor.ts";
import { bindUdp } from "../net/udp.ts";
import type { UdpHandler, UdpReply } from "../net/udp_serve.ts";
import { runUdpService, udpErrorLog } from "../net/udp_service.ts";
import { type GuardOptions, guardReplies } from "../net/udp_guard.ts";
import { connectRedis, redisFlag, type RedisTarget } from "../redis/connection.ts";
import { type AllowList, parseAllowList } from "./allow.ts";
import { readKeyFile } from "./auth.ts";
import { ExpiryTimer } from "./expiry.ts";
import { DEFAULT_PORT, DEFAULT_TTL_SECONDS, formatError } from "./protocol.ts";
import { RedisStore } from "./redis_store.ts";
import { BinderService } from "./service.ts";
import { type BinderStore, MemoryStore } from "./store.ts";
import { DEFAULT_MAX_PER_SOURCE } from "./table.ts";

const encoder = new TextEncoder();

const USAGE =
  "usage: socklab binder [--port N] [--bind ADDR] [--ttl SECONDS] [--quiet] [--redis URL] [--allow CIDR,...] [--key FILE] [--max-per-source N]";
const HELP = `Keeps the table of (command, server IP, server port) records of exercise 4a.

Requests (one per datagram; keywords and commands are case-insensitive):
  REGISTER C1 ... Ck  record each Ci under the sender's IP and port -> OK REGISTER C1 ... Ck
  UNREGISTER          remove the sender's own records           -> OK UNREGISTER n
  LOOKUP CMD          one server offering CMD, chosen at random -> CMD IP PORT
  LIST [CMD]          every record (or CMD's)                   -> OK LIST n, then CMD IP PORT SECONDS-LEFT lines
  TTL                 how long a record lives                   -> OK TTL seconds
A LIST reply that leaves records out ends with "more: REQUEST", the request
for the rest (to an address that has not completed a round trip, a reply is
at most 3x the request or 512 bytes; the request named carries its cookie).

  --port N            port (default ${DEFAULT_PORT}; 0 = any free port)
  --bind ADDR         address to bind (default 0.0.0.0; "::" for IPv6)
  --ttl SECONDS       a record expires this long after its last REGISTER (default ${DEFAULT_TTL_SECONDS})
  --quiet             do not print each LOOKUP (table changes are always printed)
  --redis URL         share one table with every binder given the same Redis
                      (redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]); while Redis is
                      down, requests get "ERR binder table unavailable ..."
  --allow CIDR,...    accept REGISTER only from these networks (default: any)
  --key FILE          accept only REGISTERs signed with the key in FILE (exec-server --key)
  --max-per-source N  records one host (IPv4 address, IPv6 /64) may hold (default ${DEFAULT_MAX_PER_SOURCE})

Exit status: 0 after SIGINT/SIGTERM, 1 when Redis cannot be reached at start-up, 2 usage.`;

/** Options of {@linkcode runBinder}. */
export interface BinderOptions {
  signal: AbortSignal;
  /** Lifetime of a record after its last REGISTER (default 30 s). */
  ttlSeconds?: number;
  /** Where each line goes (default console.log). */
  log?: (line: string) => void;
  /** Leave out the line per LOOKUP and per refused request (table changes still print). */
  quiet?: boolean;
  /** The table (default: in memory, built from the options below); closed on the way out. */
  store?: BinderStore;
  /** The memory table's clock in ms (tests); default `performance.now`. */
  clock?: () => number;
  /** The memory table's random source (tests); default `Math.random`. */
  random?: () => number;
  /** Most records one source may hold (default {@linkcode DEFAULT_MAX_PER_SOURCE}). */
  maxPerSource?: number;
  /** Networks REGISTER is accepted from (default: any). */
  allow?: AllowList;
  /** Shared key that REGISTER must be signed with (default: none). */
  key?: Uint8Array;
  /** The lab console's view of this binder (requests, table changes, records). */
  monitor?: ServiceMonitor;
}

/** Most store operations in flight at once (Redis); past it a request gets `ERR binder busy`. */
export const MAX_PENDING = 1024;

/** Serves the binder on an already bound socket until the signal aborts. */
export async function runBinder(conn: Deno.DatagramConn, options: BinderOptions): Promise<void> {
  const log = options.log ?? console.log;
  const ttlSeconds = options.ttlSeconds ?? DEFAULT_TTL_SECONDS;
  const store: BinderStore = options.store ?? new MemoryStore({
    ttlMs: ttlSeconds * 1000,
    clock: options.clock,
    random: options.random,
    maxPerSource: options.maxPerSource,
  });
  // A shared store also changes through other binders: sweep it every second.
  const expiry = new ExpiryTimer(() => binder.sweep(), {
    maxDelayMs: store.kind === "memory" ? Infinity : 1000,
    onError: (err) => log(`socklab binder: expiry sweep failed: ${describe(err)}`),
  });
  const binder = new BinderService({
    store,
    ttlSeconds,
    log,
    quiet: options.quiet,
    allow: options.allow,
    key: options.key,
    monitor: options.monitor,
    onAdded: (nextInMs) => expiry.schedule(nextInMs),
  });
  const notes = [`records expire ${ttlSeconds} s after their last REGISTER`];
  if (store.shared) notes.push(`the table is shared through ${store.shared}`);
  const guard = { monitor: options.monitor, onError: udpErrorLog("binder", log) };
  const handler = repliesLater(conn, (data, from) => binder.handle(data, from), guard);
  expiry.start();
  try {
    await runUdpService("binder", conn, handler, { signal: options.signal, log, notes, ...guard });
  } finally {
    expiry.stop();
    await store.close();
  }
}

/**
 * A handler whose promised replies are sent when they are ready, so the serve
 * loop goes on to the next datagram instead of waiting for Redis: one slow
 * answer never holds up the others. At most {@linkcode MAX_PENDING} at once.
 * Those replies pass the same guard as the loop's own (amplification budget,
 * monitor counts); replies given at once are left to the loop.
 */
function repliesLater(
  conn: Deno.DatagramConn,
  handle: UdpHandler,
  guard: GuardOptions,
): UdpHandler {
  let pending = 0;
  const busy = encoder.encode(formatError("binder busy; try again"));
  return (data, from) => {
    if (pending >= MAX_PENDING) return busy;
    const reply = handle(data, from);
    if (!(reply instanceof Promise)) return reply;
    pending++;
    const guarded = guardReplies(() => reply, guard)(data, from) as Promise<UdpReply>;
    guarded.then((r) => {
      if (typeof r === "string") return conn.send(encoder.encode(r), from);
      if (r instanceof Uint8Array) return conn.send(r, from);
    }).catch((err) => guard.onError?.(err, from)).finally(() => pending--);
    return undefined;
  };
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The binder's command line, checked before any I/O. */
interface BinderFlags {
  addr: { hostname: string; port: number };
  ttlSeconds: number;
  quiet: boolean;
  redis?: RedisTarget;
  allow?: AllowList;
  key?: Uint8Array;
  maxPerSource: number;
}

async function readFlags(args: string[]): Promise<BinderFlags> {
  const { values, address } = parseServerFlags(args, {
    usage: USAGE,
    help: HELP,
    defaultPort: DEFAULT_PORT,
    options: {
      ttl: { type: "string" },
      quiet: { type: "boolean", short: "q" },
      redis: { type: "string" },
      allow: { type: "string" },
      key: { type: "string" },
      "max-per-source": { type: "string" },
    },
  });
  const flags = withUsage(USAGE, () => ({
    ttlSeconds: intFlag(values.ttl, "ttl", 1, 86_400, DEFAULT_TTL_SECONDS),
    quiet: values.quiet ?? false,
    maxPerSource: intFlag(
      values["max-per-source"],
      "max-per-source",
      1,
      1_000_000,
      DEFAULT_MAX_PER_SOURCE,
    ),
    allow: values.allow === undefined ? undefined : parseAllowList(values.allow),
  }));
  const redis = values.redis === undefined ? undefined : redisFlag(values.redis);
  const key = values.key === undefined ? undefined : await readKeyFile(values.key, USAGE);
  return { ...flags, addr: address, redis, key };
}

/** Connects to Redis (exit 1 within a few seconds when it does not answer) and builds the shared table. */
async function redisStore(flags: BinderFlags, log: (line: string) => void): Promise<BinderStore> {
  const redis = await connectRedis(flags.redis!, {
    prefix: "socklab binder",
    log,
    clientName: `socklab-binder-${Deno.pid}`,
  });
  return new RedisStore(redis, {
    ttlMs: flags.ttlSeconds * 1000,
    maxPerSource: flags.maxPerSource,
  });
}

/** CLI entry point. */
export async function main(args: string[], ctx: CommandContext): Promise<number> {
  const flags = await readFlags(args);
  // Batched and bounded: a LOOKUP line each must neither cost a write each nor
  // stall serving when nobody reads stdout.
  const out = new LineWriter();
  try {
    const store = flags.redis ? await redisStore(flags, out.line) : undefined;
    const conn = bindUdp(flags.addr);
    await runBinder(conn, {
      signal: ctx.signal,
      ttlSeconds: flags.ttlSeconds,
      quiet: flags.quiet,
      log: out.line,
      store,
      maxPerSource: flags.maxPerSource,
      allow: flags.allow,
      key: flags.key,
    });
  } finally {
    await out.flushed();
  }
  return 0;
}
