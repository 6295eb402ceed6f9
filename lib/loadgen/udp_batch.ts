/**
 * The generator side of batched UDP on Linux: a Deno socket whose descriptor
 * (a `dup(2)`, found through /proc as lib/net/udp_fast.ts does) is connected
 * to the target, so that N copies of one pre-encoded request leave with one
 * `sendmmsg(2)` through FFI. Deno's own receive is only the wake-up; what else
 * is queued is read with `recvmmsg(2)` (MSG_DONTWAIT). A blocking `recvmmsg`
 * on Deno's thread pool (a non-blocking FFI call) cost a thread hand-over per
 * wake-up and a whole core at 160k replies/s; this costs one op.
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
 *   const replies = await sock.receive(); // 1 or more; 0 after an ICMP error; null once closed
 *   sock.close();
 * }
 * ```
 * @module
 */
import type { HostPort } from "../net/address.ts";
import { parseIpBytes, portableForced } from "../net/udp_fast.ts";
import { findSocketFd } from "../net/socket_fd.ts";
import {
  AF_INET,
  AF_INET6,
  IOVEC,
  libcLoader,
  type LibcSymbols,
  MMSGHDR,
  MSG_DONTWAIT,
} from "../net/libc.ts";

/** Datagrams per system call, each way. */
export const BATCH = 64;
/** Bytes kept of each reply (its content is not looked at; longer ones are cut). */
const SLOT = 2048;
const SOL_SOCKET = 1;
const SO_SNDBUF = 7;
const SO_RCVBUF = 8;

const SYMBOLS = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  connect: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  sendmmsg: { parameters: ["i32", "buffer", "u32", "i32"], result: "i32" },
  recvmmsg: { parameters: ["i32", "pointer", "u32", "i32", "pointer"], result: "i32" },
  dup: { parameters: ["i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
} as const;

type Libc = LibcSymbols<typeof SYMBOLS>;

const loadLibc = libcLoader(SYMBOLS);

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

/** An `int` option value. */
function intOption(value: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, value, true);
  return b;
}

const address = (b: Uint8Array) => BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(b)));

/** A connected UDP socket that sends and receives in batches. */
export class BatchedUdp {
  readonly #lib: Libc;
  /** A duplicate of the Deno socket's descriptor, connected to the target. */
  readonly #fd: number;
  /** Deno's socket: its receive is the wake-up (one op per batch, no thread hop). */
  readonly #conn: Deno.DatagramConn;
  readonly #first = new Uint8Array(SLOT);
  /** BATCH identical headers, each one copy of the payload (a connected socket: no name). */
  readonly #sendHdr: Uint8Array;
  readonly #recvHdr: Uint8Array;
  readonly #recvPtr: Deno.PointerValue;
  /** Every buffer the kernel reaches by raw pointer, kept reachable while the socket lives. */
  readonly #pinned: Uint8Array[];
  #closed = false;

  constructor(lib: Libc, fd: number, conn: Deno.DatagramConn, payload: Uint8Array) {
    this.#lib = lib;
    this.#fd = fd;
    this.#conn = conn;
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
   * Waits for a reply, then takes every other one already queued; resolves to
   * how many (0 after an ICMP error, which is reported once), or null once
   * the socket is closed.
   */
  async receive(): Promise<number | null> {
    try {
      await this.#conn.receive(this.#first);
    } catch {
      return this.#closed ? null : 0;
    }
    let n = 1;
    while (!this.#closed) {
      const got = this.#lib.recvmmsg(this.#fd, this.#recvPtr, BATCH, MSG_DONTWAIT, null);
      if (got > 0) n += got;
      if (got < BATCH) break;
    }
    return n;
  }

  /** Closes the socket; a receive in progress resolves to null. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
    this.#lib.close(this.#fd);
    this.#pinned.length = 0;
  }
}

/**
 * A batched socket connected to `target` (an IP literal) that sends
 * `payload`, or `undefined` where the batched path cannot be used.
 */
export function openBatchedUdp(target: HostPort, payload: Uint8Array): BatchedUdp | undefined {
  const lib = portableForced() ? null : loadLibc();
  const name = sockaddrOf(target);
  if (!lib || !name) return undefined;
  const v6 = name.length === 28;
  const conn = Deno.listenDatagram({ transport: "udp", hostname: v6 ? "::" : "0.0.0.0", port: 0 });
  const found = findSocketFd("udp", (conn.addr as Deno.NetAddr).port);
  const fd = found === undefined ? -1 : lib.dup(found);
  const buf = intOption(4 << 20);
  if (
    fd < 0 || lib.setsockopt(fd, SOL_SOCKET, SO_RCVBUF, buf, 4) !== 0 ||
    lib.setsockopt(fd, SOL_SOCKET, SO_SNDBUF, buf, 4) !== 0 ||
    lib.connect(fd, name, name.length) !== 0
  ) {
    if (fd >= 0) lib.close(fd);
    conn.close();
    return undefined;
  }
  return new BatchedUdp(lib, fd, conn, payload);
}
