/**
 * The chat fan-out load generator behind `socklab bench chat` and
 * bench/chat.ts: N TCP clients join a chat server, then send `rate` messages
 * per second between them (round-robin) for a while; every copy the server
 * delivers is counted and timed from its send. Each message carries its send
 * time, so no per-message state is kept and memory stays bounded.
 *
 * Two dialects, so the same load drives socklab and its peer:
 * ```text
 * socklab (exercise 4b):  -> signin NAME   <- OK signed in as NAME
 *                         -> chat TEXT     <- Msg NAME says: TEXT   (every member, sender too)
 * ncat --chat:            -> TEXT          <- <userN> TEXT          (every other client)
 * TEXT = "~b~" SEND-TIME-µs "~" padding    (a probe before the run: "~p~" ID "~")
 * ```
 *
 * @example
 * ```ts ignore
 * import { runChatLoad } from "./chat.ts";
 * const r = await runChatLoad({ hostname: "127.0.0.1", port: 5600 }, {
 *   clients: 200, rate: 100, durationMs: 5000,
 * });
 * console.log(r.deliveries / (r.elapsedMs / 1000), r.latency.percentile(99));
 * ```
 * @module
 */
import { FailError } from "../cli/errors.ts";
import { printableText } from "../cli/printable.ts";
import { formatHostPort, type HostPort } from "../net/address.ts";
import { closeQuietly, connectTcp, isGone, writeAll } from "../net/tcp.ts";
import { LatencyHistogram } from "./stats.ts";

/** The servers the generator can talk to. */
export type ChatDialect = "socklab" | "ncat";

/** Default message text size in bytes. */
export const DEFAULT_MESSAGE_SIZE = 64;
/** Default wait for late deliveries after the last send. */
export const DEFAULT_DRAIN_MS = 2000;
/**
 * Default limit on connecting and signing in every client: 15 s, or 100 ms per
 * client when more (ncat --chat takes about 80 ms to accept each one).
 */
export function defaultReadyTimeoutMs(clients: number): number {
  return Math.max(15_000, clients * 100);
}
/**
 * Bytes each client reads at a time. 16, 32 and 64 KiB cost the same CPU per
 * delivery; 256 KiB cost a third more (200 clients' buffers no longer fit
 * the caches).
 */
const READ_SIZE = 64 * 1024;
/** How often the sender wakes up to send what is due. */
const SEND_TICK_MS = 5;
/**
 * Clients connecting at the same time, per dialect. A connection beyond the
 * server's accept queue looks established to the client but may never be
 * accepted: ncat --chat loses half of 200 clients in batches of 64 (its queue
 * is short and it accepts slowly), none in batches of 10.
 */
const CONNECT_BATCH: Record<ChatDialect, number> = { socklab: 64, ncat: 10 };

/** Options of {@linkcode runChatLoad}. */
export interface ChatLoadOptions {
  /** Clients to connect (each signs in as NAME-PREFIX + index). */
  clients: number;
  /** Chat messages per second, all clients together (0: the clients stay idle). */
  rate: number;
  /**
   * Instead of `rate`: lines per second EACH client sends, all clients on the
   * same ticks (bursts of one line per client), each client's first line at once.
   */
  perClientRate?: number;
  /** How long to send. */
  durationMs: number;
  /** The server's protocol (default `"socklab"`). */
  dialect?: ChatDialect;
  /** Bytes of text per message (default {@linkcode DEFAULT_MESSAGE_SIZE}; at least the marker). */
  size?: number;
  /** Client names are this plus an index (default `"bench"`). */
  namePrefix?: string;
  /** Wait for late deliveries after the last send (default {@linkcode DEFAULT_DRAIN_MS}). */
  drainMs?: number;
  /** Limit on connecting and signing in every client (default {@linkcode defaultReadyTimeoutMs}). */
  readyTimeoutMs?: number;
  /** Ends the run early (Ctrl-C). */
  signal?: AbortSignal;
  /** Called once every client is connected and has seen a probe (before any load). */
  onReady?: () => void | Promise<void>;
}

/** Counters of a run, readable while it goes. */
export interface ChatLoadCounters {
  /** Clients connected (and signed in). */
  connected: number;
  /** Messages sent. */
  messages: number;
  /** Copies received by the clients. */
  deliveries: number;
}

/** What a run measured. */
export interface ChatLoadResult extends ChatLoadCounters {
  /** Deliveries each message should make (clients, or clients − 1 for ncat). */
  fanout: number;
  /** messages × fanout. */
  expected: number;
  /** Copies never received within the drain wait. */
  lost: number;
  /** Time to connect and sign in every client. */
  readyMs: number;
  /** From the first send to the last delivery (or the end of sending). */
  elapsedMs: number;
  /** Delivery latency in µs, from the send to the arrival of each copy. */
  latency: LatencyHistogram;
  /** Whether the signal cut the run short. */
  interrupted: boolean;
  /** `Date.now()` when the measurement ended, before the clients left. */
  endedAt: number;
}

const encoder = new TextEncoder();
const BENCH_MARK = "~b~";
const PROBE_MARK = "~p~";

/** The text of a load message sent at `sentUs`, padded to `size` bytes. */
export function messageText(sentUs: number, size: number): string {
  const head = `${BENCH_MARK}${Math.round(sentUs)}~`;
  return head + "x".repeat(Math.max(0, size - head.length));
}

/** The send time (µs) carried by a delivered line, or undefined when it carries none. */
export function sentTimeOf(line: string): number | undefined {
  const at = line.indexOf(BENCH_MARK);
  if (at < 0) return undefined;
  const end = line.indexOf("~", at + BENCH_MARK.length);
  if (end < 0) return undefined;
  const t = Number(line.slice(at + BENCH_MARK.length, end));
  return Number.isFinite(t) && end > at + BENCH_MARK.length ? t : undefined;
}

/** The probe id a line carries, or undefined. */
export function probeOf(line: string): number | undefined {
  const m = /~p~(\d+)~/.exec(line);
  return m ? Number(m[1]) : undefined;
}

/** What {@linkcode scanLines} reports. */
export interface LineVisitor {
  /** A load message delivered, with the send time it carries (µs). */
  delivery(sentUs: number): void;
  /** Any other whole line (CR LF stripped). */
  line(text: string): void;
}

/** Longest line a client keeps while waiting for its end. */
export const MAX_LINE = 64 * 1024;

const NL = 10;
const CR = 13;
const TILDE = 126;
const DIGIT_0 = 48;
/** Send times of up to this many digits are exact integers when parsed digit by digit. */
const MAX_FAST_DIGITS = 15;
/** Decodes whole lines; a BOM is kept, as in the middle of a stream. */
const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * The send time (µs) written in `text` from `from` up to the first `~` before
 * `nl`, or NaN when there is none, as {@linkcode sentTimeOf} reads it. When
 * `bytes` holds the same characters as bytes from `offset` (the text is
 * ASCII), plain digits are parsed from the bytes by hand, else (or for
 * anything but plain digits) through `Number()`.
 */
function sentTimeIn(
  text: string,
  from: number,
  nl: number,
  bytes: Uint8Array | undefined,
  offset: number,
): number {
  if (bytes) {
    const first = offset + from;
    const stop = offset + nl;
    let v = 0;
    let i = first;
    for (; i < stop; i++) {
      const d = bytes[i] - DIGIT_0;
      if (d < 0 || d > 9) break;
      v = v * 10 + d;
    }
    if (i < stop && bytes[i] === TILDE && i > first && i - first <= MAX_FAST_DIGITS) return v;
  }
  const end = text.indexOf("~", from);
  if (end <= from || end >= nl) return NaN;
  const t = Number(text.slice(from, end));
  return Number.isFinite(t) ? t : NaN;
}

/**
 * Reports every whole line of `bytes[from, end)` to `visitor` and returns
 * where the unfinished rest starts (`end` when there is none).
 *
 * The whole lines are decoded together into one string, because in V8 a
 * string's `indexOf` (memchr) finds a line end or the marker several times
 * faster than a byte loop or `Uint8Array.prototype.indexOf` (a runtime call
 * of about 40 ns). No string is made per load message: when the lines are
 * ASCII (they are, from either server) the send time's digits are read from
 * the bytes, at the same index. Only other lines are sliced out.
 */
export function scanLines(
  bytes: Uint8Array,
  visitor: LineVisitor,
  from = 0,
  end = bytes.length,
): number {
  const last = end > from ? bytes.lastIndexOf(NL, end - 1) : -1;
  if (last < from) return from;
  const text = utf8.decode(bytes.subarray(from, last + 1));
  // Same length and no U+FFFD: every byte was one ASCII character.
  const ascii = text.length === last + 1 - from && text.indexOf("\uFFFD") < 0;
  scanText(text, visitor, ascii ? bytes : undefined, from);
  return last + 1;
}

/** Reports the lines of `text`, which ends with a line end. */
function scanText(
  text: string,
  visitor: LineVisitor,
  bytes: Uint8Array | undefined,
  offset: number,
): void {
  let start = 0;
  let mark = text.indexOf(BENCH_MARK);
  for (let nl = text.indexOf("\n"); nl >= 0; start = nl + 1, nl = text.indexOf("\n", start)) {
    if (mark >= 0 && mark < start) mark = text.indexOf(BENCH_MARK, start);
    if (mark >= 0 && mark < nl) {
      const t = sentTimeIn(text, mark + BENCH_MARK.length, nl, bytes, offset);
      if (t === t) { // not NaN
        visitor.delivery(t);
        continue;
      }
    }
    visitor.line(text.slice(start, nl > start && text.charCodeAt(nl - 1) === CR ? nl - 1 : nl));
  }
}

/**
 * A client's receive buffer: reads go straight into {@linkcode space}, then
 * {@linkcode filled} reports the whole lines and keeps the unfinished one at
 * the front for the next read. A line longer than {@linkcode MAX_LINE} is
 * dropped up to its end, not buffered.
 */
export class LineBuffer {
  readonly #buf: Uint8Array;
  /** Bytes of an unfinished line at the front of #buf. */
  #kept = 0;
  /** Inside a runaway line: skip up to its end. */
  #dropping = false;

  /** `readSize`: room for each read, beside up to {@linkcode MAX_LINE} kept bytes. */
  constructor(readSize = 64 * 1024) {
    this.#buf = new Uint8Array(readSize + MAX_LINE);
  }

  /** Where the next read goes. */
  space(): Uint8Array {
    return this.#buf.subarray(this.#kept);
  }

  /** Reports the lines completed by the `n` bytes just read into {@linkcode space}. */
  filled(n: number, visitor: LineVisitor): void {
    const buf = this.#buf;
    const end = this.#kept + n;
    let from = 0;
    if (this.#dropping) {
      const nl = buf.indexOf(NL, this.#kept);
      if (nl < 0 || nl >= end) {
        this.#kept = 0;
        return;
      }
      this.#dropping = false;
      from = nl + 1;
    }
    const rest = scanLines(buf, visitor, from, end);
    const kept = end - rest;
    if (kept > MAX_LINE) {
      this.#kept = 0;
      this.#dropping = true;
    } else {
      if (rest > 0 && kept > 0) buf.copyWithin(0, rest, end);
      this.#kept = kept;
    }
  }
}

/** The line a client sends to say `text` in `dialect`. */
export function chatLine(dialect: ChatDialect, text: string): string {
  return dialect === "socklab" ? `chat ${text}\n` : `${text}\n`;
}

/** One connected client: a batching writer and a reader that counts deliveries. */
class LoadClient {
  readonly conn: Deno.TcpConn;
  readonly name: string;
  sawProbe = false;
  #pending = "";
  #writing = false;
  #failed: unknown;
  #waiter: ((line: string) => void) | undefined;
  /** When the chunk being scanned arrived (µs). */
  #nowUs = 0;
  reading: Promise<void> = Promise.resolve();

  constructor(conn: Deno.TcpConn, name: string) {
    this.conn = conn;
    this.name = name;
  }

  /**
   * Reads until EOF, counting deliveries into `run`. The hot path of the
   * generator (millions of lines a second): reads land in a {@linkcode LineBuffer}
   * (no string concatenation for a line split across reads), the whole lines
   * of a read are decoded once and scanned in place, a load message costs a
   * marker search and a digit loop (no string of its own), and all lines of a
   * read share one clock reading. A framer yielding a decoded string per line
   * cost 4-8 times as much CPU here and delayed the very copies it timed.
   */
  startReading(run: { counters: ChatLoadCounters; latency: LatencyHistogram; lastAt: number }) {
    const { counters, latency } = run;
    const visitor: LineVisitor = {
      delivery: (sentUs) => {
        latency.record(this.#nowUs - sentUs);
        counters.deliveries++;
      },
      line: (line) => {
        if (probeOf(line) !== undefined) this.sawProbe = true;
        else this.#waiter?.(line);
      },
    };
    this.reading = (async () => {
      const lines = new LineBuffer(READ_SIZE);
      while (true) {
        let n: number | null;
        try {
          n = await this.conn.read(lines.space());
        } catch (err) {
          if (isGone(err)) break;
          throw err;
        }
        if (n === null) break;
        const now = performance.now();
        this.#nowUs = now * 1000;
        const before = counters.deliveries;
        lines.filled(n, visitor);
        if (counters.deliveries !== before) run.lastAt = now;
      }
    })().catch(() => {});
  }

  /** Queues `line`; queued lines go out together in one write. */
  send(line: string): void {
    if (this.#failed) return;
    this.#pending += line;
    if (!this.#writing) this.#flush();
  }

  async #flush(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#pending !== "") {
        const data = encoder.encode(this.#pending);
        this.#pending = "";
        await writeAll(this.conn, data);
      }
    } catch (err) {
      this.#failed = err;
      this.#pending = "";
    } finally {
      this.#writing = false;
    }
  }

  /**
   * The first line (other than a load message or probe) that `accept` takes,
   * or `"(connection closed)"` / `"(no reply)"` after `timeoutMs`.
   */
  async waitForLine(accept: (line: string) => boolean, timeoutMs: number): Promise<string> {
    const got = new Promise<string>((resolve) => {
      this.#waiter = (line) => {
        if (accept(line)) resolve(line);
      };
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const line = await Promise.race([
      got,
      this.reading.then(() => "(connection closed)"),
      new Promise<string>((
        resolve,
      ) => (timer = setTimeout(() => resolve("(no reply)"), timeoutMs))),
    ]);
    clearTimeout(timer);
    this.#waiter = undefined;
    return line;
  }

  /** Sends `signin NAME` and waits for `OK signed in as NAME`; throws FailError on ERR. */
  async signIn(timeoutMs: number, label: string): Promise<void> {
    const reply = this.waitForLine(
      (line) => line.startsWith("OK signed in as ") || line.startsWith("ERR "),
      timeoutMs,
    );
    this.send(`signin ${this.name}\n`);
    const line = await reply;
    if (line !== `OK signed in as ${this.name}`) {
      throw new FailError(`${label} did not sign ${this.name} in: ${printableText(line)}`);
    }
  }

  /** Waits for ncat's greeting (`<announce> ... is connected as <userN>.`): it has accepted us. */
  async greeted(timeoutMs: number, label: string): Promise<void> {
    const line = await this.waitForLine(() => true, timeoutMs);
    if (line === "(connection closed)" || line === "(no reply)") {
      throw new FailError(`${label} did not accept client ${this.name}: ${line}`);
    }
  }

  close(): void {
    closeQuietly(this.conn);
  }
}

/**
 * Runs the load against `target`. Throws FailError when a client cannot
 * connect or sign in, or the clients do not all hear each other in time.
 */
export async function runChatLoad(
  target: HostPort,
  options: ChatLoadOptions,
  counters: ChatLoadCounters = { connected: 0, messages: 0, deliveries: 0 },
): Promise<ChatLoadResult> {
  const dialect = options.dialect ?? "socklab";
  const label = `chat server ${formatHostPort(target.hostname, target.port)}`;
  const prefix = options.namePrefix ?? "bench";
  const size = options.size ?? DEFAULT_MESSAGE_SIZE;
  const readyTimeoutMs = options.readyTimeoutMs ?? defaultReadyTimeoutMs(options.clients);
  const { signal } = options;
  const run = { counters, latency: new LatencyHistogram(), lastAt: 0 };
  const clients: LoadClient[] = [];
  const readyStart = performance.now();
  const readyBy = readyStart + readyTimeoutMs;
  try {
    // Connect (and sign in) in batches: a burst of thousands would overflow the backlog.
    const batch = CONNECT_BATCH[dialect];
    for (let i = 0; i < options.clients && !signal?.aborted; i += batch) {
      const joins = await Promise.allSettled(
        Array.from(
          { length: Math.min(batch, options.clients - i) },
          (_, k) => joinOne(i + k),
        ),
      );
      const failed = joins.find((j) => j.status === "rejected");
      if (failed) throw (failed as PromiseRejectedResult).reason;
    }
    await probeAll();
    const readyMs = performance.now() - readyStart;
    await options.onReady?.();

    return await load(readyMs);
  } finally {
    if (dialect === "socklab") { for (const c of clients) c.send(`signout ${c.name}\n`); }
    for (const c of clients) c.close();
    await Promise.all(clients.map((c) => c.reading));
  }

  async function joinOne(index: number): Promise<void> {
    const conn = await connectTcp(target, label);
    conn.setNoDelay(true); // chat lines are small: no Nagle delay in the latency
    const client = new LoadClient(conn, `${prefix}${index}`);
    clients.push(client);
    client.startReading(run);
    // Joined = the server answered: socklab signs us in, ncat greets every client it accepts.
    const left = Math.max(1, readyBy - performance.now());
    if (dialect === "socklab") await client.signIn(left, label);
    else await client.greeted(left, label);
    counters.connected++;
  }

  /** Sends probes from client 0 until every client that should has heard one. */
  async function probeAll(): Promise<void> {
    if (clients.length === 0 || signal?.aborted) return;
    const listeners = dialect === "socklab" ? clients : clients.slice(1);
    for (let id = 1; listeners.some((c) => !c.sawProbe); id++) {
      if (performance.now() > readyBy || signal?.aborted) {
        const deaf = listeners.filter((c) => !c.sawProbe).length;
        if (signal?.aborted) return;
        throw new FailError(
          `${label}: ${deaf} of ${listeners.length} clients got no message within ${readyTimeoutMs} ms`,
        );
      }
      clients[0].send(chatLine(dialect, `${PROBE_MARK}${id}~`));
      await delay(100, signal);
    }
  }

  async function load(readyMs: number): Promise<ChatLoadResult> {
    const fanout = dialect === "socklab" ? clients.length : clients.length - 1;
    const started = performance.now();
    let sendEnd = started;
    const together = options.perClientRate !== undefined;
    if (
      (together ? options.perClientRate! : options.rate) > 0 && clients.length > 0 &&
      !signal?.aborted
    ) {
      const text = () => chatLine(dialect, messageText(performance.now() * 1000, size));
      const sentBy = new Array<number>(clients.length).fill(0);
      let next = 0;
      // Spread: `rate` messages/s in all, one client after the other.
      const spread = (elapsed: number) => {
        const due = Math.floor((options.rate * elapsed) / 1000) - counters.messages;
        for (let k = 0; k < due; k++) {
          clients[next].send(text());
          next = (next + 1) % clients.length;
          counters.messages++;
        }
      };
      // Together: every client sends what it owes at `perClientRate` on the same tick
      // (its first line at once), its lines of one tick in one write.
      const burst = (elapsed: number) => {
        const due = Math.floor((elapsed / 1000) * options.perClientRate!) + 1;
        clients.forEach((c, i) => {
          let lines = "";
          for (; sentBy[i] < due; sentBy[i]++, counters.messages++) lines += text();
          if (lines) c.send(lines);
        });
      };
      await new Promise<void>((resolve) => {
        const tick = () => {
          const elapsed = performance.now() - started;
          const over = elapsed >= options.durationMs || signal?.aborted;
          if (!together) spread(Math.min(elapsed, options.durationMs));
          else if (!over) burst(elapsed);
          if (over) {
            clearInterval(timer);
            signal?.removeEventListener("abort", onAbort);
            resolve();
          }
        };
        const onAbort = () => tick();
        const timer = setInterval(tick, SEND_TICK_MS);
        signal?.addEventListener("abort", onAbort, { once: true });
        tick();
      });
      sendEnd = performance.now();
      // Late copies still count: wait until all arrived or the drain time is up.
      const expected = counters.messages * fanout;
      const drainBy = sendEnd + (options.drainMs ?? DEFAULT_DRAIN_MS);
      while (counters.deliveries < expected && performance.now() < drainBy && !signal?.aborted) {
        await delay(10, signal);
      }
    } else if (!signal?.aborted) {
      await delay(options.durationMs, signal);
      sendEnd = performance.now();
    }
    const expected = counters.messages * fanout;
    const end = Math.max(sendEnd, run.lastAt);
    const endedAt = Date.now();
    return {
      endedAt,
      ...counters,
      fanout,
      expected,
      lost: Math.max(0, expected - counters.deliveries),
      readyMs,
      elapsedMs: end - started,
      latency: run.latency,
      interrupted: signal?.aborted ?? false,
    };
  }
}

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
