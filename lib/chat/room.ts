/**
 * A chat room as one unit: what each client line means (sign in, chat, who,
 * sign out, help), who of this server's clients are members, the per-source
 * member quota and the join and leave notices. The room moves no bytes: a
 * transport (tcp_server.ts, udp_server.ts) hands it each line and carries out
 * what it asks through {@linkcode RoomOutput}; everything room-wide (names,
 * lines for every member) goes through a {@linkcode RoomBus}, in process or
 * through Redis, so one room can span several instances.
 *
 * With the in-process bus every call completes at once; with Redis, `signin`,
 * `who` and `signout` wait for Redis and {@linkcode Room.handle} returns a
 * promise: transports keep one client's lines in order by waiting for it.
 *
 * @example
 * ```ts
 * import { MemoryBus } from "./bus.ts";
 * import { Room, type Seat } from "./room.ts";
 * import { parseRequest } from "./protocol.ts";
 * const said: string[] = [];
 * const room = new Room<Seat>(new MemoryBus(), {
 *   reply: (_s, line) => said.push(line),
 *   broadcast: (line) => said.push(`all: ${line}`),
 *   joined() {},
 *   left() {},
 * });
 * const seat: Seat = { peer: "127.0.0.1:40000", host: "127.0.0.1", name: undefined, gone: false, hinted: false };
 * room.handle(seat, parseRequest("signin alice"));
 * room.handle(seat, parseRequest("chat hi"));
 * console.assert(said.join("|") === "OK signed in as alice|all: *** alice joined|all: Msg alice says: hi");
 * ```
 * @module
 */
import type { ServiceMonitor } from "../net/monitor.ts";
import { sourceKey, SourceQuota } from "../net/quota.ts";
import type { BusListener, Claim, Maybe, RoomBus } from "./bus.ts";
import { foldName } from "./members.ts";
import {
  errLine,
  formatMsg,
  formatUsers,
  HELP_LINE,
  joinedNotice,
  type LeaveReason,
  leftNotice,
  type Request,
  serverFullLine,
  signedInLine,
  signedOutLine,
  SIGNIN_FIRST_LINE,
  sourceFullLine,
} from "./protocol.ts";

/**
 * Default largest room that hears joins and leaves. A notice goes to every
 * member, so N joins cost N² lines: in a room of 1,000 that is 500,000 lines
 * and, measured, 20 KiB more server memory per client. Lab-sized rooms get
 * the notices; larger ones rely on `who` (the server log has every join).
 */
export const DEFAULT_NOTICE_LIMIT = 64;

/** A client of this server as the room sees it (a TCP connection, a UDP address). */
export interface Seat {
  /** `HOST:PORT`, for logs and the console. */
  readonly peer: string;
  /** The client's address, for the per-source quota. */
  readonly host: string;
  /** The name it signed in with; undefined for a stranger. */
  name: string | undefined;
  /** True once the client is gone: nothing more is sent to it. */
  gone: boolean;
  /** True once a stranger has been told how to sign in (it is told once). */
  hinted: boolean;
}

/** What the room asks of its transport. */
export interface RoomOutput<S extends Seat> {
  /** A line for `seat` alone, after everything it was given before. */
  reply(seat: S, line: string): void;
  /** A line for every member of this server except `except`. */
  broadcast(line: string, except: S | undefined): void;
  /** `seat` has just signed in (its name is set): it hears broadcasts from now on. */
  joined(seat: S): void;
  /** `seat` has just left as `name`: it hears no broadcast from now on. */
  left(seat: S, name: string, why: LeaveReason): void;
}

/** Options of {@linkcode Room}. */
export interface RoomOptions {
  /** Most members of this server at once (default unlimited): beyond, `ERR server full`. */
  maxMembers?: number;
  /** Most members of this server from one source (default unlimited). */
  maxPerSource?: number;
  /** Join and leave notices only while the room has at most this many members (default 64). */
  noticeLimit?: number;
  /** Told of every line handled, sign-ins, sign-outs and drops (the lab console). */
  monitor?: ServiceMonitor;
}

/** Counters for the lab console. */
export interface RoomCounters {
  /** Chat lines this server's members sent. */
  lines: number;
  /** Members dropped because they did not read fast enough. */
  droppedSlow: number;
  /** Members dropped because their connection or address failed or fell silent. */
  droppedDead: number;
}

/** One chat room (see the module doc). */
export class Room<S extends Seat> implements BusListener {
  readonly bus: RoomBus;
  readonly maxMembers: number;
  readonly noticeLimit: number;
  readonly counters: RoomCounters = { lines: 0, droppedSlow: 0, droppedDead: 0 };
  readonly #out: RoomOutput<S>;
  readonly #quota: SourceQuota | undefined;
  readonly #monitor: ServiceMonitor | undefined;
  /** This server's members by folded name, in sign-in order. */
  readonly #local = new Map<string, S>();
  /** Folded names whose claim is on its way to the bus. */
  readonly #claiming = new Set<string>();

  constructor(bus: RoomBus, out: RoomOutput<S>, options: RoomOptions = {}) {
    this.bus = bus;
    this.#out = out;
    this.maxMembers = options.maxMembers ?? Infinity;
    this.noticeLimit = options.noticeLimit ?? DEFAULT_NOTICE_LIMIT;
    const perSource = options.maxPerSource;
    this.#quota = perSource === undefined ? undefined : new SourceQuota({ perSource });
    this.#monitor = options.monitor;
    bus.listen(this);
    this.#monitor?.setState(() => ({ kind: "chat", members: bus.members(), ...this.counters }));
  }

  /** This server's members. */
  get size(): number {
    return this.#local.size;
  }

  /**
   * A live walk over this server's members in sign-in order: removing one
   * while walking is safe (a Map iterator skips entries deleted ahead of it),
   * so a send that fails can remove its member at once.
   */
  members(): IterableIterator<S> {
    return this.#local.values();
  }

  /** Handles one line from `seat`; a promise when it waits for the bus. */
  handle(seat: S, req: Request): Maybe<void> {
    const monitor = this.#monitor;
    if (monitor === undefined) {
      const r = this.#dispatch(seat, req);
      return r instanceof Promise ? r.then(() => {}) : undefined;
    }
    const started = performance.now();
    const served = (err: string | undefined) =>
      monitor.served(performance.now() - started, err !== undefined, seat.peer, err);
    const r = this.#dispatch(seat, req);
    return r instanceof Promise ? r.then(served) : served(r);
  }

  /** Answers a line the transport could not even read (too long) with `errLine`. */
  reject(seat: S, errLine: string): void {
    this.#reply(seat, errLine);
    this.#monitor?.served(0, true, seat.peer, errLine);
  }

  /**
   * Removes `seat` from the room (its connection dropped, a send failed, it
   * fell silent, or it signed out). Nothing happens for a stranger.
   */
  leave(seat: S, why: LeaveReason): Maybe<void> {
    const name = seat.name;
    if (name === undefined) return;
    this.#forget(seat, name);
    this.#out.left(seat, name, why);
    this.#count(seat, name, why);
    const size = this.bus.release(name);
    const notify = (n: number) => {
      if (n < this.noticeLimit) this.bus.publish(leftNotice(name, why));
    };
    return size instanceof Promise ? size.then(notify) : notify(size);
  }

  /** BusListener: a line for every member here. */
  line(line: string, except: string | undefined): void {
    const skip = except === undefined ? undefined : this.#local.get(foldName(except));
    this.#out.broadcast(line, skip);
  }

  /** BusListener: a member here lost its name to one elsewhere in the room. */
  evict(name: string, reason: string): void {
    const seat = this.#local.get(foldName(name));
    if (seat === undefined) return;
    this.#forget(seat, name);
    this.#out.reply(seat, errLine(reason));
    this.#out.left(seat, name, { kind: "failed", reason });
    this.#monitor?.event("drop", `${name}: ${reason}`, seat.peer);
  }

  /** The ERR line the request was answered with, if it was. */
  #dispatch(seat: S, req: Request): Maybe<string | undefined> {
    switch (req.kind) {
      case "empty":
        return undefined;
      case "help":
        return this.#reply(seat, HELP_LINE);
      case "signin":
        return this.#signin(seat, req.name);
      case "invalid":
        if (seat.name !== undefined || req.command === "signin") {
          return this.#reply(seat, errLine(req.reason));
        }
    }
    const me = seat.name;
    if (me === undefined) return this.#hint(seat);
    switch (req.kind) {
      case "signout":
        return this.#signout(seat, me, req.name);
      case "who":
        return this.#who(seat);
      case "chat":
        this.counters.lines++;
        this.bus.publish(formatMsg(me, req.text));
        return undefined;
    }
  }

  #reply(seat: S, line: string): string | undefined {
    if (!seat.gone) this.#out.reply(seat, line);
    return line.startsWith("ERR ") ? line : undefined;
  }

  /** A stranger's first line other than signin: one line on how to sign in, then silence. */
  #hint(seat: S): string | undefined {
    if (seat.hinted) return undefined;
    seat.hinted = true;
    return this.#reply(seat, SIGNIN_FIRST_LINE);
  }

  #signin(seat: S, name: string): Maybe<string | undefined> {
    const me = seat.name;
    if (me !== undefined) {
      // Signing in again under the same name is harmless (a UDP retry).
      if (foldName(me) === foldName(name)) return this.#reply(seat, signedInLine(me));
      return this.#reply(seat, errLine(`already signed in as ${me}`));
    }
    const key = foldName(name);
    if (this.#local.has(key) || this.#claiming.has(key)) return this.#reply(seat, taken(name));
    if (this.#local.size + this.#claiming.size >= this.maxMembers) {
      return this.#reply(seat, serverFullLine(this.maxMembers));
    }
    const quota = this.#quota;
    if (quota !== undefined && !quota.tryTake(seat.host)) {
      return this.#reply(seat, sourceFullLine("members", sourceKey(seat.host), quota.perSource));
    }
    this.#claiming.add(key);
    const claim = this.bus.claim(name, seat.peer);
    if (claim instanceof Promise) {
      return claim.then(
        (c) => this.#claimed(seat, name, c),
        (err) => this.#claimed(seat, name, { ok: false, size: 0 }, err),
      );
    }
    return this.#claimed(seat, name, claim);
  }

  #claimed(seat: S, name: string, claim: Claim, err?: unknown): string | undefined {
    this.#claiming.delete(foldName(name));
    if (!claim.ok || seat.gone) {
      this.#quota?.release(seat.host);
      if (claim.ok) this.bus.release(name); // it left while we waited
      if (seat.gone) return undefined;
      const why = err === undefined ? undefined : `cannot sign in now: ${(err as Error).message}`;
      return this.#reply(seat, why === undefined ? taken(name) : errLine(why));
    }
    seat.name = name;
    this.#local.set(foldName(name), seat);
    this.#reply(seat, signedInLine(name));
    this.#out.joined(seat);
    this.#monitor?.event("signin", `${name} joined`, seat.peer);
    if (claim.size <= this.noticeLimit) this.bus.publish(joinedNotice(name), name);
    return undefined;
  }

  #signout(seat: S, me: string, asked: string | undefined): Maybe<string | undefined> {
    if (asked !== undefined && foldName(asked) !== foldName(me)) {
      return this.#reply(seat, errLine(`you are signed in as ${me}, not ${asked}`));
    }
    this.#reply(seat, signedOutLine(me));
    const left = this.leave(seat, { kind: "signout" });
    return left instanceof Promise ? left.then(() => undefined) : undefined;
  }

  #who(seat: S): Maybe<string | undefined> {
    const names = this.bus.names();
    if (names instanceof Promise) return names.then((n) => this.#reply(seat, formatUsers(n)));
    return this.#reply(seat, formatUsers(names));
  }

  #forget(seat: S, name: string): void {
    seat.name = undefined;
    this.#local.delete(foldName(name));
    this.#quota?.release(seat.host);
  }

  #count(seat: S, name: string, why: LeaveReason): void {
    if (why.kind === "failed") {
      if (why.slow) this.counters.droppedSlow++;
      else this.counters.droppedDead++;
    }
    const monitor = this.#monitor;
    if (monitor === undefined) return;
    if (why.kind === "failed") monitor.event("drop", `${name} dropped: ${why.reason}`, seat.peer);
    else monitor.event("signout", `${name} left`, seat.peer);
  }
}

function taken(name: string): string {
  return errLine(`name '${name}' is already taken`);
}
