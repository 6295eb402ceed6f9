/**
 * The UDP chat server: one line per datagram, each address a
 * {@linkcode Seat} of the {@linkcode Room}. Each member's copy of a line is
 * one datagram; a member whose send fails is removed at once. Sends are not
 * awaited one by one but bounded in number, so a broadcast to many members
 * never waits on any single one.
 *
 * On a shared network an address is not a person: anyone can send a datagram
 * that claims to come from someone else's address. So an address becomes a
 * member only after it has shown that it receives: a `signin` without the
 * address's cookie (lib/net/amplification.ts) gets one `CONFIRM` line naming
 * the `signin ... cookie=HEX` to send, and nothing else. Strangers only ever
 * get short lines (at most max(3× their datagram, 512) bytes); members that
 * stay silent for `memberTtlMs` are signed out (an empty line keeps them in),
 * and one source address may hold at most `maxPerSource` members.
 *
 * ```sh
 * socklab chat-server --udp --port 5600
 * nc.openbsd -u 127.0.0.1 5600    # signin bob, then the CONFIRM line's signin ... cookie=HEX
 * ```
 * @module
 */
import { formatAddr } from "../net/address.ts";
import { AddressCookies, replyBudget, splitCookie } from "../net/amplification.ts";
import { defaultPerSource } from "../net/quota.ts";
import { listenLine } from "../net/server.ts";
import { reason } from "../net/udp.ts";
import { serveUdp } from "../net/udp_serve.ts";
import { MemoryBus } from "./bus.ts";
import {
  confirmLine,
  DEFAULT_MAX_LINE,
  errLine,
  type LeaveReason,
  logLines,
  parseRequest,
  type Request,
  tooLongLine,
} from "./protocol.ts";
import { Room, type RoomOutput, type Seat } from "./room.ts";
import { type ChatServerOptions, DEFAULT_MAX_CLIENTS } from "./tcp_server.ts";

/** Default time a UDP member may stay silent before it is signed out. */
export const DEFAULT_MEMBER_TTL_MS = 300_000;
/** Sends in flight before the server waits for some to finish. */
const MAX_IN_FLIGHT = 1024;
/** Lines from one address held while its previous line waits for the bus. */
const MAX_QUEUED_PER_SEAT = 64;
/** Strangers remembered as told how to sign in (the oldest forgotten first). */
const MAX_HINTED = 4096;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A datagram's line: trailing NULs (C clients send strlen+1) and one line end removed. */
export function datagramLine(data: Uint8Array): Uint8Array {
  let end = data.length;
  while (end > 0 && data[end - 1] === 0) end--;
  if (end > 0 && data[end - 1] === 0x0a) end--;
  if (end > 0 && data[end - 1] === 0x0d) end--;
  return data.subarray(0, end);
}

/** One client address (a member, or a stranger whose line waits for the bus). */
class UdpSeat implements Seat {
  readonly addr: Deno.NetAddr;
  readonly peer: string;
  readonly host: string;
  name: string | undefined = undefined;
  gone = false;
  hinted = false;
  /** When its last datagram came (performance.now()). */
  heardAt = performance.now();
  /** Its line being handled while the bus answers, and how many wait behind it. */
  pending: Promise<void> | undefined;
  queued = 0;

  constructor(addr: Deno.NetAddr, peer: string) {
    this.addr = addr;
    this.peer = peer;
    this.host = addr.hostname;
  }
}

/** The UDP chat server's state: its socket, room, cookies and silent-member sweep. */
export class UdpChatServer implements RoomOutput<UdpSeat> {
  readonly room: Room<UdpSeat>;
  readonly #conn: Deno.DatagramConn;
  readonly #options: ChatServerOptions;
  readonly #log: (line: string) => void;
  readonly #maxLine: number;
  readonly #ttlMs: number;
  readonly #cookies = new AddressCookies();
  /** Members, and strangers whose line waits for the bus, by `HOST:PORT`. */
  readonly #seats = new Map<string, UdpSeat>();
  readonly #hinted = new Set<string>();
  #inFlight = 0;
  #drained: (() => void) | undefined;

  constructor(conn: Deno.DatagramConn, options: ChatServerOptions) {
    this.#conn = conn;
    this.#options = options;
    this.#log = options.log ?? console.log;
    this.#maxLine = options.maxLine ?? DEFAULT_MAX_LINE;
    this.#ttlMs = options.memberTtlMs ?? DEFAULT_MEMBER_TTL_MS;
    const maxMembers = options.maxClients ?? DEFAULT_MAX_CLIENTS;
    this.room = new Room(options.bus ?? new MemoryBus(), this, {
      maxMembers,
      maxPerSource: options.maxPerSource ?? defaultPerSource(maxMembers),
      monitor: options.monitor,
    });
  }

  /** Serves datagrams until the signal aborts. */
  async run(): Promise<void> {
    const { signal } = this.#options;
    this.#log(listenLine("chat-server", this.#conn.addr as Deno.NetAddr));
    const sweep = setInterval(() => this.#sweep(), Math.min(5000, this.#ttlMs / 4));
    try {
      await serveUdp(this.#conn, (data, from) => this.#onDatagram(data, from), {
        signal,
        maxDatagram: this.#maxLine + 64,
        onError: (err, from) =>
          this.#log(`socklab chat-server: ${from ? `${formatAddr(from)}: ` : ""}${reason(err)}`),
      });
    } finally {
      clearInterval(sweep);
    }
    while (this.#inFlight > 0) await new Promise<void>((resolve) => (this.#drained = resolve));
  }

  // RoomOutput: what the room asks of the addresses.

  reply(seat: UdpSeat, line: string): void {
    this.#send(seat, encoder.encode(line));
  }

  broadcast(line: string, except: UdpSeat | undefined): void {
    const bytes = encoder.encode(line);
    for (const seat of this.room.members()) if (seat !== except) this.#send(seat, bytes);
  }

  joined(seat: UdpSeat): void {
    this.#seats.set(seat.peer, seat);
    this.#log(logLines.joined(seat.name!, seat.peer));
  }

  left(seat: UdpSeat, name: string, why: LeaveReason): void {
    if (seat.pending === undefined && seat.queued === 0) this.#seats.delete(seat.peer);
    this.#log(logLines.left(name, seat.peer, why));
  }

  /** One datagram: a line for the room, or a short answer to a stranger. */
  #onDatagram(data: Uint8Array, from: Deno.NetAddr): Promise<void> | undefined {
    const key = formatAddr(from);
    const bytes = datagramLine(data);
    let seat = this.#seats.get(key);
    if (seat !== undefined) seat.heardAt = performance.now();
    if (bytes.length > this.#maxLine) {
      if (seat?.name !== undefined) this.room.reject(seat, tooLongLine(this.#maxLine));
      else this.#answer(from, tooLongLine(this.#maxLine), data.length);
    } else {
      const line = decoder.decode(bytes);
      if (seat?.pending !== undefined) this.#queue(seat, line, data.length);
      else {
        seat ??= this.#stranger(key, from);
        this.#handle(seat, line, data.length);
      }
    }
    if (this.#inFlight < MAX_IN_FLIGHT) return undefined;
    return new Promise<void>((resolve) => (this.#drained = resolve));
  }

  /** Hands `line` to the room; a signin from a stranger needs its address's cookie. */
  #handle(seat: UdpSeat, line: string, size: number): void {
    let req: Request;
    if (seat.name === undefined && /^\s*signin\s/i.test(line)) {
      const { request, cookie } = splitCookie(line);
      req = parseRequest(request);
      if (req.kind === "signin" && !this.#cookies.verify(seat.addr, cookie)) {
        const confirm = confirmLine(req.name, this.#cookies.cookie(seat.addr), this.#ttlMs / 1000);
        return this.#answer(seat.addr, confirm, size);
      }
    } else req = parseRequest(line);
    const done = this.room.handle(seat, req);
    if (done instanceof Promise) this.#hold(seat, done);
    else this.#settle(seat);
  }

  /** Keeps `seat` (and its later lines) until the bus has answered. */
  #hold(seat: UdpSeat, done: Promise<void>): void {
    this.#seats.set(seat.peer, seat);
    seat.pending = done.finally(() => {
      seat.pending = undefined;
      this.#settle(seat);
    });
  }

  /** A line from an address whose previous line still waits for the bus: it goes after it. */
  #queue(seat: UdpSeat, line: string, size: number): void {
    if (seat.queued >= MAX_QUEUED_PER_SEAT) return; // a flood; UDP may lose lines
    seat.queued++;
    seat.pending!.then(() => {
      seat.queued--;
      if (seat.pending !== undefined) this.#queue(seat, line, size);
      else this.#handle(seat, line, size);
    });
  }

  /** After a line: a stranger with nothing more to do is forgotten (but for its hint). */
  #settle(seat: UdpSeat): void {
    if (seat.name !== undefined || seat.pending !== undefined || seat.queued > 0) return;
    if (this.#seats.get(seat.peer) === seat) this.#seats.delete(seat.peer);
    if (!seat.hinted || this.#hinted.has(seat.peer)) return;
    if (this.#hinted.size >= MAX_HINTED) this.#hinted.delete(this.#hinted.values().next().value!);
    this.#hinted.add(seat.peer);
  }

  /** A seat for an address that is not a member (it was told how to sign in, or not). */
  #stranger(key: string, from: Deno.NetAddr): UdpSeat {
    const seat = new UdpSeat({ ...from }, key);
    seat.hinted = this.#hinted.has(key);
    return seat;
  }

  /** A line for an address that has not shown it receives: only within its budget. */
  #answer(to: Deno.NetAddr, line: string, size: number): void {
    const bytes = encoder.encode(line);
    if (bytes.length <= replyBudget(size)) this.#sendTo(undefined, to, bytes);
  }

  /** Sends to a seat; a stranger's copy is held to the smallest budget (512 bytes). */
  #send(seat: UdpSeat, bytes: Uint8Array): void {
    if (seat.gone) return;
    if (seat.name === undefined && bytes.length > replyBudget(0)) return;
    this.#sendTo(seat, seat.addr, bytes);
  }

  #sendTo(seat: UdpSeat | undefined, to: Deno.NetAddr, bytes: Uint8Array): void {
    this.#inFlight++;
    this.#conn.send(bytes, to).then(this.#sent, (err) => {
      this.#sent();
      if (this.#options.signal.aborted || seat?.name === undefined) return;
      void this.room.leave(seat, { kind: "failed", reason: `send failed: ${reason(err)}` });
    });
  }

  readonly #sent = (): void => {
    this.#inFlight--;
    if (this.#drained && this.#inFlight < MAX_IN_FLIGHT / 2) {
      this.#drained();
      this.#drained = undefined;
    }
  };

  /** Signs out every member silent for longer than the member ttl. */
  #sweep(): void {
    const now = performance.now();
    const ttl = this.#ttlMs;
    for (const seat of this.room.members()) {
      if (now - seat.heardAt <= ttl) continue;
      const why = `silent for ${ttl / 1000} s`;
      this.#send(seat, encoder.encode(errLine(`signed out: ${why}; sign in again`)));
      void this.room.leave(seat, { kind: "failed", reason: why });
    }
  }
}

/** Serves the chat over UDP on a bound socket until the signal aborts. */
export function runUdpChatServer(
  conn: Deno.DatagramConn,
  options: ChatServerOptions,
): Promise<void> {
  return new UdpChatServer(conn, options).run();
}
