/**
 * The TCP chat server's Linux fast path: its connections served through
 * epoll(7) and plain read(2)/write(2) calls over FFI, instead of one Deno
 * resource, one pending async op and one event-loop turn per socket. A chat
 * server holds many mostly idle connections and makes one small read per
 * line and one write per client per tick: Deno's per-op cost is most of the
 * CPU per copy and its per-socket state most of the memory per idle client
 * (bench/RESULTS.md, issue 18). Here one `epoll_wait` (a nonblocking FFI call
 * on Deno's blocking pool) wakes the loop for every ready socket at once, and
 * each read or write is one system call made in place.
 *
 * The listener the caller bound with Deno is kept as it is (its address,
 * its errors); its descriptor, found through /proc, is duplicated and Deno's
 * listener closed. Reading is driven by readiness, not by a pending read per
 * socket: {@linkcode FastConn.start} hands each chunk read (into one buffer
 * shared by every connection) to a callback, so an idle connection holds no
 * promise, no buffer and no suspended function; writing is
 * {@linkcode FastConn.write}, as on a `Deno.TcpConn`. When anything needed is missing
 * (not Linux, no FFI permission, no libc, the descriptor not found) or
 * `SOCKLAB_TCP=portable` is set, {@linkcode openFastTcp} returns `undefined`
 * and the server uses Deno's sockets.
 *
 * Sockets are non-blocking and registered edge-triggered: a socket is known
 * readable (writable) from an event until a call comes back short or with
 * EAGAIN; a read or write that cannot proceed waits for the next event.
 *
 * @example
 * ```ts ignore
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const fast = openFastTcp(listener); // undefined: use `listener` as before
 * const conn = await fast!.accept();
 * conn.start({ data: (bytes) => console.log(bytes.length), end: () => conn.close() });
 * await conn.write(new TextEncoder().encode("hello\n"));
 * fast!.close();
 * ```
 * @module
 */
import { formatIPv6 } from "../net/udp_fast.ts";
import { findSocketFd } from "../net/socket_fd.ts";
import { errnoOf, libcLoader, type LibcSymbols } from "../net/libc.ts";

const SYMBOLS = {
  epoll_create1: { parameters: ["i32"], result: "i32" },
  epoll_ctl: { parameters: ["i32", "i32", "i32", "buffer"], result: "i32" },
  epoll_wait: {
    parameters: ["i32", "buffer", "i32", "i32"],
    result: "i32",
    nonblocking: true,
  },
  eventfd: { parameters: ["u32", "i32"], result: "i32" },
  accept4: { parameters: ["i32", "buffer", "buffer", "i32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  dup: { parameters: ["i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
} as const;

type Libc = LibcSymbols<typeof SYMBOLS>;

const EPOLLIN = 0x001;
const EPOLLOUT = 0x004;
const EPOLLERR = 0x008;
const EPOLLHUP = 0x010;
const EPOLLRDHUP = 0x2000;
const EPOLLET = 1 << 31;
const EPOLL_CTL_ADD = 1;
const EPOLL_CLOEXEC = 0x80000;
const SOCK_NONBLOCK = 0x800;
const SOCK_CLOEXEC = 0x80000;
const EFD_NONBLOCK = 0x800;
const IPPROTO_TCP = 6;
const TCP_NODELAY = 1;
const EINTR = 4;
const EAGAIN = 11;
const EMFILE = 24;
const ENFILE = 23;
const EPIPE = 32;
const ECONNRESET = 104;
const ECONNABORTED = 103;
/** `struct epoll_event`: packed (12 bytes) on x86-64, 16 bytes on aarch64. */
const EVENT_SIZE = Deno.build.arch === "x86_64" ? 12 : 16;
const MAX_EVENTS = 256;
/** What is written to the eventfd that wakes the loop. */
const ONE = new BigUint64Array([1n]);
/** setsockopt values, allocated once (a connection costs no garbage). */
const TRUE = new Int32Array([1]);
const FALSE = new Int32Array([0]);
/** One `struct epoll_event` for epoll_ctl, reused. */
const EVENT = new Uint8Array(16);
/** The read buffer every connection shares (a chunk is handed over, then the buffer reused). */
const READ_BUFFER = 64 * 1024;
/** Chunks read from one socket per turn before the others get theirs. */
const READS_PER_TURN = 4;
/** Ready sockets in one wake-up from which the server counts as busy. */
const BUSY_EVENTS = 16;
/**
 * While busy, the loop looks for ready sockets at most this often (ms): what
 * arrives meanwhile is read together, one wake-up for many sockets and, at
 * high rates, more than one line per read, for at most this much latency.
 */
export const BUSY_READ_INTERVAL_MS = 5;

const openFastLibc = libcLoader(SYMBOLS);

function loadLibc(): Libc | null {
  try {
    if (Deno.env.get("SOCKLAB_TCP") === "portable") return null;
  } catch {
    // no env permission: nothing was asked
  }
  return openFastLibc();
}

/** The error Deno would raise for `code`, so callers tell "gone" from other failures alike. */
function osError(code: number): Error {
  const text = (what: string) => `${what} (os error ${code})`;
  if (code === EPIPE) return new Deno.errors.BrokenPipe(text("Broken pipe"));
  if (code === ECONNRESET) return new Deno.errors.ConnectionReset(text("Connection reset by peer"));
  if (code === ECONNABORTED) return new Deno.errors.ConnectionAborted(text("Connection aborted"));
  return new Error(text("I/O error"));
}

/**
 * The fast path for `listener`, or undefined when it cannot be used here (then
 * `listener` is untouched). On success Deno's listener is closed: the
 * returned {@linkcode FastListener} owns the socket.
 */
export function openFastTcp(listener: Deno.TcpListener): FastListener | undefined {
  const lib = loadLibc();
  if (!lib) return undefined;
  const found = findSocketFd("tcp", listener.addr.port);
  if (found === undefined) return undefined;
  const fd = lib.dup(found);
  if (fd < 0) return undefined;
  const fast = FastListener.open(lib, fd, listener.addr);
  if (fast === undefined) {
    lib.close(fd);
    return undefined;
  }
  listener.close();
  return fast;
}

/** What a started connection is told: each chunk read, and the end of the stream. */
export interface FastReader {
  /** A chunk read: a view of the shared buffer, valid only during the call. */
  data(bytes: Uint8Array): void;
  /** End of stream (undefined), or the read error. Called once; nothing is read after. */
  end(error?: Error): void;
}

/** Accepts and serves connections through one epoll instance (see the module doc). */
export class FastListener {
  readonly addr: Deno.NetAddr;
  readonly #lib: Libc;
  readonly #fd: number;
  readonly #epfd: number;
  readonly #wake: number;
  readonly #conns = new Map<number, FastConn>();
  readonly #events = new Uint8Array(EVENT_SIZE * MAX_EVENTS);
  readonly #buffer = new Uint8Array(READ_BUFFER);
  /** accept4's `sockaddr` and its length, reused. */
  readonly #name = new Uint8Array(128);
  readonly #nameLenBytes = new Uint8Array(4);
  readonly #nameLen = new DataView(this.#nameLenBytes.buffer);
  readonly #queue: FastConn[] = [];
  /** Connections with more to read than one turn took (or held back meanwhile). */
  readonly #again = new Set<FastConn>();
  #waiting: { resolve: (c: FastConn) => void; reject: (e: Error) => void } | undefined;
  #hold: () => Promise<void> | undefined = () => undefined;
  #holding = false;
  /** The loop waits in epoll_wait with no time-out; a write to `#wake` gets it out. */
  #blocked = false;
  #kicked = false;
  #closed = false;
  #retry: ReturnType<typeof setTimeout> | undefined;
  readonly #loop: Promise<void>;

  private constructor(lib: Libc, fd: number, epfd: number, wake: number, addr: Deno.NetAddr) {
    this.#lib = lib;
    this.#fd = fd;
    this.#epfd = epfd;
    this.#wake = wake;
    this.addr = addr;
    this.#loop = this.#run();
  }

  /** Sets up epoll for the listening descriptor `fd`; undefined when the kernel refuses. */
  static open(lib: Libc, fd: number, addr: Deno.NetAddr): FastListener | undefined {
    const epfd = lib.epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0) return undefined;
    const wake = lib.eventfd(0, EFD_NONBLOCK | EPOLL_CLOEXEC);
    if (wake < 0 || !watch(lib, epfd, fd, EPOLLIN | EPOLLET) || !watch(lib, epfd, wake, EPOLLIN)) {
      if (wake >= 0) lib.close(wake);
      lib.close(epfd);
      return undefined;
    }
    return new FastListener(lib, fd, epfd, wake, { ...addr });
  }

  /** The next connection; rejects with BadResource once the listener is closed. */
  accept(): Promise<FastConn> {
    const next = this.#queue.shift();
    if (next !== undefined) return Promise.resolve(next);
    if (this.#closed) return Promise.reject(new Deno.errors.BadResource("listener closed"));
    return new Promise((resolve, reject) => (this.#waiting = { resolve, reject }));
  }

  /**
   * Reads nothing while `wait()` returns a promise (a server's read gate:
   * senders then wait in TCP); reading goes on when it settles.
   */
  holdReadsWhile(wait: () => Promise<void> | undefined): void {
    this.#hold = wait;
  }

  /** Closes the listener and every connection it accepted; the loop ends. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#retry);
    this.#waiting?.reject(new Deno.errors.BadResource("listener closed"));
    this.#waiting = undefined;
    this.#queue.length = 0;
    for (const c of this.#conns.values()) c.close(); // (each forgets itself)
    this.#lib.close(this.#fd);
    this.#lib.write(this.#wake, ONE, 8n); // wakes the loop to end it
  }

  /** Resolves once the loop has ended (after close). */
  get done(): Promise<void> {
    return this.#loop;
  }

  /** Forgets a connection that closed itself. */
  forget(c: FastConn, fd: number): void {
    this.#conns.delete(fd);
    this.#again.delete(c);
  }

  /**
   * Reads what `c` has (a few chunks at most, then the others get a turn),
   * unless reads are held back; returns at once when there is nothing.
   */
  service(c: FastConn): void {
    if (this.#closed) return;
    if (this.#held()) {
      this.#again.add(c);
      return;
    }
    for (let i = 0; i < READS_PER_TURN; i++) {
      if (!c.readChunk(this.#buffer)) return;
    }
    // More may be waiting, with no new edge to tell: after the others, on the loop's next turn.
    this.#again.add(c);
    this.#kick();
  }

  /** Gets the loop out of a wait with no time-out, so it reads `#again` soon. */
  #kick(): void {
    if (!this.#blocked || this.#kicked) return;
    this.#kicked = true;
    this.#lib.write(this.#wake, ONE, 8n);
  }

  /** True while the read gate is closed; reading resumes when it opens. */
  #held(): boolean {
    if (this.#holding) return true;
    const wait = this.#hold();
    if (wait === undefined) return false;
    this.#holding = true;
    wait.then(() => {
      this.#holding = false;
      this.#serviceAgain();
    });
    return true;
  }

  #serviceAgain(): void {
    const again = [...this.#again];
    this.#again.clear();
    for (const c of again) this.service(c);
  }

  async #run(): Promise<void> {
    const view = new DataView(this.#events.buffer);
    const dataAt = EVENT_SIZE === 12 ? 4 : 8;
    try {
      while (!this.#closed) {
        // Connections with more to read: look at new events without waiting, then read on.
        const timeout = this.#again.size > 0 && !this.#holding ? 0 : -1;
        this.#blocked = timeout < 0;
        const n = await this.#lib.epoll_wait(this.#epfd, this.#events, MAX_EVENTS, timeout);
        this.#blocked = false;
        // n < 0: interrupted by a signal (errno is the pool thread's): wait again.
        for (let i = 0; i < n && !this.#closed; i++) {
          const mask = view.getUint32(i * EVENT_SIZE, true);
          const fd = view.getUint32(i * EVENT_SIZE + dataAt, true);
          if (fd === this.#fd) this.#acceptAll();
          else if (fd === this.#wake) this.#drainWake();
          else this.#conns.get(fd)?.ready(mask);
        }
        if (!this.#holding) this.#serviceAgain();
        if (n >= BUSY_EVENTS && !this.#closed) await pause(BUSY_READ_INTERVAL_MS);
      }
    } finally {
      this.#lib.close(this.#wake);
      this.#lib.close(this.#epfd);
    }
  }

  #drainWake(): void {
    this.#lib.read(this.#wake, new BigUint64Array(1), 8n);
    this.#kicked = false;
  }

  /** Takes every pending connection (edge-triggered: until EAGAIN). */
  #acceptAll(): void {
    const lib = this.#lib;
    const name = this.#name;
    const len = this.#nameLen;
    while (!this.#closed) {
      len.setUint32(0, name.length, true);
      const fd = lib.accept4(this.#fd, name, this.#nameLenBytes, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        const code = errnoOf(lib);
        if (code === EINTR || code === ECONNABORTED) continue;
        // Out of descriptors: try again in a while (no new edge comes for those waiting).
        if (code === EMFILE || code === ENFILE) {
          this.#retry = setTimeout(() => this.#acceptAll(), 100);
        }
        return;
      }
      if (!watch(lib, this.#epfd, fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET)) {
        lib.close(fd);
        continue;
      }
      const conn = new FastConn(lib, fd, peerAddress(name), this);
      this.#conns.set(fd, conn);
      const waiting = this.#waiting;
      this.#waiting = undefined;
      if (waiting) waiting.resolve(conn);
      else this.#queue.push(conn);
    }
  }
}

/** One accepted connection (see the module doc). */
export class FastConn {
  readonly remoteAddr: Deno.NetAddr;
  readonly #lib: Libc;
  readonly #fd: number;
  readonly #owner: FastListener;
  #reader: FastReader | undefined;
  #readable = true;
  /** The peer's FIN (or an error) was signalled: no further edge will come, read to the end. */
  #hangup = false;
  #writable = true;
  #paused = false;
  #closed = false;
  #writing: Pending<number> | undefined;

  constructor(lib: Libc, fd: number, remoteAddr: Deno.NetAddr, owner: FastListener) {
    this.#lib = lib;
    this.#fd = fd;
    this.remoteAddr = remoteAddr;
    this.#owner = owner;
  }

  /** Starts handing what arrives to `reader` (see {@linkcode FastReader}). */
  start(reader: FastReader): void {
    this.#reader = reader;
    this.#owner.service(this);
  }

  /** Stops reading this connection until {@linkcode resume} (its data waits in the kernel). */
  pause(): void {
    this.#paused = true;
  }

  /** Reads again after {@linkcode pause}, starting with what waited. */
  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#owner.service(this);
  }

  /** Writes some of `p` (at least one byte, waiting for room if need be). */
  write(p: Uint8Array): Promise<number> {
    if (this.#closed) return Promise.reject(new Deno.errors.BadResource("connection closed"));
    if (this.#writable) {
      const r = this.#writeNow(p);
      if (r !== undefined) return r instanceof Error ? Promise.reject(r) : Promise.resolve(r);
    }
    return new Promise((resolve, reject) => (this.#writing = { data: p, resolve, reject }));
  }

  /** Writes some of `p` now: bytes written, or undefined when there is no room; throws on failure. */
  tryWrite(p: Uint8Array): number | undefined {
    if (this.#closed) throw new Deno.errors.BadResource("connection closed");
    if (!this.#writable || this.#writing !== undefined) return undefined;
    const r = this.#writeNow(p);
    if (r instanceof Error) throw r;
    return r;
  }

  /** TCP_NODELAY on or off. */
  setNoDelay(on = true): void {
    this.#lib.setsockopt(this.#fd, IPPROTO_TCP, TCP_NODELAY, on ? TRUE : FALSE, 4);
  }

  /** Closes the socket; a write waiting fails with BadResource; nothing more is read. */
  close(): void {
    if (this.#closed) throw new Deno.errors.BadResource("connection already closed");
    this.#closed = true;
    this.#reader = undefined;
    this.#owner.forget(this, this.#fd);
    this.#lib.close(this.#fd);
    this.#writing?.reject(new Deno.errors.BadResource("connection closed"));
    this.#writing = undefined;
  }

  /** An epoll event for this socket: read what came, finish a write that waited. */
  ready(mask: number): void {
    if (mask & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) this.#hangup = true;
    if (mask & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
      this.#readable = true;
      this.#owner.service(this);
    }
    if (this.#closed || !(mask & (EPOLLOUT | EPOLLHUP | EPOLLERR))) return;
    this.#writable = true;
    const waiting = this.#writing;
    if (waiting === undefined) return;
    const r = this.#writeNow(waiting.data);
    if (r === undefined) return;
    this.#writing = undefined;
    if (r instanceof Error) waiting.reject(r);
    else waiting.resolve(r);
  }

  /**
   * One read(2) into `buffer`, handed to the reader; false when there is
   * nothing more to read now (or the stream ended, or reading is paused).
   */
  readChunk(buffer: Uint8Array): boolean {
    const reader = this.#reader;
    if (reader === undefined || this.#paused || !this.#readable || this.#closed) return false;
    const n = Number(this.#lib.read(this.#fd, buffer, BigInt(buffer.length)));
    if (n > 0) {
      // A short read emptied the socket: the next data brings a new edge,
      // unless the FIN came with this data (its edge is spent): read on to the 0.
      if (n < buffer.length && !this.#hangup) this.#readable = false;
      reader.data(buffer.subarray(0, n));
      return this.#readable;
    }
    const code = n === 0 ? 0 : errnoOf(this.#lib);
    if (code === EINTR) return true;
    if (code === EAGAIN) {
      this.#readable = false;
      return false;
    }
    this.#reader = undefined;
    reader.end(n === 0 ? undefined : osError(code));
    return false;
  }

  /** One write(2): bytes written, an Error, or undefined for "no room now". */
  #writeNow(p: Uint8Array): number | Error | undefined {
    while (true) {
      const n = Number(this.#lib.write(this.#fd, p, BigInt(p.length)));
      if (n >= 0) {
        if (n < p.length) this.#writable = false;
        return n > 0 ? n : undefined;
      }
      const code = errnoOf(this.#lib);
      if (code === EINTR) continue;
      if (code === EAGAIN) {
        this.#writable = false;
        return undefined;
      }
      return osError(code);
    }
  }
}

interface Pending<T> {
  data: Uint8Array;
  resolve: (v: T) => void;
  reject: (e: Error) => void;
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Registers `fd` with `epfd` for `events`, its descriptor as the event's data. */
function watch(lib: Libc, epfd: number, fd: number, events: number): boolean {
  const view = new DataView(EVENT.buffer);
  view.setUint32(0, events >>> 0, true);
  view.setUint32(EVENT_SIZE === 12 ? 4 : 8, fd, true);
  return lib.epoll_ctl(epfd, EPOLL_CTL_ADD, fd, EVENT) === 0;
}

/** The peer of an accepted socket from its `sockaddr`, as Deno reports it. */
function peerAddress(name: Uint8Array): Deno.NetAddr {
  const family = name[0] | (name[1] << 8);
  const port = (name[2] << 8) | name[3];
  const hostname = family === 2
    ? `${name[4]}.${name[5]}.${name[6]}.${name[7]}`
    : formatIPv6(name, 8);
  return { transport: "tcp", hostname, port };
}
