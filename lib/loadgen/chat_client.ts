/**
 * One client of the chat load generator: a batching writer and a reader that
 * counts and times every delivered copy (the hot path: millions of lines a
 * second), plus the join steps of each dialect (socklab's signin, ncat's
 * greeting).
 *
 * @example
 * ```ts ignore
 * import { LoadClient } from "./chat_client.ts";
 * const client = new LoadClient(await Deno.connect({ port: 5600 }), "bench0");
 * client.startReading(tally);
 * await client.signIn(5000, "chat server 127.0.0.1:5600");
 * ```
 * @module
 */
import { FailError } from "../cli/errors.ts";
import { printableText } from "../cli/printable.ts";
import { closeQuietly, isGone, writeAll } from "../net/tcp.ts";
import { LineBuffer, type LineVisitor, probeOf } from "./chat_lines.ts";
import type { LatencyHistogram } from "./stats.ts";

/**
 * Bytes each client reads at a time. 16, 32 and 64 KiB cost the same CPU per
 * delivery; 256 KiB cost a third more (200 clients' buffers no longer fit
 * the caches).
 */
const READ_SIZE = 64 * 1024;

const encoder = new TextEncoder();

/** Where a client counts what it receives (shared by the clients of one thread). */
export interface DeliveryTally {
  /** Copies received. */
  deliveries: number;
  /** Delivery latency in µs. */
  latency: LatencyHistogram;
  /** The run's clock, in µs (the send times in the messages are on it). */
  clockUs: () => number;
  /** Clock (µs) of the last read that held a copy. */
  lastAtUs: number;
}

/** One connected client: a batching writer and a reader that counts deliveries. */
export class LoadClient {
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
   * Reads until EOF, counting deliveries into `tally`. The hot path of the
   * generator (millions of lines a second): reads land in a {@linkcode LineBuffer}
   * (no string concatenation for a line split across reads), the whole lines
   * of a read are decoded once and scanned in place, a load message costs a
   * marker search and a digit loop (no string of its own), and all lines of a
   * read share one clock reading. A framer yielding a decoded string per line
   * cost 4-8 times as much CPU here and delayed the very copies it timed.
   */
  startReading(tally: DeliveryTally): void {
    const { latency } = tally;
    const visitor: LineVisitor = {
      delivery: (sentUs) => {
        latency.record(this.#nowUs - sentUs);
        tally.deliveries++;
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
        const now = tally.clockUs();
        this.#nowUs = now;
        const before = tally.deliveries;
        lines.filled(n, visitor);
        if (tally.deliveries !== before) tally.lastAtUs = now;
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
