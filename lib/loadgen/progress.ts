/**
 * Live progress for the load generators: one status line on stderr, redrawn
 * in place a few times a second, only when stderr is a terminal (piped output
 * and logs stay clean). The line is erased before the summary is printed.
 *
 * @example
 * ```ts
 * import { LiveProgress } from "./progress.ts";
 * let n = 0;
 * const progress = LiveProgress.start(() => `${++n} requests`, { enabled: false });
 * progress.stop();
 * ```
 * @module
 */
import { writeErr } from "../cli/output.ts";

/** Options of {@linkcode LiveProgress.start}. */
export interface ProgressOptions {
  /** Whether to draw (default: stderr is a terminal). */
  enabled?: boolean;
  /** Redraw interval (default 250 ms). */
  intervalMs?: number;
  /** Where the text goes (default stderr). */
  write?: (text: string) => void;
}

/** CR then "erase the whole line": the next text overwrites the status line. */
const CLEAR_LINE = "\r\x1b[2K";

/** A status line redrawn on a timer until {@linkcode LiveProgress.stop}. */
export class LiveProgress {
  #timer: ReturnType<typeof setInterval> | undefined;
  #write: (text: string) => void;
  #drawn = false;

  private constructor(write: (text: string) => void) {
    this.#write = write;
  }

  /** Starts redrawing `render()`; a no-op object when not enabled. */
  static start(render: () => string, options: ProgressOptions = {}): LiveProgress {
    const enabled = options.enabled ?? Deno.stderr.isTerminal();
    const progress = new LiveProgress(options.write ?? writeErr);
    if (enabled) {
      progress.#timer = setInterval(() => {
        progress.#write(CLEAR_LINE + render());
        progress.#drawn = true;
      }, options.intervalMs ?? 250);
    }
    return progress;
  }

  /** Stops redrawing and erases the status line. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#drawn) this.#write(CLEAR_LINE);
    this.#drawn = false;
  }
}
