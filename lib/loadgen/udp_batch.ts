/**
 * The generator side of batched UDP on Linux: a connected socket of our own,
 * opened through libc by FFI, that sends N copies of one pre-encoded request
 * with one `sendmmsg(2)` and waits for replies with one `recvmmsg(2)` per
 * wake-up (MSG_WAITFORONE: block for the first, take what else is queued).
 * The wait runs as a non-blocking FFI call on Deno's blocking thread pool, so
 * the event loop (progress and interval timers) keeps running meanwhile.
 *
 * Deno's `DatagramConn` costs one async op per datagram each way, which made
 * `socklab bench udp` the bottleneck against a C echo (0.28-0.41× the C
 * `udp_load`); here a batch of replies costs one op. {@linkcode openBatchedUdp}
 * returns `undefined` where this cannot work (not Linux x86-64/aarch64, no FFI
 * permission, no libc, `SOCKLAB_UDP=portable`), and the generator falls back
 * to the portable loop.
 *
 * @example
 * ```ts ignore
 * import { openBatchedUdp } from "./udp_batch.ts";
 * const sock = openBatchedUdp({ hostname: "127.0.0.1", port: 1502 }, new TextEncoder().encode("USD"));
 * if (sock) {
 *   sock.send(8); // 8 requests
 *   const replies = await sock.receive(); // 1 to 64 replies, or 0 after the wait time
 *   sock.close();
 * }
 * ```
 * @module
 */
import type { HostPort } from "../net/address.ts";
import { parseIpBytes } from "../net/udp_fast.ts";

/** Datagrams per system call, each way. */
export const BATCH = 64;
/** How long one receive waits before it returns 0 (the loop then checks its clock). */
export const WAIT_MS = 10;
/** Bytes kept of each reply (its content is not looked at; longer ones are cut). */
const SLOT = 2048;
/** `struct mmsghdr` on LP64 Linux: msghdr (56) + msg_len (4) + padding (4). */
const MMSGHDR = 64;
const IOVEC = 16;
const AF_INET = 2;
const AF_INET6 = 10;
const SOCK_DGRAM = 2;
const SOL_SOCKET = 1;
const SO_SNDBUF = 7;
const SO_RCVBUF = 8;
const SO_RCVTIMEO = 20;
const MSG_WAITFORONE = 0x10000;

const SYMBOLS = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  connect: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  sendmmsg: { parameters: ["i32", "buffer", "u32", "i32"], result: "i32" },
  recvmmsg: {
    parameters: ["i32", "pointer", "u32", "i32", "pointer"],
    result: "i32",
    nonblocking: true,
  },
  close: { parameters: ["i32"], result: "i32" },
} as const;

type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

let libc: Libc | null | undefined;

/** libc with the calls above, or null where the batched path cannot be used. */
function loadLibc(): Libc | null {
  if (libc !== undefined) return libc;
  libc = null;
  try {
    const usable = Deno.build.os === "linux" &&
      (Deno.build.arch === "x86_64" || Deno.build.arch === "aarch64") &&
      Deno.env.get("SOCKLAB_UDP") !== "portable" &&
      Deno.permissions.querySync({ name: "ffi" }).state === "granted";
    if (!usable) return null;
    for (const name of ["libc.so.6", "libc.so"]) {
      try {
        libc = Deno.dlopen(name, SYMBOLS).symbols;
        break;
      } catch {
        // try the next name
      }
    }
  } catch {
    libc = null;
  }
  return libc;
}

/** The `sockaddr_in`/`sockaddr_in6` of an IP literal and port, or undefined. */
export function sockaddrOf(target: HostPort): Uint8Array | undefined {
  const ip = parseIpBytes(target.hostname);
  if (!ip || target.port < 1 || target.port > 65535) return undefined;
  const v6 = target.hostname.includes(":");
  const name = new Uint8Array(v6 ? 28 : 16);
  const view = new DataView(name.buffer);
  view.setUint16(0, v6 ? AF_INET6 : AF_INET, true);
  view.setUint16(2, target.port, false);
  if (v6) name.set(ip, 8);
  else name.set(ip.subarray(12), 4);
  return name;
}

/** An `int` or `struct timeval` option value. */
function intOption(value: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, value, true);
  return b;
}

function timeval(ms: number): Uint8Array {
  const b = new Uint8Array(16);
  const view = new DataView(b.buffer);
  view.setBigInt64(0, BigInt(Math.floor(ms / 1000)), true);
  view.setBigInt64(8, BigInt((ms % 1000) * 1000), true);
  return b;
}

const address = (b: Uint8Array) => BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(b)));

/** A connected UDP socket that sends and receives in batches. */
export class BatchedUdp {
  readonly #lib: Libc;
  readonly #fd: number;
  /** BATCH identical headers, each one copy of the payload (a connected socket: no name). */
  readonly #sendHdr: Uint8Array;
  readonly #recvHdr: Uint8Array;
  readonly #recvPtr: Deno.PointerValue;
  /** Every buffer the kernel reaches by raw pointer, kept reachable while the socket lives. */
  readonly #pinned: Uint8Array[];
  #waiting: Promise<number> | undefined;
  #closed = false;

  constructor(lib: Libc, fd: number, payload: Uint8Array) {
    this.#lib = lib;
    this.#fd = fd;
    const body = payload.slice();
    const sendIov = new Uint8Array(IOVEC);
    const sIov = new DataView(sendIov.buffer);
    sIov.setBigUint64(0, body.length ? address(body) : 0n, true);
    sIov.setBigUint64(8, BigInt(body.length), true);
    this.#sendHdr = new Uint8Array(BATCH * MMSGHDR);
    const data = new Uint8Array(BATCH * SLOT);
    const recvIov = new Uint8Array(BATCH * IOVEC);
    this.#recvHdr = new Uint8Array(BATCH * MMSGHDR);
    const sHdr = new DataView(this.#sendHdr.buffer);
    const rHdr = new DataView(this.#recvHdr.buffer);
    const rIov = new DataView(recvIov.buffer);
    for (let i = 0; i < BATCH; i++) {
      sHdr.setBigUint64(i * MMSGHDR + 16, address(sendIov), true);
      sHdr.setBigUint64(i * MMSGHDR + 24, 1n, true);
      rIov.setBigUint64(i * IOVEC, address(data) + BigInt(i * SLOT), true);
      rIov.setBigUint64(i * IOVEC + 8, BigInt(SLOT), true);
      rHdr.setBigUint64(i * MMSGHDR + 16, address(recvIov) + BigInt(i * IOVEC), true);
      rHdr.setBigUint64(i * MMSGHDR + 24, 1n, true);
    }
    this.#recvPtr = Deno.UnsafePointer.of(this.#recvHdr);
    this.#pinned = [body, sendIov, data, recvIov, this.#recvHdr, this.#sendHdr];
  }

  /** Sends `n` (at most {@linkcode BATCH}) copies of the payload; returns how many left. */
  send(n: number): number {
    if (this.#closed || n <= 0) return 0;
    const sent = this.#lib.sendmmsg(this.#fd, this.#sendHdr, Math.min(n, BATCH), 0);
    return sent > 0 ? sent : 0;
  }

  /**
   * Waits up to {@linkcode WAIT_MS} for replies; resolves to how many arrived
   * (0 to {@linkcode BATCH}; 0 also after an ICMP error, which is reported once).
   */
  receive(): Promise<number> {
    if (this.#closed) return Promise.resolve(0);
    this.#waiting = this.#lib.recvmmsg(this.#fd, this.#recvPtr, BATCH, MSG_WAITFORONE, null)
      .then((n) => (n > 0 ? n : 0));
    return this.#waiting;
  }

  /** Closes the socket once a receive in progress has returned (within {@linkcode WAIT_MS}). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#waiting;
    this.#lib.close(this.#fd);
    this.#pinned.length = 0;
  }
}

/**
 * A batched socket connected to `target` (an IP literal) that sends
 * `payload`, or `undefined` where the batched path cannot be used.
 */
export function openBatchedUdp(target: HostPort, payload: Uint8Array): BatchedUdp | undefined {
  const lib = loadLibc();
  const name = sockaddrOf(target);
  if (!lib || !name) return undefined;
  const fd = lib.socket(name.length === 28 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) return undefined;
  const buf = intOption(4 << 20);
  lib.setsockopt(fd, SOL_SOCKET, SO_RCVBUF, buf, 4);
  lib.setsockopt(fd, SOL_SOCKET, SO_SNDBUF, buf, 4);
  lib.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, timeval(WAIT_MS), 16);
  if (lib.connect(fd, name, name.length) !== 0) {
    lib.close(fd);
    return undefined;
  }
  return new BatchedUdp(lib, fd, payload);
}
