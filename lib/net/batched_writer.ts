/**
 * A per-connection outgoing queue, bounded in bytes, that writes in batches:
 * whatever is queued while a write is in flight (or during the same turn of
 * the event loop) goes out as ONE write. A fan-out server pushes to every
 * client without awaiting, so one client that stops reading never delays the
 * others; when its queue would exceed the bound, `push` says so and the
 * server drops that client.
 *
 * @example
 * ```ts
 * import { BatchedWriter } from "./batched_writer.ts";
 * const written: number[] = [];
 * const sink = { write: (p: Uint8Array) => Promise.resolve(written.push(p.length) && p.length) };
 * const out = new BatchedWriter(sink, { maxBytes: 10 });
 * out.push(new Uint8Array(4));
 * out.push(new Uint8Array(4)); // same turn: joins the first batch
 * console.assert(out.push(new Uint8Array(4)) === false); // 12 > 10 bytes: overflow
 * ```
 *
 * Under load, starting every batch at once costs one write per connection per
 * message; a shared `schedule` (see {@linkcode FlushTicker} in flush_ticker.ts)
 * starts them on a common tick instead, so each write carries everything that
 * piled up since the last one. `progressAt` tells a server whether a client
 * with a backlog is still taking bytes (slow) or not at all (stalled).
 * @module
 */

/** Where a {@linkcode BatchedWriter} writes (a `Deno.Conn` is one). */
export interface ByteSink {
  /** Writes some of `p` and resolves how many bytes were written. */
  write(p: Uint8Array): Promise<number>;
}

/** Default bound of a queue: 256 KiB. */
export const DEFAULT_MAX_QUEUED = 256 * 1024;

/** Options of {@linkcode BatchedWriter}. */
export interface BatchedWriterOptions {
  /** Most bytes held, queued plus being written (default {@linkcode DEFAULT_MAX_QUEUED}). */
  maxBytes?: number;
  /** Told once when a write fails; the writer then stops and drops what it held. */
  onError?: (err: unknown) => void;
  /** Called after each write that made progress (to re-check a backlog). */
  onProgress?: () => void;
  /**
   * Starts a batch; the default starts it in a microtask (the rest of this
   * turn joins it). Also used to start the next batch after a write.
   */
  schedule?: (start: () => void) => void;
}

/** A bounded, batching outgoing byte queue for one connection. */
export class BatchedWriter {
  readonly maxBytes: number;
  #sink: ByteSink;
  #onError: ((err: unknown) => void) | undefined;
  // Allocated on first use: an idle connection holds no queue at all.
  #chunks: Uint8Array[] | null = null;
  #held = 0;
  #busy = false;
  #closed = false;
  #writes = 0;
  #waiters: (() => void)[] | null = null;
  #onProgress: (() => void) | undefined;
  #schedule: (start: () => void) => void;
  #start = () => void this.#run();
  #progressAt = 0;

  constructor(sink: ByteSink, options: BatchedWriterOptions = {}) {
    this.#sink = sink;
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_QUEUED;
    this.#onError = options.onError;
    this.#onProgress = options.onProgress;
    this.#schedule = options.schedule ?? queueMicrotask;
  }

  /** Bytes held now (queued plus the unfinished part of the write in flight). */
  get held(): number {
    return this.#held;
  }

  /** How many writes were made so far (a batch is one write unless it was partial). */
  get writes(): number {
    return this.#writes;
  }

  /**
   * `performance.now()` of the last write that made progress, or of the push
   * that ended an empty spell: how long a backlog has gone untouched.
   */
  get progressAt(): number {
    return this.#progressAt;
  }

  /** True after `close()`, an overflow or a failed write. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Queues `data` (kept by reference: do not change it afterwards). Returns
   * false, queuing nothing and closing the writer, when that would hold more
   * than `maxBytes`; also false once the writer is closed.
   */
  push(data: Uint8Array): boolean {
    if (this.#closed) return false;
    if (this.#held + data.length > this.maxBytes) {
      this.close();
      return false;
    }
    if (data.length === 0) return true;
    if (this.#held === 0) this.#progressAt = performance.now();
    (this.#chunks ??= []).push(data);
    this.#held += data.length;
    if (!this.#busy) {
      this.#busy = true;
      // Let the rest of this turn (a whole broadcast) join the first batch.
      this.#schedule(this.#start);
    }
    return true;
  }

  /** Stops writing and drops whatever is queued (the caller closes the connection). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#chunks = null;
    this.#held = 0;
    this.#wake();
  }

  /** Resolves once everything queued has been written (or the writer closed). */
  flushed(): Promise<void> {
    if (this.#held === 0 || this.#closed) return Promise.resolve();
    return new Promise((resolve) => (this.#waiters ??= []).push(resolve));
  }

  /** Writes one batch (in as many writes as it takes), then schedules the next. */
  async #run(): Promise<void> {
    if (this.#closed || this.#chunks === null) return this.#idle();
    const batch = join(this.#chunks);
    this.#chunks = null;
    try {
      for (let off = 0; off < batch.length;) {
        this.#writes++;
        const n = await this.#sink.write(off === 0 ? batch : batch.subarray(off));
        if (this.#closed) return;
        off += n;
        this.#held -= n;
        this.#progressAt = performance.now();
        this.#onProgress?.();
        if (this.#closed) return;
      }
    } catch (err) {
      if (!this.#closed) {
        this.close();
        this.#onError?.(err);
      }
      return;
    }
    if (this.#chunks === null) this.#idle();
    else this.#schedule(this.#start);
  }

  #idle(): void {
    this.#busy = false;
    if (this.#held === 0) this.#wake();
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = null;
    waiters?.forEach((w) => w());
  }
}

function join(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  let size = 0;
  for (const c of chunks) size += c.length;
  const out = new Uint8Array(size);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}
