/**
 * Fan-out without copying per recipient: every broadcast is appended once to
 * a shared {@linkcode FanoutLog}, and each connection's {@linkcode Outbox}
 * only remembers how far into the log it has written. Broadcasting to N
 * followers costs one copy, not N queue entries; a write takes the longest
 * run of log bytes the connection has not had yet, straight from the log
 * (no join, no zero-filled buffer per write). Lines for one connection only
 * (replies) are queued in the outbox between log ranges, so each connection
 * sees its replies and the broadcasts in the order they were made.
 *
 * ```text
 * log:     |Msg a says: hi\n|*** b joined\n|Msg b says: yo\n|...
 *           ^ alice.from      ^ carol.from                    ^ head
 * outbox:  following from a position                a follower, caught up or behind
 *          [log from..to] [reply bytes], following   a reply in between
 * ```
 *
 * @example
 * ```ts
 * import { FanoutLog, Outbox } from "./fanout.ts";
 * const log = new FanoutLog();
 * const written: string[] = [];
 * const sink = { write: (p: Uint8Array) => Promise.resolve(written.push(new TextDecoder().decode(p)) && p.length) };
 * const box = new Outbox({ log }, sink, "alice");
 * box.follow();
 * log.append(new TextEncoder().encode("hello\n"));
 * box.flush();
 * await box.flushed();
 * console.assert(written[0] === "hello\n");
 * ```
 * @module
 */
/** Where an {@linkcode Outbox} writes (a `Deno.Conn` is one). */
export interface ByteSink {
  /** Writes some of `p` and resolves how many bytes were written. */
  write(p: Uint8Array): Promise<number>;
  /**
   * Writes some of `p` now if that needs no wait: the bytes written, or
   * undefined when there is no room (then `write` is used); throws on failure.
   * A sink that offers it saves a promise per write.
   */
  tryWrite?(p: Uint8Array): number | undefined;
}

const encoder = new TextEncoder();

/**
 * Writes one flush makes at most, when the sink writes at once: a range
 * ending at a chunk boundary and a reply after it need not wait for the next
 * tick, yet one connection cannot hold a tick for long.
 */
export const MAX_WRITES_PER_FLUSH = 8;

/** Bytes per log chunk: a write never spans two chunks, so this is also the largest write. */
export const LOG_CHUNK = 64 * 1024;

interface Chunk {
  /** Log position of bytes[0]. */
  start: number;
  bytes: Uint8Array;
  /** Bytes filled. */
  used: number;
}

/** An append-only byte log; positions are absolute (from 0 at creation). */
export class FanoutLog {
  #chunks: Chunk[] = [];
  #head = 0;
  #chunkSize: number;

  constructor(chunkSize = LOG_CHUNK) {
    this.#chunkSize = chunkSize;
  }

  /** Position after the last byte appended. */
  get head(): number {
    return this.#head;
  }

  /** Bytes still kept (not trimmed), counting whole chunks. */
  get retained(): number {
    let n = 0;
    for (const c of this.#chunks) n += c.bytes.length;
    return n;
  }

  /** Position of the first byte still kept (`head` when nothing is). */
  get tail(): number {
    return this.#chunks.length > 0 ? this.#chunks[0].start : this.#head;
  }

  /**
   * Appends `text` (as UTF-8) and a line feed, encoded straight into the
   * last chunk when it has room (no buffer of its own first, no copy).
   */
  appendLine(text: string): void {
    const last = this.#chunks.at(-1);
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    if (last !== undefined && last.bytes.length - last.used > text.length * 3) {
      const { written } = encoder.encodeInto(text, last.bytes.subarray(last.used));
      last.bytes[last.used + written] = 0x0a;
      last.used += written + 1;
      this.#head += written + 1;
      return;
    }
    this.append(encoder.encode(`${text}\n`));
  }

  /** Appends a copy of `data` (a piece larger than a chunk is kept by reference). */
  append(data: Uint8Array): void {
    if (data.length === 0) return;
    const last = this.#chunks.at(-1);
    if (last !== undefined && last.bytes.length - last.used >= data.length) {
      last.bytes.set(data, last.used);
      last.used += data.length;
    } else if (data.length >= this.#chunkSize) {
      this.#chunks.push({ start: this.#head, bytes: data, used: data.length });
    } else {
      const bytes = new Uint8Array(this.#chunkSize);
      bytes.set(data);
      this.#chunks.push({ start: this.#head, bytes, used: data.length });
    }
    this.#head += data.length;
  }

  /**
   * The longest run of bytes from `pos` that is in one chunk and before `end`
   * (a view, not a copy: do not keep it past the write). Empty when `pos >=
   * end`. Throws a RangeError for a position already trimmed.
   */
  view(pos: number, end: number): Uint8Array {
    end = Math.min(end, this.#head);
    if (pos >= end) return new Uint8Array(0);
    const chunk = this.#find(pos);
    const from = pos - chunk.start;
    return chunk.bytes.subarray(from, Math.min(chunk.used, end - chunk.start));
  }

  /** Forgets every chunk that ends at or before `pos`. */
  trim(pos: number): void {
    let drop = 0;
    while (
      drop < this.#chunks.length &&
      this.#chunks[drop].start + this.#chunks[drop].used <= pos &&
      // The last chunk stays while it has room: appends go on filling it.
      (drop < this.#chunks.length - 1 ||
        this.#chunks[drop].used === this.#chunks[drop].bytes.length)
    ) drop++;
    if (drop > 0) this.#chunks.splice(0, drop);
  }

  #find(pos: number): Chunk {
    const chunks = this.#chunks;
    let lo = 0;
    let hi = chunks.length - 1;
    if (hi < 0 || pos < chunks[0].start) throw new RangeError(`log position ${pos} was trimmed`);
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (chunks[mid].start <= pos) lo = mid;
      else hi = mid - 1;
    }
    return chunks[lo];
  }
}

/** A closed range of the log still to be written: [from, to). */
interface Range {
  from: number;
  to: number;
}

/** Something a scheduler can start (a {@linkcode FlushTicker} takes these). */
export interface Flushable {
  flush(): void;
}

/**
 * What every outbox of a server shares (one object, not a copy per
 * connection: an idle connection costs only its own position).
 */
export interface OutboxShared<T> {
  /** The log the outboxes follow. */
  log: FanoutLog;
  /** Told once when a write fails; the outbox then stops and holds nothing. */
  onError?: (owner: T, err: unknown) => void;
  /** Called after each write that made progress. */
  onProgress?: (owner: T) => void;
  /**
   * Starts a flush after a reply is queued or a write finished with more to
   * go (default: a microtask). Log appends do not call it: whoever appends
   * flushes the followers.
   */
  schedule?: (box: Flushable) => void;
}

const microtask = (box: Flushable) => queueMicrotask(() => box.flush());

/**
 * One connection's view of the log plus its own queued replies, written one
 * write at a time. `owner` (the server's connection object) is what the
 * shared callbacks are told about.
 */
export class Outbox<T = unknown> implements Flushable {
  readonly owner: T;
  #shared: OutboxShared<T>;
  #sink: ByteSink;
  /** Closed ranges and replies still to be written, in order (null when none). */
  #queue: (Range | Uint8Array)[] | null = null;
  /** While following: the log position written up to after the queue; else -1. */
  #followFrom = -1;
  #busy = false;
  #scheduled = false;
  #closed = false;
  #writeStartedAt = 0;
  #writes = 0;
  #waiters: (() => void)[] | null = null;

  constructor(shared: OutboxShared<T>, sink: ByteSink, owner: T) {
    this.#shared = shared;
    this.#sink = sink;
    this.owner = owner;
  }

  /** True while broadcasts appended to the log are for this connection. */
  get following(): boolean {
    return this.#followFrom >= 0;
  }

  /** Bytes not yet written (the write in flight included). */
  get held(): number {
    const head = this.#shared.log.head;
    let n = this.#followFrom >= 0 ? head - this.#followFrom : 0;
    const queue = this.#queue;
    if (queue !== null) {
      // Indexed loops: these run for every client on every tick.
      for (let i = 0; i < queue.length; i++) {
        const item = queue[i];
        n += item instanceof Uint8Array ? item.length : item.to - item.from;
      }
    }
    return n;
  }

  /** The lowest log position this outbox still needs (Infinity when none). */
  get needs(): number {
    const queue = this.#queue;
    if (queue !== null) {
      for (let i = 0; i < queue.length; i++) {
        const item = queue[i];
        if (!(item instanceof Uint8Array)) return item.from;
      }
    }
    return this.#followFrom >= 0 ? this.#followFrom : Infinity;
  }

  /**
   * Ms the write in flight has been waiting at `now` (0 with none in
   * flight): a peer that reads finishes each write within a turn or two of
   * the event loop; one whose write waits for long takes nothing at all.
   */
  stuckFor(now: number): number {
    return this.#busy ? now - this.#writeStartedAt : 0;
  }

  /** Writes made so far. */
  get writes(): number {
    return this.#writes;
  }

  /** True after `close()` or a failed write. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Receives the broadcasts appended from now on. */
  follow(): void {
    if (this.#closed || this.#followFrom >= 0) return;
    this.#followFrom = this.#shared.log.head;
  }

  /** Stops receiving broadcasts appended from now on (what is already in the log still goes). */
  unfollow(): void {
    if (this.#followFrom < 0) return;
    const head = this.#shared.log.head;
    if (head > this.#followFrom) (this.#queue ??= []).push({ from: this.#followFrom, to: head });
    this.#followFrom = -1;
  }

  /** Queues bytes for this connection only, after everything it has been given so far. */
  send(data: Uint8Array): void {
    if (this.#closed || data.length === 0) return;
    const following = this.#followFrom >= 0;
    this.unfollow();
    (this.#queue ??= []).push(data);
    if (following) this.#followFrom = this.#shared.log.head;
    this.#kick();
  }

  /**
   * Starts a write if there is something to write and no write in flight:
   * at once when the sink can write without waiting ({@linkcode ByteSink.tryWrite}),
   * else a write that waits for room.
   */
  flush(): void {
    this.#scheduled = false;
    for (let i = 0;; i++) {
      if (this.#busy || this.#closed) return;
      const data = this.#next();
      if (data === undefined) return this.#wake();
      if (this.#sink.tryWrite === undefined) return this.#startWrite(data);
      if (i === MAX_WRITES_PER_FLUSH) return this.#kick(); // the rest on the next tick
      let n: number | undefined;
      try {
        n = this.#sink.tryWrite(data);
      } catch (err) {
        return this.#failed(err);
      }
      if (n === undefined) return this.#startWrite(data); // no room now: a write that waits
      this.#writes++;
      this.#advance(n);
      // A short write means the socket is full: the rest later.
      if (n < data.length) return this.#settle();
    }
  }

  #startWrite(data: Uint8Array): void {
    this.#busy = true;
    this.#writeStartedAt = performance.now();
    this.#write(data);
  }

  /** Stops writing and forgets what is queued (the caller closes the connection). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = null;
    this.#followFrom = -1;
    this.#wake();
  }

  /** Resolves once everything queued so far has been written (or the outbox closed). */
  flushed(): Promise<void> {
    if (this.#closed || this.held === 0) return Promise.resolve();
    return new Promise((resolve) => (this.#waiters ??= []).push(resolve));
  }

  /** The next bytes to write, dropping finished queue items; undefined when none. */
  #next(): Uint8Array | undefined {
    const log = this.#shared.log;
    const queue = this.#queue;
    while (queue !== null && queue.length > 0) {
      const item = queue[0];
      if (item instanceof Uint8Array) return item;
      if (item.from < item.to) return log.view(item.from, item.to);
      queue.shift();
    }
    this.#queue = null;
    if (this.#followFrom >= 0 && this.#followFrom < log.head) {
      return log.view(this.#followFrom, Infinity);
    }
    return undefined;
  }

  /** One write; its bytes always came from the front of what is left. */
  async #write(data: Uint8Array): Promise<void> {
    let n: number;
    try {
      this.#writes++;
      n = await this.#sink.write(data);
    } catch (err) {
      this.#busy = false;
      return this.#failed(err);
    }
    this.#busy = false;
    if (this.#closed) return;
    this.#advance(n);
    this.#settle();
  }

  /** Tells the owner once that a write failed; the outbox then holds nothing. */
  #failed(err: unknown): void {
    if (this.#closed) return;
    this.close();
    this.#shared.onError?.(this.owner, err);
  }

  /** After `n` bytes from the front were written: on to the rest. */
  #advance(n: number): void {
    const queue = this.#queue;
    if (queue !== null && queue.length > 0) {
      // An unfollow or a reply during the write put the range written from
      // (or the reply) at the front: it is still the one to advance.
      const item = queue[0];
      if (!(item instanceof Uint8Array)) item.from += n;
      else if (n < item.length) queue[0] = item.subarray(n);
      else queue.shift();
    } else {
      this.#followFrom += n;
    }
    this.#shared.onProgress?.(this.owner);
  }

  /** After a write: wake those waiting for an empty outbox, or have the rest written later. */
  #settle(): void {
    if (this.#closed) return;
    if (this.held === 0) this.#wake();
    else this.#kick();
  }

  /** Has the next flush scheduled (once). */
  #kick(): void {
    if (this.#scheduled || this.#busy) return;
    this.#scheduled = true;
    (this.#shared.schedule ?? microtask)(this);
  }

  #wake(): void {
    if (this.#waiters === null || (!this.#closed && this.held > 0)) return;
    const waiters = this.#waiters;
    this.#waiters = null;
    waiters.forEach((w) => w());
  }
}
