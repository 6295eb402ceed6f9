/**
 * Server-Sent Events for the lab console: the framing as pure code, and one
 * browser's stream with a bounded queue. A browser that stops reading (slow,
 * asleep, gone without a FIN) fills its queue; the next message that does not
 * fit drops the queue and ends the stream, so it costs the lab at most the
 * bound. A live browser's EventSource reconnects and gets a fresh snapshot.
 *
 * ```text
 * frame   = [ "id: " id LF ] [ "event: " name LF ] 1*( "data: " line LF ) LF
 * retry   = "retry: " 1*DIGIT LF LF                 ; the reconnection delay in ms
 * comment = ":" text LF LF                          ; ignored by browsers
 * ```
 *
 * @example
 * ```ts
 * import { sseFrame } from "./sse.ts";
 * console.assert(sseFrame("tick", "a\nb") === "event: tick\ndata: a\ndata: b\n\n");
 * ```
 * @module
 */

/** One event: `data` split into `data:` lines at every line end (CR LF, CR or LF). */
export function sseFrame(event: string, data: string, id?: string): string {
  for (const [what, text] of [["event", event], ["id", id ?? ""]]) {
    if (/[\r\n]/.test(text)) throw new SyntaxError(`Cannot put a line end in an SSE ${what}`);
  }
  const head = (id !== undefined ? `id: ${id}\n` : "") + (event !== "" ? `event: ${event}\n` : "");
  const body = data.split(/\r\n|\r|\n/).map((line) => `data: ${line}\n`).join("");
  return `${head}${body}\n`;
}

/** The frame that sets the browser's reconnection delay. */
export function sseRetry(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0) throw new RangeError(`Cannot use retry ${ms}`);
  return `retry: ${ms}\n\n`;
}

/** How a dropped browser's response ends (the HTTP server aborts it). */
export class SlowReaderError extends Error {
  constructor() {
    super("event stream reader too slow");
    this.name = "SlowReaderError";
  }
}

/** Why a stream ended. */
export type SseEnd = "full" | "gone" | "closed";

/**
 * One browser's event stream. `send` queues bytes (shared between browsers:
 * encode a frame once, send it to all); the HTTP server pulls them as the
 * socket drains. At most `maxQueuedBytes` wait; past that the stream ends.
 */
export class SseStream {
  readonly body: ReadableStream<Uint8Array>;
  readonly maxQueuedBytes: number;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #ended?: SseEnd;
  readonly #onEnd: (why: SseEnd) => void;

  constructor(maxQueuedBytes: number, onEnd: (why: SseEnd) => void = () => {}) {
    this.maxQueuedBytes = maxQueuedBytes;
    this.#onEnd = onEnd;
    this.body = new ReadableStream<Uint8Array>(
      {
        start: (c) => void (this.#controller = c),
        cancel: () => this.#end("gone"),
      },
      { highWaterMark: maxQueuedBytes, size: (chunk) => chunk.byteLength },
    );
  }

  /** Bytes queued and not yet taken by the HTTP server. */
  get queuedBytes(): number {
    return this.#ended ? 0 : this.maxQueuedBytes - (this.#controller.desiredSize ?? 0);
  }

  /** Why the stream ended, or undefined while it runs. */
  get ended(): SseEnd | undefined {
    return this.#ended;
  }

  /** Queues `chunk`; false once the stream has ended (now or before). */
  send(chunk: Uint8Array): boolean {
    if (this.#ended) return false;
    if (this.queuedBytes + chunk.byteLength > this.maxQueuedBytes) {
      // error() (unlike close()) discards the queue at once and aborts the response.
      this.#controller.error(new SlowReaderError());
      this.#end("full");
      return false;
    }
    this.#controller.enqueue(chunk);
    return true;
  }

  /** Ends the stream after what is queued (shutdown, or the server cutting it). */
  close(): void {
    if (this.#ended) return;
    this.#controller.close();
    this.#end("closed");
  }

  #end(why: SseEnd): void {
    if (this.#ended) return;
    this.#ended = why;
    this.#onEnd(why);
  }
}
