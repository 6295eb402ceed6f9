/**
 * The chat room's membership logic, pure: who is signed in under which name,
 * and what each request or departure means — a reply for the sender, a line
 * for every member, an event for the server log. The TCP and UDP servers only
 * move bytes; a member is keyed by whatever identifies a client there (a
 * connection, an address).
 *
 * @example
 * ```ts
 * import { ChatRoom } from "./members.ts";
 * import { parseRequest } from "./protocol.ts";
 * const room = new ChatRoom<string>();
 * console.assert(room.handle("a", parseRequest("signin alice")).reply === "OK signed in as alice");
 * console.assert(room.handle("a", parseRequest("chat hi")).broadcast === "Msg alice says: hi");
 * console.assert(room.handle("b", parseRequest("chat ignored")).broadcast === undefined);
 * ```
 * @module
 */
import {
  errLine,
  formatMsg,
  formatUsers,
  joinedNotice,
  type LeaveReason,
  leftNotice,
  type Request,
  serverFullLine,
  signedInLine,
  signedOutLine,
} from "./protocol.ts";

/** What the server logs. */
export type RoomEvent =
  | { kind: "joined"; name: string }
  | { kind: "left"; name: string; why: LeaveReason };

/** The effects of one request or departure. */
export interface Outcome<K> {
  /** A line for the client that sent the request. */
  reply?: string;
  /** A line for every member (in the room after the change), except `except`. */
  broadcast?: string;
  /** The member not to send `broadcast` to (a joiner does not hear its own join). */
  except?: K;
  /** What happened, for the server log. */
  event?: RoomEvent;
}

/**
 * Default largest room that hears joins and leaves. A notice goes to every
 * member, so N joins cost N² lines: in a room of 1,000 that is 500,000 lines
 * and, measured, 20 KiB more server memory per client. Lab-sized rooms get
 * the notices; larger ones rely on `who` (the server log has every join).
 */
export const DEFAULT_NOTICE_LIMIT = 64;

/** Options of {@linkcode ChatRoom}. */
export interface ChatRoomOptions {
  /** Most members at once (default unlimited); a signin beyond it gets `ERR server full`. */
  maxMembers?: number;
  /** Join and leave notices only while the room has at most this many members (default 64). */
  noticeLimit?: number;
}

/** The signed-in members, in sign-in order, with unique (case-insensitive) names. */
export class ChatRoom<K> {
  readonly maxMembers: number;
  readonly noticeLimit: number;
  readonly #byKey = new Map<K, string>();
  readonly #byName = new Map<string, K>();

  constructor(options: ChatRoomOptions = {}) {
    this.maxMembers = options.maxMembers ?? Infinity;
    this.noticeLimit = options.noticeLimit ?? DEFAULT_NOTICE_LIMIT;
  }

  /** How many members are signed in. */
  get size(): number {
    return this.#byKey.size;
  }

  /** The name `key` signed in with, or undefined for a stranger. */
  nameOf(key: K): string | undefined {
    return this.#byKey.get(key);
  }

  /** Every member's name, in sign-in order. */
  names(): string[] {
    return [...this.#byKey.values()];
  }

  /**
   * A live walk over the members, in sign-in order. Removing a member while
   * walking is safe (a Map iterator skips entries deleted before it reaches
   * them and never visits one twice), so a send that fails can remove its
   * member at once; members added during the walk are visited too.
   */
  members(): IterableIterator<K> {
    return this.#byKey.keys();
  }

  /** Applies one request from `key`. Strangers get nothing except for `signin`. */
  handle(key: K, req: Request): Outcome<K> {
    const me = this.#byKey.get(key);
    switch (req.kind) {
      case "empty":
        return {};
      case "invalid":
        return me !== undefined || req.command === "signin" ? { reply: errLine(req.reason) } : {};
      case "signin":
        return this.#signin(key, me, req.name);
    }
    if (me === undefined) return {};
    switch (req.kind) {
      case "signout":
        if (req.name !== undefined && fold(req.name) !== fold(me)) {
          return { reply: errLine(`you are signed in as ${me}, not ${req.name}`) };
        }
        return { reply: signedOutLine(me), ...this.leave(key, { kind: "signout" }) };
      case "who":
        return { reply: formatUsers(this.names()) };
      case "chat":
        return { broadcast: formatMsg(me, req.text) };
    }
  }

  /**
   * Removes `key` (its connection dropped, a send failed, or it signed out).
   * Nothing happens for a stranger.
   */
  leave(key: K, why: LeaveReason): Outcome<K> {
    const name = this.#byKey.get(key);
    if (name === undefined) return {};
    this.#byKey.delete(key);
    this.#byName.delete(fold(name));
    const event: RoomEvent = { kind: "left", name, why };
    return this.size < this.noticeLimit ? { broadcast: leftNotice(name, why), event } : { event };
  }

  #signin(key: K, me: string | undefined, name: string): Outcome<K> {
    if (me !== undefined) {
      // Signing in again under the same name is harmless (a UDP retry).
      if (fold(me) === fold(name)) return { reply: signedInLine(me) };
      return { reply: errLine(`already signed in as ${me}`) };
    }
    if (this.#byName.has(fold(name))) {
      return { reply: errLine(`name '${name}' is already taken`) };
    }
    if (this.#byKey.size >= this.maxMembers) return { reply: serverFullLine(this.maxMembers) };
    this.#byKey.set(key, name);
    this.#byName.set(fold(name), key);
    const event: RoomEvent = { kind: "joined", name };
    if (this.size > this.noticeLimit) return { reply: signedInLine(name), event };
    return { reply: signedInLine(name), broadcast: joinedNotice(name), except: key, event };
  }
}

function fold(name: string): string {
  return name.toLowerCase();
}
