/**
 * The memory `recvmmsg(2)` and `sendmmsg(2)` share with the kernel in the UDP
 * fast path (lib/net/udp_fast.ts): a ring of receive slots with their iovecs
 * and socket addresses, and a batch of replies copied into one arena. The
 * kernel reaches these buffers through raw pointers only, which are written
 * as two 32-bit halves (no BigInt per datagram: user-space pointers fit in a
 * double's 53 bits).
 *
 * Layout on LP64 Linux: `struct mmsghdr` is 64 bytes (msghdr 56: name
 * pointer at 0, namelen at 8, iov pointer at 16, iovlen at 24, flags at 48;
 * then msg_len at 56), `struct iovec` 16 (base, length).
 * @module
 */
import { NAME } from "./udp_sockaddr.ts";
import { IOVEC, MMSGHDR } from "./libc.ts";

/** Datagrams read (and replies sent) per system call. */
export const BATCH = 16;
/** Bytes kept for replies between two `sendmmsg` calls. */
export const SEND_ARENA = 256 * 1024;
const MSG_TRUNC = 0x20;
const TWO_32 = 4294967296;

/** The address of a buffer's first byte, as a number. */
export function addressOf(buffer: Uint8Array): number {
  return Number(Deno.UnsafePointer.value(Deno.UnsafePointer.of(buffer)));
}

/** Writes a 64-bit pointer or size in native (little-endian) order. */
function setWord(view: DataView, at: number, value: number): void {
  view.setUint32(at, value % TWO_32, true);
  view.setUint32(at + 4, Math.floor(value / TWO_32), true);
}

function getWord(view: DataView, at: number): number {
  return view.getUint32(at, true) + view.getUint32(at + 4, true) * TWO_32;
}

/**
 * BATCH receive slots of `slot` bytes, each with its iovec and sockaddr, plus
 * one more sockaddr (index BATCH) for the datagram Deno's own receive hands over.
 */
export class ReceiveRing {
  readonly slot: number;
  readonly data: Uint8Array;
  /** Socket addresses, NAME bytes each. */
  readonly names = new Uint8Array((BATCH + 1) * NAME);
  /** The `struct mmsghdr` array passed to recvmmsg. */
  readonly headers = new Uint8Array(BATCH * MMSGHDR);
  readonly #iov = new Uint8Array(BATCH * IOVEC);
  readonly #view = new DataView(this.headers.buffer);
  readonly #namesAt: number;

  constructor(slot: number) {
    this.slot = slot;
    this.data = new Uint8Array(BATCH * slot);
    this.#namesAt = addressOf(this.names);
    const dataAt = addressOf(this.data);
    const iovAt = addressOf(this.#iov);
    const iov = new DataView(this.#iov.buffer);
    for (let i = 0; i < BATCH; i++) {
      setWord(iov, i * IOVEC, dataAt + i * slot);
      setWord(iov, i * IOVEC + 8, slot);
      setWord(this.#view, i * MMSGHDR, this.nameAt(i));
      setWord(this.#view, i * MMSGHDR + 16, iovAt + i * IOVEC);
      setWord(this.#view, i * MMSGHDR + 24, 1);
    }
  }

  /** Every buffer the kernel reaches by pointer (to keep them alive). */
  get buffers(): Uint8Array[] {
    return [this.data, this.names, this.headers, this.#iov];
  }

  /** The address of sockaddr `i` (BATCH: the one written for Deno's datagram). */
  nameAt(i: number): number {
    return this.#namesAt + i * NAME;
  }

  /** Gets the headers ready for the next recvmmsg (the kernel shrank msg_namelen). */
  reset(): void {
    for (let i = 0; i < BATCH; i++) this.#view.setUint32(i * MMSGHDR + 8, NAME, true);
  }

  /** The bytes of slot `i` after recvmmsg (a truncated datagram keeps what fit). */
  datagram(i: number): Uint8Array {
    const length = this.#view.getUint32(i * MMSGHDR + 56, true);
    const flags = this.#view.getInt32(i * MMSGHDR + 48, true);
    const size = flags & MSG_TRUNC ? this.slot : Math.min(length, this.slot);
    return this.data.subarray(i * this.slot, i * this.slot + size);
  }
}

const encoder = new TextEncoder();

/**
 * Up to BATCH replies waiting for one sendmmsg, copied into one arena, each
 * pointing at its peer's sockaddr (in a {@linkcode ReceiveRing}).
 */
export class ReplyBatch {
  /** Replies queued. */
  count = 0;
  /** The `struct mmsghdr` array passed to sendmmsg. */
  readonly headers = new Uint8Array(BATCH * MMSGHDR);
  /** Who each queued reply goes to (for a send that fails). */
  readonly peers: Deno.NetAddr[] = [];
  readonly #arena = new Uint8Array(SEND_ARENA);
  readonly #iov = new Uint8Array(BATCH * IOVEC);
  readonly #view = new DataView(this.headers.buffer);
  readonly #iovView = new DataView(this.#iov.buffer);
  readonly #arenaAt = addressOf(this.#arena);
  readonly #nameLength: number;
  #used = 0;

  /** `nameLength`: bytes of the socket's sockaddr (16 for IPv4, 28 for IPv6). */
  constructor(nameLength: number) {
    this.#nameLength = nameLength;
    const iovAt = addressOf(this.#iov);
    for (let i = 0; i < BATCH; i++) {
      setWord(this.#view, i * MMSGHDR + 16, iovAt + i * IOVEC);
      setWord(this.#view, i * MMSGHDR + 24, 1);
    }
  }

  /** Every buffer the kernel reaches by pointer (to keep them alive). */
  get buffers(): Uint8Array[] {
    return [this.#arena, this.#iov, this.headers];
  }

  /** True when `reply` fits in what is left of the arena (else flush first). */
  fits(reply: string | Uint8Array): boolean {
    const most = typeof reply === "string" ? reply.length * 3 : reply.length;
    return most <= SEND_ARENA - this.#used;
  }

  /** Queues `reply` to the sockaddr at `nameAt` (check {@linkcode fits} first). */
  add(reply: string | Uint8Array, nameAt: number, peer: Deno.NetAddr): void {
    const length = typeof reply === "string"
      ? writeText(reply, this.#arena, this.#used)
      : (this.#arena.set(reply, this.#used), reply.length);
    const i = this.count++;
    setWord(this.#iovView, i * IOVEC, this.#arenaAt + this.#used);
    setWord(this.#iovView, i * IOVEC + 8, length);
    setWord(this.#view, i * MMSGHDR, nameAt);
    this.#view.setUint32(i * MMSGHDR + 8, this.#nameLength, true);
    this.peers[i] = peer;
    this.#used += length;
  }

  /** The headers from reply `i` on (what is left after a partial sendmmsg). */
  headersFrom(i: number): Uint8Array {
    return this.headers.subarray(i * MMSGHDR);
  }

  /** A copy of queued reply `i` (to send it another way). */
  copy(i: number): Uint8Array {
    const start = getWord(this.#iovView, i * IOVEC) - this.#arenaAt;
    return this.#arena.slice(start, start + getWord(this.#iovView, i * IOVEC + 8));
  }

  /** Forgets every queued reply (after they were sent). */
  clear(): void {
    this.count = 0;
    this.#used = 0;
  }
}

/**
 * Writes `text` as UTF-8 at `into[at]`; returns the byte count. ASCII, what
 * the services answer, is copied in a loop: cheaper than a call into the
 * runtime for replies of a few dozen bytes.
 */
function writeText(text: string, into: Uint8Array, at: number): number {
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) return i + encoder.encodeInto(text.slice(i), into.subarray(at + i)).written;
    into[at + i] = c;
  }
  return n;
}
