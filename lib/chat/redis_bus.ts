/**
 * The bus of chat-server instances that share one room through Redis
 * (`chat-server --redis URL --room NAME`): names through
 * {@linkcode ChatPresence} (a hash, and a key per instance that expires when
 * the instance dies), lines through {@linkcode ChatStream} (a bounded Redis
 * Stream every instance appends to and reads back from, so a member hears
 * every line of the room in one order, its own included).
 *
 * While Redis cannot be reached the instance serves its own members alone:
 * names are checked among them, `who` lists them, lines reach them at once
 * and are kept to pass on when Redis is back. Back, the instance claims its
 * members' names again; a name that someone on another instance took
 * meanwhile is lost by this instance's member, who is told so and may sign in
 * again. This module is only loaded with `--redis`, and it is the only chat
 * module that reaches npm `redis` (through lib/redis/connection.ts).
 *
 * @example
 * ```ts ignore
 * import { connectRedis, parseRedisUrl } from "../redis/connection.ts";
 * const redis = await connectRedis(parseRedisUrl("redis://127.0.0.1:6379"));
 * const bus = await RedisBus.open(redis, { room: "lab", instance: "tcp/127.0.0.1:5600/1a2b3c" });
 * await runTcpChatServer(listener, { signal, bus });
 * await bus.close();
 * ```
 * @module
 */
import type { MemberState } from "../net/monitor.ts";
import { ChatPresence } from "../redis/chat_presence.ts";
import { ChatStream } from "../redis/chat_stream.ts";
import type { RedisClient, RedisConnection } from "../redis/connection.ts";
import type { BusListener, Claim, RoomBus } from "./bus.ts";
import { MemberDirectory } from "./members.ts";
import { leftNotice } from "./protocol.ts";
import { DEFAULT_NOTICE_LIMIT } from "./room.ts";

/** Default time between two refreshes of this instance's presence (and sweeps of dead ones). */
export const DEFAULT_HEARTBEAT_MS = 1000;

/** Options of {@linkcode RedisBus.open}. */
export interface RedisBusOptions {
  /** The room's name: instances with the same Redis and room share it. */
  room: string;
  /** This instance's id, unique in the room (no `|`). */
  instance: string;
  /** Log lines (default console.log). */
  log?: (line: string) => void;
  /** Leave notices for members of dead instances only in rooms this small (default 64). */
  noticeLimit?: number;
  /** Life of this instance's presence key (default 5000 ms): its members leave this long after it dies. */
  presenceTtlMs?: number;
  /** Time between two presence refreshes (default {@linkcode DEFAULT_HEARTBEAT_MS}). */
  heartbeatMs?: number;
  /** Bound of the room's stream in entries (default 20,000). */
  streamLength?: number;
  /** Lines kept while Redis is down (default 10,000). */
  maxBacklog?: number;
}

/** The Redis-backed bus (see the module doc). */
export class RedisBus implements RoomBus {
  readonly kind = "redis";
  readonly instance: string;
  readonly #redis: RedisConnection;
  readonly #presence: ChatPresence;
  readonly #stream: ChatStream;
  /** This instance's members: what it answers from while Redis is down. */
  readonly #local = new MemberDirectory();
  readonly #noticeLimit: number;
  #listener: BusListener = { line() {}, evict() {} };
  /** Every member of the room at the last heartbeat. */
  #roster: MemberState[] = [];
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #unsubscribe: () => void = () => {};

  private constructor(redis: RedisConnection, reader: RedisClient, options: RedisBusOptions) {
    this.#redis = redis;
    this.instance = options.instance;
    this.#stream = new ChatStream(redis, reader, {
      room: options.room,
      instance: options.instance,
      deliver: (line, except) => this.#listener.line(line, except),
      log: options.log ?? console.log,
      streamLength: options.streamLength,
      maxBacklog: options.maxBacklog,
    });
    this.#presence = new ChatPresence(redis, {
      room: options.room,
      instance: options.instance,
      ttlMs: options.presenceTtlMs,
    });
    this.#noticeLimit = options.noticeLimit ?? DEFAULT_NOTICE_LIMIT;
  }

  /** Joins the room on a connected Redis: starts reading its lines and refreshing presence. */
  static async open(redis: RedisConnection, options: RedisBusOptions): Promise<RedisBus> {
    const bus = new RedisBus(redis, await redis.duplicate(), options);
    await bus.#stream.start();
    await bus.#beat();
    bus.#unsubscribe = redis.onStatus((up) => up ? bus.#back() : bus.#stream.down());
    bus.#heartbeat = setInterval(() => bus.#beat(), options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS);
    return bus;
  }

  listen(listener: BusListener): void {
    this.#listener = listener;
  }

  async claim(name: string, peer: string): Promise<Claim> {
    if (this.#redis.isUp) {
      try {
        const claim = await this.#presence.claim(name, peer);
        if (claim.ok) this.#local.claim(name, peer);
        return claim;
      } catch {
        // Redis went away meanwhile: this instance decides alone, as while it is down.
      }
    }
    const ok = this.#local.claim(name, peer);
    return { ok, size: this.#local.size };
  }

  async release(name: string): Promise<number> {
    this.#local.release(name);
    if (!this.#redis.isUp) return this.#local.size;
    try {
      return await this.#presence.release(name);
    } catch {
      return this.#local.size;
    }
  }

  async names(): Promise<string[]> {
    if (!this.#redis.isUp) return this.#local.names();
    try {
      return await this.#presence.names();
    } catch {
      return this.#local.names();
    }
  }

  publish(line: string, except?: string): void {
    this.#stream.publish(line, except);
  }

  holdWhile(wait: () => Promise<void> | undefined): void {
    this.#stream.holdWhile(wait);
  }

  members(): MemberState[] {
    const others = this.#roster.filter((m) => m.instance !== this.instance);
    const mine = this.#local.entries().map((e) => ({ ...e, instance: this.instance }));
    return [...others, ...mine];
  }

  /** Leaves the room: this instance's members are removed from it at once. */
  async close(): Promise<void> {
    clearInterval(this.#heartbeat);
    this.#unsubscribe();
    await this.#stream.close();
    if (this.#redis.isUp) await this.#presence.leaveAll().catch(() => {});
  }

  /** Refreshes presence; this instance announces the members of dead ones it removed. */
  async #beat(): Promise<void> {
    if (!this.#redis.isUp) return;
    try {
      const { gone, members } = await this.#presence.heartbeat();
      this.#roster = members;
      if (members.length >= this.#noticeLimit) return;
      const why = { kind: "failed", reason: "its server stopped" } as const;
      for (const name of gone) this.#stream.publish(leftNotice(name, why));
    } catch {
      // Redis went away: the status listener says so; the next beat tries again.
    }
  }

  /** Redis is back: pass on what was said, and claim every member's name again. */
  async #back(): Promise<void> {
    this.#stream.up();
    for (const { name, peer } of this.#local.entries()) {
      let claim;
      try {
        claim = await this.#presence.claim(name, peer);
      } catch {
        return; // gone again: the next return tries again
      }
      if (!this.#local.has(name)) await this.#presence.release(name).catch(() => {});
      else if (!claim.ok) {
        this.#local.release(name);
        this.#listener.evict(
          name,
          `name '${name}' was taken elsewhere in the room while Redis was down; sign in again`,
        );
      }
    }
    await this.#beat();
  }
}
