/**
 * nc's zero-copy data path on Linux, for the bulk transfer it is measured on:
 * a regular file on stdin goes to the socket with `sendfile(2)` (the kernel
 * copies page cache to socket buffers once; read + write copy twice), and
 * the socket goes to a regular file (or /dev/null) on stdout with
 * `splice(2)` through a pipe (socket pages move into the pipe by reference,
 * then are copied once into the file). One loop, like socat's or nc's,
 * `poll(2)`s the socket for both directions, so an echoing peer can never
 * stall it; it hands the event loop a turn every few milliseconds, so
 * SIGINT/SIGTERM, `-w` and the summary behave as on the portable path.
 *
 * It is used only where every piece is there (Linux x86-64/aarch64, glibc,
 * the FFI permission, the socket's descriptor found in /proc, stdin a regular
 * file, /dev/null or nothing, stdout a regular file or /dev/null);
 * `SOCKLAB_NC=portable` turns it off. Otherwise session.ts's asynchronous
 * loops run, as before.
 *
 * @example
 * ```ts ignore
 * import { openZeroCopy } from "./zero_copy.ts";
 * const zc = openZeroCopy(conn, { input: 0, output: 1 });
 * if (zc) result = await zc.run(options);
 * ```
 * @module
 */
import { after } from "../cli/timer.ts";
import { errnoOf, libcLoader, type LibcSymbols } from "../net/libc.ts";

const SYMBOLS = {
  sendfile: { parameters: ["i32", "i32", "pointer", "usize"], result: "isize" },
  splice: { parameters: ["i32", "pointer", "i32", "pointer", "usize", "u32"], result: "isize" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  send: { parameters: ["i32", "buffer", "usize", "i32"], result: "isize" },
  pipe2: { parameters: ["buffer", "i32"], result: "i32" },
  fcntl: { parameters: ["i32", "i32", "i32"], result: "i32" },
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32" },
  shutdown: { parameters: ["i32", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
} as const;

/** The libc functions the loop calls. */
export type ZeroCopyLibc = LibcSymbols<typeof SYMBOLS>;

const EINTR = 4;
const EAGAIN = 11;
const EINVAL = 22;
const EPIPE = 32;
const ECONNRESET = 104;
const POLLIN = 0x1;
const POLLOUT = 0x4;
const SPLICE_F_MOVE = 1;
const SPLICE_F_NONBLOCK = 2;
const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;
const F_SETPIPE_SZ = 1031;
const SHUT_WR = 1;
/** Bytes moved per system call: large, so the per-call cost vanishes at GB/s. */
export const CHUNK = 1 << 20;
const CHUNK_BIG = BigInt(CHUNK);
/** The loop gives the event loop a turn at least this often (ms). */
const YIELD_MS = 20;

const loadLibc = libcLoader(SYMBOLS);

/**
 * `SOCKLAB_NC`: "portable" turns the zero-copy path off; "read" keeps it but
 * sends the input with read + send, as for a device sendfile refuses (what
 * older kernels do for /dev/zero), so that path can be tested anywhere.
 */
export function zeroCopyMode(): "zero-copy" | "read" | "portable" {
  try {
    const mode = Deno.env.get("SOCKLAB_NC");
    return mode === "portable" || mode === "read" ? mode : "zero-copy";
  } catch {
    return "zero-copy"; // no env permission: nothing was asked
  }
}

/** libc's functions, or null where the zero-copy path cannot run (or SOCKLAB_NC=portable). */
export function zeroCopyLibc(): ZeroCopyLibc | null {
  return zeroCopyMode() === "portable" ? null : loadLibc();
}

/** A gone peer (EPIPE, ECONNRESET) while sending ends the sending only. */
export class ZeroCopyError extends Error {
  constructor(readonly side: "send" | "receive", readonly code: number) {
    super(`${side === "send" ? "cannot send" : "cannot receive"}: errno ${code}`);
    this.name = "ZeroCopyError";
  }
}

/** What the loop needs besides the socket: where data comes from and goes. */
export interface ZeroCopyEnds {
  /** stdin's descriptor (a regular file or a non-blocking character device), or null for none (-d). */
  input: number | null;
  /** stdout's descriptor (a regular file or /dev/null). */
  output: number;
}

/** Progress of a running transfer. */
export interface ZeroCopyState {
  sent: number;
  received: number;
  sendDone: boolean;
  recvDone: boolean;
}

/**
 * The two directions over one socket descriptor, each step a non-blocking
 * system call: {@linkcode ZeroCopy.step} moves what can move now.
 */
export class ZeroCopy {
  readonly state: ZeroCopyState = { sent: 0, received: 0, sendDone: false, recvDone: false };
  readonly #pipe: [number, number];
  readonly #pollfd = new Uint8Array(8);
  readonly #buf = new Uint8Array(CHUNK);
  #useSendfile: boolean;
  /** Read from a device but not yet sent (the read + send path). */
  #unsent = new Uint8Array(0);

  constructor(
    readonly c: ZeroCopyLibc,
    readonly fd: number,
    readonly ends: ZeroCopyEnds,
    options: { sendfile?: boolean } = {},
  ) {
    this.#useSendfile = options.sendfile ?? true;
    const p = new Int32Array(2);
    if (c.pipe2(new Uint8Array(p.buffer), O_NONBLOCK | O_CLOEXEC) !== 0) {
      throw new Error(`pipe2 failed: errno ${errnoOf(c)}`);
    }
    c.fcntl(p[1], F_SETPIPE_SZ, CHUNK); // a bigger pipe, fewer calls (best effort)
    this.#pipe = [p[0], p[1]];
    new DataView(this.#pollfd.buffer).setInt32(0, fd, true);
    if (ends.input === null) this.state.sendDone = true;
  }

  /** Waits up to `ms` for the socket to be ready for what is left to do; true when it is. */
  wait(ms: number): boolean {
    const want = (this.state.recvDone ? 0 : POLLIN) | (this.state.sendDone ? 0 : POLLOUT);
    const view = new DataView(this.#pollfd.buffer);
    view.setInt16(4, want, true);
    view.setInt16(6, 0, true);
    return this.c.poll(this.#pollfd, 1n, Math.max(0, Math.ceil(ms))) > 0;
  }

  /** Moves what can move without blocking; the number of bytes moved. */
  step(): number {
    return (this.state.recvDone ? 0 : this.#receive()) + (this.state.sendDone ? 0 : this.#send());
  }

  /** Socket to output: splice into the pipe, then the pipe into the output. */
  #receive(): number {
    const n = Number(
      this.c.splice(
        this.fd,
        null,
        this.#pipe[1],
        null,
        CHUNK_BIG,
        SPLICE_F_MOVE | SPLICE_F_NONBLOCK,
      ),
    );
    if (this.#ended(n, "receive")) return 0;
    for (let left = n; left > 0;) {
      const m = Number(
        this.c.splice(this.#pipe[0], null, this.ends.output, null, BigInt(left), SPLICE_F_MOVE),
      );
      if (m <= 0) {
        if (m < 0 && errnoOf(this.c) === EINTR) continue;
        throw new Error(`cannot write the output: errno ${errnoOf(this.c)}`);
      }
      left -= m;
    }
    this.state.received += n;
    return n;
  }

  /**
   * For a call's result `n`: true when nothing moved (0 = that direction is
   * done; EAGAIN/EINTR = nothing now); throws ZeroCopyError for a failure.
   */
  #ended(n: number, side: "send" | "receive"): boolean {
    if (n > 0) return false;
    const e = n < 0 ? errnoOf(this.c) : 0;
    if (e === EAGAIN || e === EINTR) return true;
    if (side === "send") this.state.sendDone = true;
    else if (n === 0) this.state.recvDone = true;
    if (n < 0) throw new ZeroCopyError(side, e);
    return true;
  }

  /** Input to socket: sendfile, or read + send for a device sendfile refuses. */
  #send(): number {
    let n: number;
    if (this.#useSendfile) {
      n = Number(this.c.sendfile(this.fd, this.ends.input!, null, CHUNK_BIG));
      if (n < 0 && errnoOf(this.c) === EINVAL && this.state.sent === 0) {
        this.#useSendfile = false;
        return this.#send();
      }
    } else {
      n = this.#readAndSend();
    }
    if (this.#ended(n, "send")) return 0;
    this.state.sent += n;
    return n;
  }

  /**
   * Sends what the last read left, or reads a chunk of the input (a device:
   * reading never blocks) and sends what the socket takes now. Never waits:
   * a peer that stops reading leaves the rest for the next step, so the loop
   * still hands the event loop its turns (signals, -w).
   */
  #readAndSend(): number {
    if (this.#unsent.length === 0) {
      const n = Number(this.c.read(this.ends.input!, this.#buf, CHUNK_BIG));
      if (n <= 0) return n;
      this.#unsent = this.#buf.subarray(0, n);
    }
    const m = Number(this.c.send(this.fd, this.#unsent, BigInt(this.#unsent.length), 0));
    if (m > 0) this.#unsent = this.#unsent.subarray(m);
    return m;
  }

  /** Shuts down the sending side (half-close). */
  shutdownWrite(): void {
    this.c.shutdown(this.fd, SHUT_WR);
  }

  /** Closes the pipe (the socket belongs to the caller's conn). */
  close(): void {
    this.c.close(this.#pipe[0]);
    this.c.close(this.#pipe[1]);
  }
}

/** True for the errors that mean the peer went away (not our failure). */
export function peerGone(err: ZeroCopyError): boolean {
  return err.code === EPIPE || err.code === ECONNRESET;
}

/** Lets the event loop run once (signals, timers), without Node's setTimeout. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => after(0, resolve));
}

/** How often (ms) the loop yields. */
export const YIELD_EVERY_MS = YIELD_MS;
