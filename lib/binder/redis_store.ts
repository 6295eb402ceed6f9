/**
 * The binder's table in Redis, shared by every `binder --redis URL` started
 * with the same URL: a record registered through one binder is handed out by
 * all of them. Each operation is one Lua script, so it is atomic however many
 * binders run, and every expiry time is Redis's own clock (`TIME`), so
 * binders on machines whose clocks differ still agree on what is alive.
 *
 * Keys (prefix `socklab:binder:`; scores are expiry times in ms):
 * ```text
 * all              ZSET  "CMD IP PORT"   every record: LIST, table size, expiry sweep
 * cmd:CMD          ZSET  "IP PORT"       the servers offering CMD: LOOKUP
 * srv:IP PORT      ZSET  "CMD"           one server's records: UNREGISTER, per-server limit
 * src:SOURCE       ZSET  "CMD IP PORT"   one source's records (IPv4, IPv6 /64): per-source quota
 * sig:HEX          STRING                a REGISTER signature already used (replays refused)
 * ```
 * Keys also carry a Redis expiry of twice the ttl, so a table whose binders
 * all died empties itself. One Redis (or Sentinel in front of it) only: the
 * scripts touch keys they do not declare, which Redis Cluster refuses.
 *
 * @example
 * ```ts ignore
 * import { connectRedis, parseRedisUrl } from "../redis/connection.ts";
 * import { RedisStore } from "./redis_store.ts";
 * const redis = await connectRedis(parseRedisUrl("redis://127.0.0.1:6379"));
 * const store = new RedisStore(redis, { ttlMs: 30_000 });
 * await store.register("127.0.0.1", 40001, ["MAX"]);
 * console.log(await store.lookup("MAX")); // { command: "MAX", ip: "127.0.0.1", port: 40001, ... }
 * ```
 * @module
 */
import type { RedisConnection } from "../redis/connection.ts";
import { RedisScripts } from "../redis/scripts.ts";
import { sourceKey } from "../net/quota.ts";
import { formatLookupReply } from "./protocol.ts";
import {
  type BinderStore,
  byCommand,
  type ExpiryOutcome,
  type LookupHit,
  type RegisterOutcome,
  type StoredRecord,
} from "./store.ts";
import {
  DEFAULT_MAX_PER_SERVER,
  DEFAULT_MAX_PER_SOURCE,
  DEFAULT_MAX_RECORDS,
  sourceLimitMessage,
  TableLimitError,
} from "./table.ts";

/** Key prefix of the shared table. */
export const DEFAULT_PREFIX = "socklab:binder:";
/** Deadline of one table operation: a Redis that stops answering costs a client this, not a hang. */
export const DEFAULT_OPERATION_TIMEOUT_MS = 1000;

const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local p = ARGV[1]
local function keep(key, ms)
  local left = redis.call('PTTL', key)
  if left < ms then redis.call('PEXPIRE', key, ms) end
end
`;

// ARGV: prefix ip port source ttl maxRecords maxPerServer maxPerSource CMD...
// -> {"LIMIT", which} or {"OK", now, refreshed, added CMD...}
const REGISTER = `${NOW}
local server = ARGV[2] .. ' ' .. ARGV[3]
local srv, src, all = p .. 'srv:' .. server, p .. 'src:' .. ARGV[4], p .. 'all'
local ttl = tonumber(ARGV[5])
local live = '(' .. now
redis.call('ZREMRANGEBYSCORE', src, '-inf', now)
local added, refreshed = {}, 0
for i = 9, #ARGV do
  local s = redis.call('ZSCORE', srv, ARGV[i])
  if s and tonumber(s) > now then refreshed = refreshed + 1 else table.insert(added, ARGV[i]) end
end
if redis.call('ZCOUNT', srv, live, '+inf') + #added > tonumber(ARGV[7]) then return {'LIMIT', 'server'} end
if redis.call('ZCOUNT', src, live, '+inf') + #added > tonumber(ARGV[8]) then return {'LIMIT', 'source'} end
if redis.call('ZCOUNT', all, live, '+inf') + #added > tonumber(ARGV[6]) then return {'LIMIT', 'table'} end
local exp = now + ttl
for i = 9, #ARGV do
  local c = ARGV[i]
  local cmd = p .. 'cmd:' .. c
  redis.call('ZADD', all, exp, c .. ' ' .. server)
  redis.call('ZADD', cmd, exp, server)
  redis.call('ZADD', srv, exp, c)
  redis.call('ZADD', src, exp, c .. ' ' .. server)
  keep(cmd, 2 * ttl)
end
keep(all, 2 * ttl)
keep(srv, 2 * ttl)
keep(src, 2 * ttl)
local out = {'OK', now, refreshed}
for _, c in ipairs(added) do table.insert(out, c) end
return out`;

// ARGV: prefix ip port source -> {now, CMD, expiry, ...}
const UNREGISTER = `${NOW}
local server = ARGV[2] .. ' ' .. ARGV[3]
local srv = p .. 'srv:' .. server
local own = redis.call('ZRANGE', srv, 0, -1, 'WITHSCORES')
local out = {now}
for i = 1, #own, 2 do
  local c = own[i]
  redis.call('ZREM', p .. 'all', c .. ' ' .. server)
  redis.call('ZREM', p .. 'cmd:' .. c, server)
  redis.call('ZREM', p .. 'src:' .. ARGV[4], c .. ' ' .. server)
  table.insert(out, c)
  table.insert(out, own[i + 1])
end
redis.call('DEL', srv)
return out`;

// ARGV: prefix key -> {now, member, expiry, ...} for the live members of prefix..key
const LIVE = `${NOW}
local out = {now}
local got = redis.call('ZRANGE', p .. ARGV[2], '(' .. now, '+inf', 'BYSCORE', 'WITHSCORES')
for _, v in ipairs(got) do table.insert(out, v) end
return out`;

// ARGV: prefix -> {now, next expiry or "", "CMD IP PORT", expiry, ...} removed
const EXPIRE = `${NOW}
local all = p .. 'all'
local gone = redis.call('ZRANGE', all, '-inf', now, 'BYSCORE', 'WITHSCORES')
for i = 1, #gone, 2 do
  local c, server = string.match(gone[i], '^(%S+) (.+)$')
  redis.call('ZREM', all, gone[i])
  redis.call('ZREM', p .. 'cmd:' .. c, server)
  redis.call('ZREM', p .. 'srv:' .. server, c)
end
local first = redis.call('ZRANGE', all, 0, 0, 'WITHSCORES')
local out = {now, first[2] or ''}
for _, v in ipairs(gone) do table.insert(out, v) end
return out`;

/** Options of {@linkcode RedisStore}. */
export interface RedisStoreOptions {
  ttlMs: number;
  /** Key prefix (default {@linkcode DEFAULT_PREFIX}). */
  prefix?: string;
  maxRecords?: number;
  maxPerServer?: number;
  maxPerSource?: number;
  /** Deadline of each operation (default {@linkcode DEFAULT_OPERATION_TIMEOUT_MS}). */
  timeoutMs?: number;
  /** Picks among servers (default Math.random). */
  random?: () => number;
}

/** A table operation could not run: Redis is down, or did not answer in time. */
export { RedisUnreachableError as StoreUnavailableError } from "../redis/scripts.ts";

type Reply = (string | number)[];

/** The binder's table in Redis (see the module doc for the key layout). */
export class RedisStore implements BinderStore {
  readonly kind = "redis";
  readonly shared: string;
  readonly ttlMs: number;
  readonly redis: RedisConnection;
  readonly #prefix: string;
  readonly #limits: [number, number, number];
  readonly #random: () => number;
  readonly #scripts: RedisScripts;

  constructor(redis: RedisConnection, options: RedisStoreOptions) {
    if (!(options.ttlMs > 0)) throw new RangeError(`ttlMs must be positive, got ${options.ttlMs}`);
    this.redis = redis;
    this.shared = `Redis ${redis.target.label}`;
    this.ttlMs = options.ttlMs;
    this.#prefix = options.prefix ?? DEFAULT_PREFIX;
    this.#limits = [
      options.maxRecords ?? DEFAULT_MAX_RECORDS,
      options.maxPerServer ?? DEFAULT_MAX_PER_SERVER,
      options.maxPerSource ?? DEFAULT_MAX_PER_SOURCE,
    ];
    this.#scripts = new RedisScripts(
      redis,
      this.#prefix,
      options.timeoutMs ?? DEFAULT_OPERATION_TIMEOUT_MS,
    );
    this.#random = options.random ?? Math.random;
  }

  async register(ip: string, port: number, commands: readonly string[]): Promise<RegisterOutcome> {
    const r = await this.#scripts.run<Reply>(REGISTER, [
      ip,
      String(port),
      sourceKey(ip),
      String(this.ttlMs),
      ...this.#limits.map(String),
      ...commands,
    ]);
    if (r[0] === "LIMIT") {
      const [maxRecords, maxPerServer, maxPerSource] = this.#limits;
      throw new TableLimitError(
        r[1] === "server"
          ? `too many commands for one server (at most ${maxPerServer})`
          : r[1] === "source"
          ? sourceLimitMessage(ip, maxPerSource)
          : `binder table full (at most ${maxRecords} records)`,
      );
    }
    const added = r.slice(3).map((c) => ({
      command: String(c),
      ip,
      port,
      expiresInMs: this.ttlMs,
    }));
    return { added: added.sort(byCommand), refreshed: Number(r[2]) };
  }

  async unregister(ip: string, port: number): Promise<StoredRecord[]> {
    const r = await this.#scripts.run<Reply>(UNREGISTER, [ip, String(port), sourceKey(ip)]);
    const now = Number(r[0]);
    const out: StoredRecord[] = [];
    for (let i = 1; i < r.length; i += 2) {
      out.push({ command: String(r[i]), ip, port, expiresInMs: left(r[i + 1], now) });
    }
    return out.sort(byCommand);
  }

  async lookup(command: string): Promise<LookupHit | undefined> {
    const matching = await this.matching(command);
    if (matching.length === 0) return undefined;
    const k = Math.min(matching.length - 1, Math.floor(this.#random() * matching.length));
    const { ip, port } = matching[k];
    return { command, ip, port, reply: formatLookupReply(command, ip, port), matching };
  }

  async matching(command: string): Promise<StoredRecord[]> {
    const r = await this.#scripts.run<Reply>(LIVE, [`cmd:${command}`]);
    const now = Number(r[0]);
    const out: StoredRecord[] = [];
    for (let i = 1; i < r.length; i += 2) {
      const [ip, port] = String(r[i]).split(" ");
      out.push({ command, ip, port: Number(port), expiresInMs: left(r[i + 1], now) });
    }
    return out;
  }

  async records(command?: string): Promise<StoredRecord[]> {
    if (command !== undefined) return (await this.matching(command)).sort(byCommand);
    const r = await this.#scripts.run<Reply>(LIVE, ["all"]);
    return readRecords(r, 1, Number(r[0])).sort(byCommand);
  }

  async expire(): Promise<ExpiryOutcome> {
    const r = await this.#scripts.run<Reply>(EXPIRE, []);
    const now = Number(r[0]);
    const gone = readRecords(r, 2, now).sort(byCommand);
    return r[1] === "" ? { gone } : { gone, nextInMs: Number(r[1]) - now };
  }

  async claimSignature(sig: string, ttlMs: number): Promise<boolean> {
    const r = await this.#scripts.call([
      "SET",
      `${this.#prefix}sig:${sig}`,
      "1",
      "NX",
      "PX",
      String(ttlMs),
    ]);
    return r === "OK";
  }

  close(): Promise<void> {
    return this.redis.close();
  }
}

function left(expiry: string | number | undefined, now: number): number {
  return Math.max(0, Number(expiry) - now);
}

/** `"CMD IP PORT", expiry` pairs from index `start` of a script's reply. */
function readRecords(r: Reply, start: number, now: number): StoredRecord[] {
  const out: StoredRecord[] = [];
  for (let i = start; i < r.length; i += 2) {
    const [command, ip, port] = String(r[i]).split(" ");
    out.push({ command, ip, port: Number(port), expiresInMs: left(r[i + 1], now) });
  }
  return out;
}
