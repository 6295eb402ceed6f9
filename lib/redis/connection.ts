/**
 * One Redis connection for the services that scale out through Redis
 * (`binder --redis URL`, `chat-server --redis URL`): parse and check the URL,
 * connect with a time-out, reconnect with back-off after a loss (one log line
 * when it is lost, one when it is back), and tell listeners when the link goes
 * down or comes back. The official client, npm `redis` (node-redis), is loaded
 * with a dynamic `import()` here only, so a command that is not given
 * `--redis` never loads it.
 *
 * URL grammar (what `--redis` accepts; node-redis's own):
 * ```text
 * url  = ( "redis://" / "rediss://" ) [ [ user ] [ ":" password ] "@" ] host [ ":" port ] [ "/" [ db ] ]
 * port = 1*5DIGIT                 ; 1-65535, default 6379
 * db   = 1*DIGIT                  ; the database number (SELECT), default 0
 * ```
 *
 * "Down" means either the socket is gone (node-redis reconnects by itself,
 * with back-off) or Redis stops answering a health `PING` within
 * `healthTimeoutMs` (a stopped or overloaded server keeps TCP up but answers
 * nothing). Callers decide what to do meanwhile: commands sent while the
 * socket is gone are rejected at once (unless `offlineQueue`), so a service can
 * answer its own clients with a clear error instead of hanging; give each
 * command a deadline with {@linkcode RedisConnection.commandOptions}.
 *
 * @example
 * ```ts ignore
 * import { connectRedis, parseRedisUrl } from "./connection.ts";
 * await using redis = await connectRedis(parseRedisUrl("redis://127.0.0.1:6379"), {
 *   prefix: "socklab binder",
 *   log: console.log,
 * });
 * redis.onStatus((up) => console.log(up ? "Redis is back" : "Redis is down"));
 * await redis.client.set("greeting", "hello");
 * const reader = await redis.duplicate(); // for XREAD BLOCK and other blocking reads
 * ```
 * @module
 */
import type { RedisClientType } from "redis";
import { FailError } from "../cli/errors.ts";

/** The node-redis client this module hands out (no modules, scripts or functions). */
export type RedisClient = RedisClientType;

/** Default port of a Redis URL without one. */
export const DEFAULT_REDIS_PORT = 6379;
/** How long start-up waits for Redis to answer before giving up. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 3000;
/** How often a health PING is sent while connected. */
export const DEFAULT_HEALTH_INTERVAL_MS = 1000;
/** How long a health PING may go unanswered before the link counts as down. */
export const DEFAULT_HEALTH_TIMEOUT_MS = 2000;

/** A checked `--redis` URL. */
export interface RedisTarget {
  /** The URL as node-redis takes it (with the password, if any). */
  url: string;
  /** The URL to show in messages: no user or password. */
  label: string;
  host: string;
  port: number;
  /** The database number (`SELECT`). */
  database: number;
  /** `rediss://`: TLS. */
  tls: boolean;
}

const URL_SHAPE = "redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]";

/**
 * Checks a `--redis` value. Throws SyntaxError naming what is wrong: a URL
 * of another scheme, no host, a bad port or database, a query or fragment.
 *
 * @example
 * ```ts
 * import { parseRedisUrl } from "./connection.ts";
 * const t = parseRedisUrl("redis://:secret@127.0.0.1:6380/2");
 * console.assert(t.port === 6380 && t.database === 2 && t.label === "redis://127.0.0.1:6380/2");
 * ```
 */
export function parseRedisUrl(text: string): RedisTarget {
  const fail = (why: string) =>
    new SyntaxError(`Cannot parse Redis URL "${text}": ${why} (expected ${URL_SHAPE})`);
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw fail("not a URL");
  }
  if (u.protocol !== "redis:" && u.protocol !== "rediss:") {
    throw fail(`scheme "${u.protocol.slice(0, -1)}" is not redis or rediss`);
  }
  if (u.hostname === "") throw fail("no host");
  if (u.search !== "" || u.hash !== "") throw fail("no query or fragment allowed");
  const port = u.port === "" ? DEFAULT_REDIS_PORT : Number(u.port);
  if (!(port >= 1 && port <= 65535)) throw fail("port must be between 1 and 65535");
  const path = u.pathname === "/" ? "" : u.pathname.slice(1);
  if (path !== "" && !/^[0-9]{1,5}$/.test(path)) throw fail(`database "${path}" is not a number`);
  const database = path === "" ? 0 : Number(path);
  const host = u.hostname.startsWith("[") ? u.hostname.slice(1, -1) : u.hostname;
  const label = `${u.protocol}//${u.host}${database === 0 ? "" : `/${database}`}`;
  return { url: text, label, host, port, database, tls: u.protocol === "rediss:" };
}

/**
 * `--redis URL` for a command: the checked target, or a FailError (exit 1, one
 * line) naming the flag, as issue 16 asks of every `--redis` service.
 */
export function redisFlag(text: string): RedisTarget {
  try {
    return parseRedisUrl(text);
  } catch (err) {
    throw new FailError(`--redis: ${(err as Error).message}`);
  }
}

/** Redis could not be reached at start-up: one line, exit 1. */
export class RedisUnavailableError extends FailError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "RedisUnavailableError";
  }
}

/** Options of {@linkcode connectRedis}. */
export interface RedisConnectOptions {
  /** Start of every log line (default `socklab redis`): the service's name. */
  prefix?: string;
  /** Where the lost/back lines go (default console.log). */
  log?: (line: string) => void;
  /** Start-up deadline (default {@linkcode DEFAULT_CONNECT_TIMEOUT_MS}). */
  connectTimeoutMs?: number;
  /** Health PING period (default {@linkcode DEFAULT_HEALTH_INTERVAL_MS}); 0 turns it off. */
  healthIntervalMs?: number;
  /** Health PING deadline (default {@linkcode DEFAULT_HEALTH_TIMEOUT_MS}). */
  healthTimeoutMs?: number;
  /** `CLIENT SETNAME` (default `socklab-PID`), so `CLIENT LIST` shows who is who. */
  clientName?: string;
  /** Longest wait between two reconnection attempts (default 2000 ms). */
  maxBackoffMs?: number;
  /**
   * Queue commands sent while reconnecting and send them once back (default
   * false: they are rejected at once, so a service can answer its own clients).
   */
  offlineQueue?: boolean;
}

/** Called when the link goes down (`up` false, with why) or comes back (`up` true). */
export type RedisStatusListener = (up: boolean, reason: string) => void;

/** The reconnection back-off: 50 ms doubling to `maxMs`, plus up to 100 ms of jitter. */
export function backoffMs(retries: number, maxMs = 2000, random = Math.random): number {
  return Math.min(50 * 2 ** Math.min(retries, 16), maxMs) + Math.floor(random() * 100);
}

/** A short reason for a node-redis or socket error: `connection refused`, `socket closed`. */
export function redisReason(err: unknown): string {
  const e = err as { code?: string; message?: string; name?: string; cause?: unknown };
  const code = e?.code ?? (e?.cause as { code?: string } | undefined)?.code;
  const words: Record<string, string> = {
    ECONNREFUSED: "connection refused",
    ECONNRESET: "connection reset",
    EPIPE: "connection closed",
    ETIMEDOUT: "timed out",
    EHOSTUNREACH: "host unreachable",
    ENOTFOUND: "unknown host",
    EAI_AGAIN: "unknown host",
  };
  if (code && words[code]) return words[code];
  const kind = (err as object | undefined)?.constructor?.name ?? e?.name;
  if (kind === "SocketClosedUnexpectedlyError") return "connection closed by the server";
  if (kind === "ConnectionTimeoutError") return "connection timed out";
  const message = e?.message ?? String(err);
  return message.split("\n")[0] || e?.name || "unknown error";
}

/**
 * A connected node-redis client with status tracking. Build it with
 * {@linkcode connectRedis}; dispose it (or call `close()`) to close it and
 * every duplicate.
 */
export class RedisConnection implements AsyncDisposable {
  /** The node-redis client: every Redis command is a method (`client.set`, `client.xAdd`...). */
  readonly client: RedisClient;
  readonly target: RedisTarget;
  readonly #log: (line: string) => void;
  readonly #prefix: string;
  readonly #listeners = new Set<RedisStatusListener>();
  readonly #duplicates = new Set<RedisClient>();
  readonly #healthTimeoutMs: number;
  #health?: ReturnType<typeof setInterval>;
  #pinging = false;
  #up = true;
  #downSince = 0;
  #closed = false;

  /** Use {@linkcode connectRedis}. */
  constructor(
    client: RedisClient,
    target: RedisTarget,
    options: RedisConnectOptions,
  ) {
    this.client = client;
    this.target = target;
    this.#log = options.log ?? console.log;
    this.#prefix = options.prefix ?? "socklab redis";
    this.#healthTimeoutMs = options.healthTimeoutMs ?? DEFAULT_HEALTH_TIMEOUT_MS;
    client.on("error", (err: unknown) => this.#down(redisReason(err)));
    client.on("ready", () => this.#back());
    const every = options.healthIntervalMs ?? DEFAULT_HEALTH_INTERVAL_MS;
    if (every > 0) this.#health = setInterval(() => this.#ping(), every);
  }

  /** True while connected and answering. */
  get isUp(): boolean {
    return this.#up && this.client.isReady;
  }

  /**
   * Options for one command with a deadline: rejects (`TimeoutError` or
   * `TimeoutReadError`) instead of waiting on a Redis that stopped answering.
   * Use with idempotent commands, or ones whose loss the caller can tell.
   */
  commandOptions(timeoutMs: number): { timeout: number; rejectInFlight: true } {
    return { timeout: timeoutMs, rejectInFlight: true };
  }

  /** Listens for the link going down and coming back; returns the unsubscribe function. */
  onStatus(listener: RedisStatusListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * A second connection to the same Redis, for blocking reads (`XREAD
   * BLOCK`, `BLPOP`) that would otherwise hold up every other command. It
   * reconnects with the same back-off; its losses are not logged (the main
   * connection's lines say the same). Closed with this connection.
   */
  async duplicate(): Promise<RedisClient> {
    const copy = this.client.duplicate() as RedisClient;
    copy.on("error", () => {}); // reported through the main connection
    this.#duplicates.add(copy);
    await copy.connect();
    return copy;
  }

  /** Closes the connection and its duplicates at once (pending commands are rejected). */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    clearInterval(this.#health);
    for (const copy of this.#duplicates) copy.destroy();
    this.#duplicates.clear();
    this.client.destroy();
    this.#listeners.clear();
    return Promise.resolve();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #down(reason: string): void {
    if (this.#closed || !this.#up) return;
    this.#up = false;
    this.#downSince = performance.now();
    this.#log(`${this.#prefix}: lost Redis ${this.target.label} (${reason}); reconnecting`);
    for (const listen of this.#listeners) listen(false, reason);
  }

  #back(): void {
    if (this.#closed || this.#up) return;
    this.#up = true;
    const seconds = ((performance.now() - this.#downSince) / 1000).toFixed(1);
    this.#log(`${this.#prefix}: Redis ${this.target.label} is back after ${seconds} s`);
    for (const listen of this.#listeners) listen(true, "back");
  }

  async #ping(): Promise<void> {
    if (this.#pinging || this.#closed || !this.client.isReady) return;
    this.#pinging = true;
    try {
      await this.client.sendCommand(["PING"], this.commandOptions(this.#healthTimeoutMs));
      this.#back();
    } catch (err) {
      if (this.client.isReady) {
        this.#down(`not answering within ${this.#healthTimeoutMs} ms`);
      } else this.#down(redisReason(err));
    } finally {
      this.#pinging = false;
    }
  }
}

/** node-redis, loaded on first use (a FailError naming what to do when it cannot be). */
async function loadClient(): Promise<typeof import("redis")> {
  try {
    return await import("redis");
  } catch (err) {
    throw new RedisUnavailableError(
      `cannot load the Redis client (npm redis): ${redisReason(err)}; run once with network ` +
        "access to the npm registry (and DENO_TLS_CA_STORE=mozilla,system) so Deno caches it",
      { cause: err },
    );
  }
}

/**
 * Loads node-redis, connects to `target` and checks that Redis answers
 * (`PING`) within `connectTimeoutMs`. Throws {@linkcode RedisUnavailableError}
 * (a FailError: one line, exit 1) when it cannot: refused, unknown host, no
 * answer in time, or a Redis error such as a wrong password. After start-up a
 * lost connection is retried for ever with {@linkcode backoffMs}.
 */
export async function connectRedis(
  target: RedisTarget,
  options: RedisConnectOptions = {},
): Promise<RedisConnection> {
  const { createClient } = await loadClient();
  const timeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  let started = false;
  const client = createClient({
    url: target.url,
    name: options.clientName ?? `socklab-${Deno.pid}`,
    disableOfflineQueue: !(options.offlineQueue ?? false),
    disableClientInfo: true,
    socket: {
      connectTimeout: timeoutMs,
      // Before start-up succeeds, give up at once (the caller exits 1);
      // afterwards, retry for ever with back-off.
      reconnectStrategy: (retries: number, cause: Error) =>
        started ? backoffMs(retries, options.maxBackoffMs) : cause,
    },
  }) as unknown as RedisClient;
  let failure: unknown;
  // Never removed: node-redis hands out a proxy of its client, and removing
  // the proxy's last listener would detach every later one from the events.
  client.on("error", (err: unknown) => {
    if (!started) failure ??= err;
  });
  const where = `Redis ${target.label}`;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new RedisUnavailableError(`${where} did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  const connecting = (async () => {
    await client.connect();
    await client.sendCommand(["PING"]);
  })();
  connecting.catch(() => {}); // after the deadline, destroy() makes it reject: nobody waits then
  try {
    await Promise.race([connecting, deadline]);
  } catch (err) {
    client.destroy();
    if (err instanceof RedisUnavailableError) throw err;
    throw new RedisUnavailableError(`cannot reach ${where}: ${redisReason(failure ?? err)}`, {
      cause: err,
    });
  } finally {
    clearTimeout(timer);
  }
  started = true;
  return new RedisConnection(client, target, options);
}
