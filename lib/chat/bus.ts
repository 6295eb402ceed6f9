/**
 * The bus behind a chat room: the names signed in across the whole room and
 * the lines every member hears. A room (room.ts) holds only its own clients
 * and asks the bus for everything shared, so one room can span several
 * server instances: {@linkcode MemoryBus} is the bus of a single server (all
 * in memory, every call answered at once), lib/chat/redis_bus.ts the bus of
 * instances that share a room through Redis.
 *
 * Calls return a value or a promise of one ({@linkcode Maybe}): the memory
 * bus answers synchronously, so a single server does exactly what it did
 * before buses existed, in the same turn of the event loop.
 *
 * @example
 * ```ts
 * import { MemoryBus } from "./bus.ts";
 * const bus = new MemoryBus();
 * const heard: string[] = [];
 * bus.listen({ line: (l) => heard.push(l), evict: () => {} });
 * console.assert(bus.claim("alice", "127.0.0.1:40000").ok);
 * bus.publish("Msg alice says: hi");
 * console.assert(heard[0] === "Msg alice says: hi");
 * ```
 * @module
 */
import type { MemberState } from "../net/monitor.ts";
import { MemberDirectory } from "./members.ts";

/** A value now, or later. */
export type Maybe<T> = T | Promise<T>;

/** The answer to {@linkcode RoomBus.claim}: whether the name is now ours, and the room's size. */
export interface Claim {
  ok: boolean;
  /** Members in the whole room after the claim. */
  size: number;
}

/** What a bus tells its room. */
export interface BusListener {
  /** A line for every member (`except` named: not for that member), in the room's order. */
  line(line: string, except: string | undefined): void;
  /**
   * A member of this instance lost its name: it was signed in elsewhere in
   * the room while this instance could not check (Redis was down).
   */
  evict(name: string, reason: string): void;
}

/** The room-wide half of a chat room (see the module doc). */
export interface RoomBus {
  /** `"memory"` for one server, `"redis"` for a room shared through Redis. */
  readonly kind: "memory" | "redis";
  /** Sets the room that hears the lines (once, before anything else). */
  listen(listener: BusListener): void;
  /** Takes `name` for a client of this instance at `peer`, unless someone in the room has it. */
  claim(name: string, peer: string): Maybe<Claim>;
  /** Gives `name` back; resolves the room's size after. */
  release(name: string): Maybe<number>;
  /** Every name signed in across the room, in sign-in order. */
  names(): Maybe<string[]>;
  /**
   * Sends `line` to every member of the room, this instance's included (the
   * listener hears it, like everyone else's), `except` naming one member not
   * to send it to. Lines published by one instance arrive in order.
   */
  publish(line: string, except?: string): void;
  /**
   * Holds back lines from other instances while `wait()` returns a promise
   * (the TCP server's read gate: a lagging reader pauses everyone's input,
   * the room's feed included). The in-process bus has no such feed.
   */
  holdWhile?(wait: () => Promise<void> | undefined): void;
  /** The members across the room as last known, for the lab console. */
  members(): MemberState[];
  /** Stops the bus: this instance's members leave the room. */
  close(): Promise<void>;
}

/** The bus of a single server: names and lines never leave the process. */
export class MemoryBus implements RoomBus {
  readonly kind = "memory";
  readonly #directory = new MemberDirectory();
  #listener: BusListener = { line() {}, evict() {} };

  listen(listener: BusListener): void {
    this.#listener = listener;
  }

  claim(name: string, peer: string): Claim {
    const ok = this.#directory.claim(name, peer);
    return { ok, size: this.#directory.size };
  }

  release(name: string): number {
    this.#directory.release(name);
    return this.#directory.size;
  }

  names(): string[] {
    return this.#directory.names();
  }

  publish(line: string, except?: string): void {
    this.#listener.line(line, except);
  }

  members(): MemberState[] {
    return this.#directory.entries();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
