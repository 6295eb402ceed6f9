/**
 * Who is in a chat room shared through Redis (`chat-server --redis URL
 * --room NAME`): one hash of names, and one key per instance that expires
 * unless the instance refreshes it. A member counts only while its instance's
 * key lives, so the members of an instance that dies (SIGKILL, a lost
 * machine) leave the room within the key's ttl, and the first instance to
 * notice removes them. Each operation is one Lua script, atomic however many
 * instances run; expiry is Redis's own clock, so instances on machines whose
 * clocks differ still agree.
 *
 * Keys (prefix `socklab:chat:{ROOM}:`; the braces keep a room in one slot):
 * ```text
 * members        HASH    folded name -> "INSTANCE|SEQ|PEER|NAME"   SEQ orders `who` (sign-in order)
 * signins        STRING  the last SEQ handed out (INCR)
 * instance:ID    STRING  the instance's label, with a PX expiry of `ttlMs`
 * ```
 * One Redis (or Sentinel in front of it) only: the scripts touch keys they do
 * not declare, which Redis Cluster refuses.
 *
 * @example
 * ```ts ignore
 * const presence = new ChatPresence(redis, { room: "lab", instance: "tcp/127.0.0.1:5600/1a2b3c" });
 * await presence.claim("alice", "127.0.0.1:40000");   // { ok: true, size: 1 }
 * await presence.names();                              // ["alice"]
 * const { gone } = await presence.heartbeat();         // members of dead instances, removed
 * ```
 * @module
 */
import type { MemberState } from "../net/monitor.ts";
import type { RedisConnection } from "./connection.ts";
import { RedisScripts } from "./scripts.ts";

/** Default life of an instance's key: its members leave this long after it dies. */
export const DEFAULT_PRESENCE_TTL_MS = 5000;

// Every script: ARGV[1] is the key prefix; `alive(inst)` is memoised per call.
const HEAD = `local p = ARGV[1]
local members = p .. 'members'
local seen = {}
local function alive(inst)
  local a = seen[inst]
  if a == nil then
    a = redis.call('EXISTS', p .. 'instance:' .. inst) == 1
    seen[inst] = a
  end
  return a
end
local function owner(v) return string.match(v, '^([^|]*)|') end
`;

// ARGV: prefix fold instance peer name ttl -> {ok 0/1, size}
const CLAIM = `${HEAD}
local cur = redis.call('HGET', members, ARGV[2])
if cur then
  local inst = owner(cur)
  if inst == ARGV[3] then return {1, redis.call('HLEN', members)} end
  if alive(inst) then return {0, redis.call('HLEN', members)} end
end
local seq = redis.call('INCR', p .. 'signins')
redis.call('HSET', members, ARGV[2], ARGV[3] .. '|' .. seq .. '|' .. ARGV[4] .. '|' .. ARGV[5])
redis.call('SET', p .. 'instance:' .. ARGV[3], ARGV[3], 'PX', ARGV[6])
return {1, redis.call('HLEN', members)}`;

// ARGV: prefix fold instance -> size
const RELEASE = `${HEAD}
local cur = redis.call('HGET', members, ARGV[2])
if cur and owner(cur) == ARGV[3] then redis.call('HDEL', members, ARGV[2]) end
return redis.call('HLEN', members)`;

// ARGV: prefix -> the live entries
const LIVE = `${HEAD}
local out = {}
for _, v in ipairs(redis.call('HVALS', members)) do
  if alive(owner(v)) then table.insert(out, v) end
end
return out`;

// ARGV: prefix instance ttl -> {{names removed}, {live entries}}
const HEARTBEAT = `${HEAD}
redis.call('SET', p .. 'instance:' .. ARGV[2], ARGV[2], 'PX', ARGV[3])
local gone, live = {}, {}
local all = redis.call('HGETALL', members)
for i = 1, #all, 2 do
  local v = all[i + 1]
  if alive(owner(v)) then table.insert(live, v)
  else
    redis.call('HDEL', members, all[i])
    table.insert(gone, string.match(v, '|([^|]*)$'))
  end
end
return {gone, live}`;

// ARGV: prefix instance -> size after this instance's members are removed
const LEAVE_ALL = `${HEAD}
local all = redis.call('HGETALL', members)
for i = 1, #all, 2 do
  if owner(all[i + 1]) == ARGV[2] then redis.call('HDEL', members, all[i]) end
end
redis.call('DEL', p .. 'instance:' .. ARGV[2])
return redis.call('HLEN', members)`;

/** Options of {@linkcode ChatPresence}. */
export interface ChatPresenceOptions {
  /** The room's name (`--room`). */
  room: string;
  /** This instance's id: unique, no `|`. */
  instance: string;
  /** Life of the instance's key (default {@linkcode DEFAULT_PRESENCE_TTL_MS}); refresh well within it. */
  ttlMs?: number;
  /** Deadline of each operation (default 1000 ms). */
  timeoutMs?: number;
}

/** A member entry of the hash, taken apart. */
interface Entry extends MemberState {
  instance: string;
  seq: number;
}

/** The room's members in Redis (see the module doc). */
export class ChatPresence {
  readonly instance: string;
  readonly ttlMs: number;
  readonly #scripts: RedisScripts;

  constructor(redis: RedisConnection, options: ChatPresenceOptions) {
    if (options.instance.includes("|")) throw new RangeError("an instance id cannot hold '|'");
    this.instance = options.instance;
    this.ttlMs = options.ttlMs ?? DEFAULT_PRESENCE_TTL_MS;
    const prefix = roomPrefix(options.room);
    this.#scripts = new RedisScripts(redis, prefix, options.timeoutMs ?? 1000);
  }

  /** Takes `name` for a client of this instance, unless a live member elsewhere has it. */
  async claim(name: string, peer: string): Promise<{ ok: boolean; size: number }> {
    const r = await this.#scripts.run(CLAIM, [
      name.toLowerCase(),
      this.instance,
      peer,
      name,
      String(this.ttlMs),
    ]) as number[];
    return { ok: Number(r[0]) === 1, size: Number(r[1]) };
  }

  /** Gives `name` back if this instance holds it; resolves the room's size. */
  async release(name: string): Promise<number> {
    return Number(await this.#scripts.run(RELEASE, [name.toLowerCase(), this.instance]));
  }

  /** Every live member's name, in sign-in order. */
  async names(): Promise<string[]> {
    const live = await this.#scripts.run(LIVE, []) as string[];
    return sortEntries(live).map((e) => e.name);
  }

  /**
   * Refreshes this instance's key and removes the members of instances whose
   * key expired; resolves their names and every live member.
   */
  async heartbeat(): Promise<{ gone: string[]; members: MemberState[] }> {
    const [gone, live] = await this.#scripts.run(HEARTBEAT, [
      this.instance,
      String(this.ttlMs),
    ]) as [string[], string[]];
    const members = sortEntries(live).map(({ name, peer, instance }) => ({ name, peer, instance }));
    return { gone, members };
  }

  /** Removes this instance and its members (a clean shutdown); resolves the room's size after. */
  async leaveAll(): Promise<number> {
    return Number(await this.#scripts.run(LEAVE_ALL, [this.instance]));
  }
}

/** The key prefix of room `room`. */
export function roomPrefix(room: string): string {
  return `socklab:chat:{${room}}:`;
}

/** `INSTANCE|SEQ|PEER|NAME` values, taken apart and put in sign-in order. */
function sortEntries(values: readonly string[]): Entry[] {
  const entries = values.map((v) => {
    const [instance, seq, peer, ...rest] = v.split("|");
    return { instance, seq: Number(seq), peer, name: rest.join("|") };
  });
  return entries.sort((a, b) => a.seq - b.seq);
}
