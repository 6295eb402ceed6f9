/**
 * A server's log lines written in batches that never stall the server: lines
 * queued while a write is in flight go out as one write, and when the reader
 * falls behind by more than `maxBytes` (a pipe nobody reads, a paused
 * terminal) new lines are dropped and counted instead of blocking the event
 * loop as a synchronous `console.log` would. The count is reported in a line
 * once output flows again.
 *
 * @example
 * ```ts
 * import { LineWriter } from "./line_writer.ts";
 * const chunks: string[] = [];
 * const sink = { write: (p: Uint8Array) => (chunks.push(new TextDecoder().decode(p)), Promise.resolve(p.length)) };
 * const out = new LineWriter(sink);
 * out.line("one");
 * out.line("two"); // same turn: joins the first write
 * await out.flushed();
 * console.assert(chunks.join("") === "one\ntwo\n" && chunks.length === 1);
 * ```
 * @module
 */

/** Where a {@linkcode LineWriter} writes (`Deno.stdout` is one). */
export interface LineSink {
  /** Writes some of `p` and resolves how many bytes were written. */
  write(p: Uint8Array): Promise<number>;
}

/** Options of {@linkcode LineWriter}. */
export interface LineWriterOptions {
  /** Most bytes held while the reader is behind (default 1 MiB). */
  maxBytes?: number;
}

const encoder = new TextEncoder();

/** Lines to a sink, batched per write and bounded; see the module doc. */
export class LineWriter {
  readonly maxBytes: number;
  readonly #sink: LineSink;
  #queue: string[] = [];
  #held = 0;
  #busy = false;
  #failed = false;
  #dropped = 0;
  #droppedTotal = 0;
  #idle: (() => void)[] = [];

  constructor(sink: LineSink = Deno.stdout, options: LineWriterOptions = {}) {
    this.#sink = sink;
    this.maxBytes = options.maxBytes ?? 1 << 20;
  }

  /** Lines dropped so far because the reader was too slow. */
  get dropped(): number {
    return this.#droppedTotal;
  }

  /** Queues one line (a newline is added). Never blocks; may drop when the reader is behind. */
  line = (text: string): void => {
    if (this.#failed) return;
    if (this.#held + text.length + 1 > this.maxBytes) {
      this.#dropped++;
      this.#droppedTotal++;
      return;
    }
    if (this.#dropped > 0) {
      const note = `socklab: ${this.#dropped} log line${
        this.#dropped === 1 ? "" : "s"
      } dropped (output too slow)`;
      this.#dropped = 0;
      this.#queue.push(note);
      this.#held += note.length + 1;
    }
    this.#queue.push(text);
    this.#held += text.length + 1;
    if (!this.#busy) {
      this.#busy = true;
      // After the current turn, so that lines logged together leave together.
      queueMicrotask(() => this.#run());
    }
  };

  /** Resolves once every queued line has been written (or writing failed). */
  flushed(): Promise<void> {
    if (!this.#busy) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  async #run(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const text = this.#queue.join("\n") + "\n";
        this.#queue = [];
        const bytes = encoder.encode(text);
        let off = 0;
        while (off < bytes.length) off += await this.#sink.write(bytes.subarray(off));
        this.#held -= text.length;
      }
    } catch {
      // The reader is gone (EPIPE, closed terminal): nowhere left to log to.
      this.#failed = true;
      this.#queue = [];
    } finally {
      this.#held = Math.max(0, this.#held);
      this.#busy = false;
      for (const resolve of this.#idle.splice(0)) resolve();
    }
  }
}
