/**
 * The Linux fast path of {@linkcode serveUdp}: batch system calls through FFI.
 * Deno's `DatagramConn` costs one async op and one event-loop turn per
 * datagram each way; here Deno's receive is only the wake-up, and whatever
 * else is queued on the socket is read with one `recvmmsg(2)` into reused
 * buffers, handed to the handler, and answered with one `sendmmsg(2)` — no
 * promise and no allocation per datagram beyond the handler's own.
 *
 * It works on the very socket the caller bound (a `dup(2)` of its descriptor,
 * found through /proc), so the API and behaviour of `serveUdp` stay the same;
 * while it runs, the conn's own `send()` (which handlers may call) is routed
 * through the same descriptor so that every datagram leaves in program order.
 * When anything it needs is missing (not Linux, no FFI permission, no libc,
 * the descriptor not found) it is simply not used: {@linkcode openFastUdp}
 * returns `undefined` and the portable loop runs. `SOCKLAB_UDP=portable`
 * forces the portable loop.
 * @module
 */

/** Datagrams read (and replies sent) per system call. */
export const BATCH = 16;
/** Bytes kept for replies between two `sendmmsg` calls. */
const SEND_ARENA = 256 * 1024;
/** Size of one `struct mmsghdr` on LP64 Linux (msghdr 56 + msg_len 4 + padding 4). */
const MMSGHDR = 64;
/** Room for a `sockaddr_in6` (28 bytes), rounded up. */
const NAME = 32;
const IOVEC = 16;
const MSG_DONTWAIT = 0x40;
const MSG_TRUNC = 0x20;
const AF_INET = 2;
const AF_INET6 = 10;
const EINTR = 4;

const SYMBOLS = {
  recvmmsg: { parameters: ["i32", "buffer", "u32", "i32", "pointer"], result: "i32" },
  sendmmsg: { parameters: ["i32", "buffer", "u32", "i32"], result: "i32" },
  sendto: { parameters: ["i32", "buffer", "usize", "i32", "buffer", "u32"], result: "isize" },
  dup: { parameters: ["i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
} as const;

type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

let libc: Libc | null | undefined;

function loadLibc(): Libc | null {
  if (libc !== undefined) return libc;
  libc = null;
  try {
    if (Deno.build.os !== "linux") return null;
    if (Deno.build.arch !== "x86_64" && Deno.build.arch !== "aarch64") return null;
    if (Deno.env.get("SOCKLAB_UDP") === "portable") return null;
    if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return null;
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

function errno(lib: Libc): number {
  const p = lib.__errno_location();
  return p ? new Deno.UnsafePointerView(p).getInt32() : 0;
}

/**
 * The descriptor of `conn`'s socket, found by its local port among this
 * process's sockets in /proc, or `undefined`.
 */
export function findSocketFd(conn: Deno.DatagramConn): number | undefined {
  const port = (conn.addr as Deno.NetAddr).port;
  const ours = new Map<string, number>();
  try {
    for (const entry of Deno.readDirSync("/proc/self/fd")) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(Deno.readLinkSync(`/proc/self/fd/${entry.name}`));
        if (m) ours.set(m[1], Number(entry.name));
      } catch {
        // closed meanwhile
      }
    }
    const found: number[] = [];
    for (const table of ["/proc/net/udp", "/proc/net/udp6"]) {
      let text = "";
      try {
        text = Deno.readTextFileSync(table);
      } catch {
        continue; // no IPv6
      }
      for (const line of text.split("\n").slice(1)) {
        const cols = line.trim().split(/\s+/);
        if (cols.length < 10) continue;
        const fd = ours.get(cols[9]);
        if (fd !== undefined && parseInt(cols[1].split(":")[1], 16) === port) found.push(fd);
      }
    }
    return found.length === 1 ? found[0] : undefined;
  } catch {
    return undefined;
  }
}

/** IPv6 text as Rust (and so Deno) prints it: RFC 5952, `::ffff:a.b.c.d` for mapped. */
export function formatIPv6(b: Uint8Array, at: number): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push((b[at + 2 * i] << 8) | b[at + 2 * i + 1]);
  if (words[0] === 0 && words[1] === 0 && words[2] === 0 && words[3] === 0 && words[4] === 0) {
    if (words[5] === 0xffff) {
      return `::ffff:${b[at + 12]}.${b[at + 13]}.${b[at + 14]}.${b[at + 15]}`;
    }
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen && j - i > 1) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (w: number) => w.toString(16);
  if (bestStart < 0) return words.map(hex).join(":");
  const head = words.slice(0, bestStart).map(hex).join(":");
  const tail = words.slice(bestStart + bestLen).map(hex).join(":");
  return `${head}::${tail}`;
}

/** Parses the IPv4 or IPv6 literal Deno reports into 16 bytes (IPv4 mapped), or null. */
export function parseIpBytes(text: string): Uint8Array | null {
  const out = new Uint8Array(16);
  const v4 = (s: string, at: number) => {
    const parts = s.split(".");
    if (parts.length !== 4) return false;
    for (let i = 0; i < 4; i++) {
      const n = Number(parts[i]);
      if (!/^\d{1,3}$/.test(parts[i]) || n > 255) return false;
      out[at + i] = n;
    }
    return true;
  };
  if (!text.includes(":")) {
    out[10] = out[11] = 0xff;
    return v4(text, 12) ? out : null;
  }
  const zone = text.indexOf("%");
  const addr = zone >= 0 ? text.slice(0, zone) : text;
  const halves = addr.split("::");
  if (halves.length > 2) return null;
  const words = (s: string): number[] | null => {
    if (s === "") return [];
    const res: number[] = [];
    const groups = s.split(":");
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i];
      if (i === groups.length - 1 && g.includes(".")) {
        const tmp = new Uint8Array(16);
        const save = out.slice();
        if (!v4(g, 12)) return null;
        tmp.set(out.subarray(12, 16), 0);
        out.set(save);
        res.push((tmp[0] << 8) | tmp[1], (tmp[2] << 8) | tmp[3]);
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      res.push(parseInt(g, 16));
    }
    return res;
  };
  const head = words(halves[0]);
  const tail = halves.length === 2 ? words(halves[1]) : [];
  if (!head || !tail) return null;
  const fill = 8 - head.length - tail.length;
  if (halves.length === 1 ? fill !== 0 : fill < 1) return null;
  const all = [...head, ...new Array(halves.length === 2 ? fill : 0).fill(0), ...tail];
  all.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}

/** Options of {@linkcode runFastUdp}, as serveUdp passes them. */
export interface FastUdpOptions {
  signal?: AbortSignal;
  maxDatagram: number;
  onError: (err: unknown, from: Deno.NetAddr | undefined) => void;
}

/** What {@linkcode openFastUdp} hands back: the duplicated descriptor and libc. */
export interface FastUdp {
  fd: number;
  lib: Libc;
}

/** Opens the fast path for `conn`, or `undefined` when it cannot be used here. */
export function openFastUdp(conn: Deno.DatagramConn): FastUdp | undefined {
  const lib = loadLibc();
  if (!lib) return undefined;
  const found = findSocketFd(conn);
  if (found === undefined) return undefined;
  const fd = lib.dup(found);
  return fd >= 0 ? { fd, lib } : undefined;
}

const encoder = new TextEncoder();

/** Buffers handed to the kernel by pointer, kept reachable while a loop runs. */
const PINNED = new Set<Uint8Array[]>();

/**
 * Serves `conn` with batched system calls until the signal aborts (then
 * closes `conn` and the duplicated descriptor). The handler sees the same
 * calls as in the portable loop: one datagram at a time, in order, with its
 * sender; an async handler is awaited before the next datagram is handed over.
 */
export async function runFastUdp(
  conn: Deno.DatagramConn,
  fast: FastUdp,
  handler: FastHandler,
  options: FastUdpOptions,
): Promise<void> {
  try {
    await serveBatched(conn, fast, handler, options);
  } finally {
    // Whatever happened, the duplicate goes: it alone would keep the port bound.
    fast.lib.close(fast.fd);
  }
}

type FastHandler = (
  data: Uint8Array,
  from: Deno.NetAddr,
) => Uint8Array | string | null | undefined | void | Promise<unknown>;

async function serveBatched(
  conn: Deno.DatagramConn,
  fast: FastUdp,
  handler: FastHandler,
  options: FastUdpOptions,
): Promise<void> {
  const { fd, lib } = fast;
  const { signal, onError } = options;
  const slot = options.maxDatagram + 1;
  const v6Socket = (conn.addr as Deno.NetAddr).hostname.includes(":");
  const nameLen = v6Socket ? 28 : 16;

  // Receive side: BATCH slots, each with its iovec and sockaddr.
  const data = new Uint8Array(BATCH * slot);
  const names = new Uint8Array((BATCH + 1) * NAME); // the last one: the first datagram's sender
  const recvIov = new Uint8Array(BATCH * IOVEC);
  const recvHdr = new Uint8Array(BATCH * MMSGHDR);
  // Send side: replies copied into one arena, each pointing at its sender's sockaddr.
  const arena = new Uint8Array(SEND_ARENA);
  const sendIov = new Uint8Array(BATCH * IOVEC);
  const sendHdr = new Uint8Array(BATCH * MMSGHDR);
  // The kernel reaches these buffers through raw pointers only: they must stay
  // reachable from JavaScript for as long as the loop runs, or the garbage
  // collector frees memory that recvmmsg then writes into.
  const pinned = [data, names, recvIov, recvHdr, arena, sendIov, sendHdr];
  PINNED.add(pinned);
  const ptr = (b: Uint8Array) => BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(b)));
  const pData = ptr(data), pNames = ptr(names), pArena = ptr(arena);
  const rIov = new DataView(recvIov.buffer), rHdr = new DataView(recvHdr.buffer);
  const sIov = new DataView(sendIov.buffer), sHdr = new DataView(sendHdr.buffer);
  const pRecvIov = ptr(recvIov), pSendIov = ptr(sendIov);
  for (let i = 0; i < BATCH; i++) {
    rIov.setBigUint64(i * IOVEC, pData + BigInt(i * slot), true);
    rIov.setBigUint64(i * IOVEC + 8, BigInt(slot), true);
    rHdr.setBigUint64(i * MMSGHDR, pNames + BigInt(i * NAME), true);
    rHdr.setBigUint64(i * MMSGHDR + 16, pRecvIov + BigInt(i * IOVEC), true);
    rHdr.setBigUint64(i * MMSGHDR + 24, 1n, true);
    sHdr.setBigUint64(i * MMSGHDR + 16, pSendIov + BigInt(i * IOVEC), true);
    sHdr.setBigUint64(i * MMSGHDR + 24, 1n, true);
  }
  const nameOf = (i: number) => pNames + BigInt(i * NAME);
  const names16 = new DataView(names.buffer);

  // Sender addresses: one frozen NetAddr per sockaddr, cached (bounded).
  const addrCache = new Map<string | number, Deno.NetAddr>();
  const addrOf = (at: number): Deno.NetAddr => {
    const family = names16.getUint16(at, true);
    const port = names16.getUint16(at + 2, false);
    let key: string | number;
    if (family === AF_INET) {
      key = names16.getUint32(at + 4, false) * 65536 + port;
    } else {
      key = `${formatIPv6(names, at + 8)}|${port}`;
    }
    let addr = addrCache.get(key);
    if (addr === undefined) {
      const hostname = family === AF_INET
        ? `${names[at + 4]}.${names[at + 5]}.${names[at + 6]}.${names[at + 7]}`
        : formatIPv6(names, at + 8);
      addr = Object.freeze(
        Object.assign(Object.create(null), { hostname, port, transport: "udp" }),
      ) as Deno.NetAddr;
      if (addrCache.size >= 4096) addrCache.clear();
      addrCache.set(key, addr);
    }
    return addr;
  };
  // The first datagram of each wake comes through Deno: write its sender as a sockaddr.
  const firstName = BATCH * NAME;
  const writeName = (from: Deno.NetAddr): boolean => {
    const ip = parseIpBytes(from.hostname);
    if (!ip) return false;
    names.fill(0, firstName, firstName + NAME);
    if (v6Socket) {
      names16.setUint16(firstName, AF_INET6, true);
      names16.setUint16(firstName + 2, from.port, false);
      names.set(ip, firstName + 8);
    } else {
      names16.setUint16(firstName, AF_INET, true);
      names16.setUint16(firstName + 2, from.port, false);
      names.set(ip.subarray(12), firstName + 4);
    }
    return true;
  };

  let pending = 0; // replies queued in sendHdr
  let arenaUsed = 0;
  const pendingFrom: Deno.NetAddr[] = [];
  const flush = () => {
    let sent = 0;
    while (sent < pending) {
      const n = lib.sendmmsg(fd, sendHdr.subarray(sent * MMSGHDR), pending - sent, MSG_DONTWAIT);
      if (n > 0) {
        sent += n;
        continue;
      }
      if (errno(lib) === EINTR) continue;
      // The send buffer is full (EAGAIN), or this datagram fails: hand it to Deno,
      // which waits for room or reports the error in its own words, and go on.
      const off = Number(sIov.getBigUint64(sent * IOVEC, true) - pArena);
      const len = Number(sIov.getBigUint64(sent * IOVEC + 8, true));
      const to = pendingFrom[sent];
      denoSend(arena.slice(off, off + len), to).catch((err) => {
        if (!signal?.aborted) onError(err, to);
      });
      sent++;
    }
    pending = 0;
    arenaUsed = 0;
  };
  const queue = (reply: unknown, nameAddr: bigint, from: Deno.NetAddr) => {
    if (reply === null || reply === undefined) return;
    let len: number;
    if (typeof reply === "string") {
      if (SEND_ARENA - arenaUsed < reply.length * 3) flush();
      len = encoder.encodeInto(reply, arena.subarray(arenaUsed)).written;
    } else if (reply instanceof Uint8Array) {
      if (SEND_ARENA - arenaUsed < reply.length) flush();
      arena.set(reply, arenaUsed);
      len = reply.length;
    } else {
      throw new TypeError("a UDP handler must return bytes, text or nothing");
    }
    const i = pending++;
    sIov.setBigUint64(i * IOVEC, pArena + BigInt(arenaUsed), true);
    sIov.setBigUint64(i * IOVEC + 8, BigInt(len), true);
    sHdr.setBigUint64(i * MMSGHDR, nameAddr, true);
    sHdr.setUint32(i * MMSGHDR + 8, nameLen, true);
    pendingFrom[i] = from;
    arenaUsed += len;
    if (pending === BATCH) flush();
  };
  const report = (err: unknown, from: Deno.NetAddr) => onError(err, from);
  /** Hands one datagram to the handler; a promise only when the handler is async. */
  const handle = (bytes: Uint8Array, from: Deno.NetAddr, nameAddr: bigint) => {
    let reply: unknown;
    try {
      reply = handler(bytes, from);
      if (!(reply instanceof Promise)) {
        queue(reply, nameAddr, from);
        return undefined;
      }
    } catch (err) {
      report(err, from);
      return undefined;
    }
    flush(); // keep replies in order around an async handler
    return (reply as Promise<unknown>).then((r) => queue(r, nameAddr, from)).catch((err) =>
      report(err, from)
    );
  };

  // Deno polls same-tick sends last-in first-out (20 unawaited sends arrive
  // reversed), and a batch runs many handlers in one tick. So while the loop
  // runs, the conn's own send() — which handlers may call, e.g. to broadcast —
  // goes out at once, in program order, after the replies already queued.
  const denoSend = conn.send.bind(conn);
  const nameCache = new WeakMap<object, Uint8Array>();
  const sockaddrFor = (addr: Deno.NetAddr): Uint8Array | undefined => {
    let name = nameCache.get(addr);
    if (name) return name;
    const ip = parseIpBytes(addr.hostname);
    if (!ip || addr.port < 1 || addr.port > 65535) return undefined;
    name = new Uint8Array(NAME);
    const view = new DataView(name.buffer);
    if (v6Socket) {
      view.setUint16(0, AF_INET6, true);
      name.set(ip, 8);
    } else if (ip[10] === 0xff && ip[11] === 0xff && ip.subarray(0, 10).every((b) => b === 0)) {
      view.setUint16(0, AF_INET, true);
      name.set(ip.subarray(12), 4);
    } else {
      return undefined; // an IPv6 address from an IPv4 socket: let Deno say why not
    }
    view.setUint16(2, addr.port, false);
    nameCache.set(addr, name);
    return name;
  };
  const orderedSend = (data: Uint8Array, addr: Deno.Addr): Promise<number> => {
    if (addr.transport === "udp") {
      const name = sockaddrFor(addr as Deno.NetAddr);
      if (name) {
        flush();
        const n = Number(lib.sendto(fd, data, BigInt(data.length), MSG_DONTWAIT, name, nameLen));
        if (n >= 0) return Promise.resolve(n);
      }
    }
    return denoSend(data, addr);
  };
  let patched = false;
  try {
    Object.defineProperty(conn, "send", { value: orderedSend, configurable: true, writable: true });
    patched = true;
  } catch {
    // a frozen conn: its sends keep Deno's order
  }

  const first = new Uint8Array(slot);
  const onAbort = () => {
    try {
      conn.close();
    } catch {
      // already closed
    }
  };
  if (signal?.aborted) onAbort();
  signal?.addEventListener("abort", onAbort, { once: true });
  let wakes = 0;
  let emptyDrains = 0;
  try {
    while (!signal?.aborted) {
      let got: [Uint8Array, Deno.Addr];
      try {
        got = await conn.receive(first);
      } catch (err) {
        if (signal?.aborted || err instanceof Deno.errors.BadResource) break;
        onError(err, undefined);
        continue;
      }
      const from = got[1] as Deno.NetAddr;
      if (writeName(from)) {
        const waiting = handle(got[0], from, nameOf(BATCH));
        if (waiting) await waiting;
        flush(); // answer it now: the peer's next request may then arrive while we drain
      } else {
        await sendPortable(conn, handler, got[0], from, onError);
      }
      // Drain what else is queued, a bounded number of batches per wake-up. With
      // one request at a time there never is anything: after a run of empty
      // drains, only every 8th wake-up looks (one system call saved per request).
      wakes++;
      if (emptyDrains >= 4 && (wakes & 7) !== 0) continue;
      for (let round = 0; round < 8 && !signal?.aborted; round++) {
        for (let i = 0; i < BATCH; i++) rHdr.setUint32(i * MMSGHDR + 8, NAME, true);
        const n = lib.recvmmsg(fd, recvHdr, BATCH, MSG_DONTWAIT, null);
        if (round === 0) emptyDrains = n > 0 ? 0 : Math.min(emptyDrains + 1, 4);
        if (n <= 0) break;
        for (let i = 0; i < n; i++) {
          const len = rHdr.getUint32(i * MMSGHDR + 56, true);
          const flags = rHdr.getInt32(i * MMSGHDR + 48, true);
          const size = flags & MSG_TRUNC ? slot : Math.min(len, slot);
          const start = i * slot;
          const waiting = handle(data.subarray(start, start + size), addrOf(i * NAME), nameOf(i));
          if (waiting) await waiting;
        }
        flush(); // the received slots are reused by the next recvmmsg
        if (n < BATCH) break;
      }
    }
  } finally {
    signal?.removeEventListener("abort", onAbort);
    onAbort();
    if (patched) delete (conn as { send?: unknown }).send;
    PINNED.delete(pinned); // only now: no system call of this loop can use them any more
  }
}

/** Answers one datagram through Deno (a sender address the fast path cannot encode). */
async function sendPortable(
  conn: Deno.DatagramConn,
  handler: (data: Uint8Array, from: Deno.NetAddr) => unknown,
  bytes: Uint8Array,
  from: Deno.NetAddr,
  onError: (err: unknown, from: Deno.NetAddr | undefined) => void,
): Promise<void> {
  try {
    let reply = handler(bytes, from);
    if (reply instanceof Promise) reply = await reply;
    if (reply === null || reply === undefined) return;
    const out = typeof reply === "string" ? encoder.encode(reply) : (reply as Uint8Array).slice();
    await conn.send(out, from);
  } catch (err) {
    onError(err, from);
  }
}
