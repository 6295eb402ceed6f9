/**
 * The lines of a chat room shared through Redis: one Redis Stream per room,
 * bounded (`XADD ... MAXLEN ~ N`), that every instance appends its members'
 * lines to and reads back from, its own included, so every member of every
 * instance hears one room in one order.
 *
 * Why a stream and not pub/sub: a pub/sub message reaches only the
 * subscribers connected at that moment, so an instance whose connection blips
 * (a network hiccup, `CLIENT KILL`) silently misses what was said meanwhile.
 * A stream keeps the lines; a reader remembers the ID of the last entry it
 * read and, reconnected, asks for everything after it (`XREAD ... ID`). MAXLEN
 * bounds Redis's memory; an instance away for longer than the stream's length
 * misses the oldest lines and says how many (each line carries its
 * instance's sequence number, so gaps and repeats are seen exactly).
 *
 * While Redis cannot be reached, {@linkcode ChatStream.publish} hands each
 * line to this instance's members at once and keeps it (up to `maxBacklog`
 * lines) to append when Redis is back; the reader then skips those lines
 * when they come round, and a line whose append was cut off and re-sent is
 * heard once.
 *
 * Entry fields: `o` the instance, `s` its sequence number, `l` the line, and
 * `x` the member not to send it to (a joiner does not hear its own join).
 *
 * @example
 * ```ts ignore
 * const stream = new ChatStream(redis, await redis.duplicate(), {
 *   room: "lab", instance: "tcp/127.0.0.1:5600/1a2b3c",
 *   deliver: (line, except) => console.log(line), log: console.log,
 * });
 * await stream.start();
 * stream.publish("Msg alice says: hi");
 * ```
 * @module
 */
import type { RedisClient, RedisConnection } from "./connection.ts";
import { roomPrefix } from "./chat_presence.ts";

/** Default bound of the stream (entries, approximately): the catch-up window of a reader. */
export const DEFAULT_STREAM_LENGTH = 20_000;
/** Default most lines kept to append while Redis is down. */
export const DEFAULT_MAX_BACKLOG = 10_000;
/** Own sequence numbers delivered early and not yet read back, at most. */
const MAX_EARLY = 100_000;
/** Entries one XREAD returns at most. */
const READ_COUNT = 256;
/** How long one XREAD waits for new entries (ms); the loop then asks again. */
const READ_BLOCK_MS = 5000;

/** Options of {@linkcode ChatStream}. */
export interface ChatStreamOptions {
  room: string;
  /** This instance's id (the `o` of its entries). */
  instance: string;
  /** Where each line goes: this instance's members. */
  deliver: (line: string, except: string | undefined) => void;
  /** Log lines (a catch-up gap, lines dropped while Redis was down). */
  log: (line: string) => void;
  /** Bound of the stream (default {@linkcode DEFAULT_STREAM_LENGTH}). */
  streamLength?: number;
  /** Lines kept while Redis is down (default {@linkcode DEFAULT_MAX_BACKLOG}). */
  maxBacklog?: number;
}

/** A line on its way into the stream. */
interface Outgoing {
  seq: number;
  line: string;
  except: string | undefined;
  /** Its XADD is in flight. */
  sent: boolean;
}

/** One room's stream: the publisher and the reader (see the module doc). */
export class ChatStream {
  readonly #redis: RedisConnection;
  readonly #reader: RedisClient;
  readonly #key: string;
  readonly #me: string;
  readonly #deliver: ChatStreamOptions["deliver"];
  readonly #log: (line: string) => void;
  readonly #length: string;
  readonly #maxBacklog: number;
  /** Lines not yet acknowledged by Redis, in order. */
  #outbox: Outgoing[] = [];
  #seq = 0;
  /** The last sequence number read from each instance. */
  readonly #lastSeen = new Map<string, number>();
  /** Own lines delivered here before they were read back (Redis was down). */
  readonly #early = new Set<number>();
  #lastId = "0-0";
  #runId = "";
  #dropped = 0;
  #closed = false;
  #reading: Promise<void> = Promise.resolve();
  #hold: () => Promise<void> | undefined = () => undefined;

  constructor(redis: RedisConnection, reader: RedisClient, options: ChatStreamOptions) {
    this.#redis = redis;
    this.#reader = reader;
    this.#key = `${roomPrefix(options.room)}stream`;
    this.#me = options.instance;
    this.#deliver = options.deliver;
    this.#log = options.log;
    this.#length = String(options.streamLength ?? DEFAULT_STREAM_LENGTH);
    this.#maxBacklog = options.maxBacklog ?? DEFAULT_MAX_BACKLOG;
  }

  /** Lines kept for Redis (down, or on their way). */
  get backlog(): number {
    return this.#outbox.length;
  }

  /** Starts reading after the stream's current last entry. */
  async start(): Promise<void> {
    this.#runId = await this.#serverRunId();
    const last = await this.#reader.sendCommand(["XREVRANGE", this.#key, "+", "-", "COUNT", "1"]);
    this.#lastId = (last as unknown as [string, string[]][])[0]?.[0] ?? "0-0";
    this.#reading = this.#readLoop();
  }

  /** Appends `line` for every member of the room (see the module doc for Redis down). */
  publish(line: string, except?: string): void {
    const out: Outgoing = { seq: ++this.#seq, line, except, sent: false };
    this.#outbox.push(out);
    if (this.#redis.isUp) return this.#send(out);
    this.#deliverEarly(out);
    this.#trimBacklog();
  }

  /** Redis is down: this instance's members hear every kept line now. */
  down(): void {
    for (const out of this.#outbox) this.#deliverEarly(out);
  }

  /** Redis is back: appends every kept line, in order. */
  up(): void {
    if (this.#dropped > 0) {
      this.#log(
        `socklab chat-server: ${this.#dropped} lines said here while Redis was down ` +
          `were not passed on (at most ${this.#maxBacklog} are kept)`,
      );
      this.#dropped = 0;
    }
    for (const out of this.#outbox) if (!out.sent) this.#send(out);
  }

  /**
   * Reads no further while `wait()` returns a promise (lines wait in the
   * stream meanwhile, up to its length).
   */
  holdWhile(wait: () => Promise<void> | undefined): void {
    this.#hold = wait;
  }

  /** Stops reading: the reader connection (this stream's own) is closed. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#reader.destroy();
    await this.#reading;
  }

  #send(out: Outgoing): void {
    out.sent = true;
    const args = ["XADD", this.#key, "MAXLEN", "~", this.#length, "*"];
    args.push("o", this.#me, "s", String(out.seq), "l", out.line);
    if (out.except !== undefined) args.push("x", out.except);
    this.#redis.client.sendCommand(args).then(
      () => {
        const i = this.#outbox.indexOf(out);
        if (i >= 0) this.#outbox.splice(i, 1);
      },
      () => {
        // Lost with the connection: kept, heard here now, appended when Redis is back.
        out.sent = false;
        this.#deliverEarly(out);
      },
    );
  }

  /** Hands an own line to this instance's members before Redis has it (once). */
  #deliverEarly(out: Outgoing): void {
    if (out.seq <= (this.#lastSeen.get(this.#me) ?? 0) || this.#early.has(out.seq)) return;
    if (this.#early.size >= MAX_EARLY) this.#early.delete(this.#early.values().next().value!);
    this.#early.add(out.seq);
    this.#deliver(out.line, out.except);
  }

  /** Keeps at most `maxBacklog` lines while Redis is down: the oldest unsent go first. */
  #trimBacklog(): void {
    while (this.#outbox.length > this.#maxBacklog) {
      const i = this.#outbox.findIndex((o) => !o.sent);
      if (i < 0) return;
      this.#outbox.splice(i, 1);
      this.#dropped++;
    }
  }

  async #readLoop(): Promise<void> {
    let failures = 0;
    while (!this.#closed) {
      try {
        if (failures > 0) await this.#resync();
        const reply = await this.#reader.sendCommand([
          "XREAD",
          "COUNT",
          String(READ_COUNT),
          "BLOCK",
          String(READ_BLOCK_MS),
          "STREAMS",
          this.#key,
          this.#lastId,
        ]);
        failures = 0;
        for (const [id, fields] of streamEntries(reply)) {
          // Held between entries too: one read may bring many.
          for (let held = this.#hold(); held !== undefined; held = this.#hold()) await held;
          if (this.#closed) return;
          this.#lastId = id;
          this.#receive(fields);
        }
      } catch {
        if (this.#closed) return;
        // The reader reconnects by itself (with back-off): wait a little, then resume.
        failures++;
        await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** Math.min(failures, 5))));
      }
    }
  }

  /** After a lost connection: a Redis that restarted (empty) is read from its start. */
  async #resync(): Promise<void> {
    const runId = await this.#serverRunId();
    if (runId !== this.#runId) {
      this.#runId = runId;
      this.#lastId = "0-0";
    }
  }

  async #serverRunId(): Promise<string> {
    const info = String(await this.#reader.sendCommand(["INFO", "server"]));
    return /run_id:(\w+)/.exec(info)?.[1] ?? "";
  }

  /** One entry: heard once, in order, unless it was heard here already. */
  #receive(fields: string[]): void {
    const f: Record<string, string> = {};
    for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]] = fields[i + 1];
    const origin = f.o;
    const seq = Number(f.s);
    if (origin === undefined || f.l === undefined || !(seq > 0)) return;
    const last = this.#lastSeen.get(origin);
    if (last !== undefined && seq <= last) return; // re-sent after a lost acknowledgement
    if (last !== undefined && seq > last + 1 && origin !== this.#me) {
      this.#log(`socklab chat-server: missed ${seq - last - 1} lines from ${origin}`);
    }
    this.#lastSeen.set(origin, seq);
    if (origin === this.#me && this.#early.delete(seq)) return;
    this.#deliver(f.l, f.x);
  }
}

type Entries = [id: string, fields: string[]][];

/**
 * The entries of a one-stream XREAD reply: RESP3 gives a map from the
 * stream's key, RESP2 an array of [key, entries] pairs; no entries is null.
 */
function streamEntries(reply: unknown): Entries {
  if (reply === null || reply === undefined) return [];
  if (Array.isArray(reply)) return (reply[0]?.[1] ?? []) as Entries;
  if (reply instanceof Map) return ([...reply.values()][0] ?? []) as Entries;
  return (Object.values(reply as Record<string, Entries>)[0] ?? []);
}
