/**
 * nc's ends of the pipe: stdin read in large reused buffers and stdout written
 * without copies, each the fastest way that cannot stall the other direction.
 * A regular file (or /dev/null) never blocks for long, so it is read or written
 * with a direct synchronous call; a pipe or terminal may block indefinitely,
 * so it goes through Deno's asynchronous path and the event loop keeps moving
 * the other direction meanwhile.
 *
 * @example
 * ```ts ignore
 * import { stdinInput, stdoutOutput } from "./stdio.ts";
 * const input = stdinInput();
 * const output = stdoutOutput();
 * for (let c = await input.read(); c !== null; c = await input.read()) await output.write(c);
 * ```
 * @module
 */
import { after } from "../cli/timer.ts";

/** Default read size: large reads keep the per-call cost small at GB/s rates. */
export const BUFFER_SIZE = 1 << 20;

/** A source of byte chunks; `null` at end of input. */
export interface Input {
  /**
   * The next chunk. It stays valid until the next-but-one `read()` (two
   * buffers alternate), so a caller may read ahead while one chunk is sent.
   */
  read(): Promise<Uint8Array | null>;
  /** True when a person types the input (a terminal). */
  readonly interactive: boolean;
  /**
   * For the zero-copy path (zero_copy.ts): the descriptor of a regular file
   * or a device behind this input, null when there is no input at all (-d),
   * undefined when it is anything else (a pipe, a terminal).
   */
  readonly fd?: number | null;
  /**
   * Nothing else needs the event loop any more (the other direction has
   * ended and there is no idle timer): reads may block in the system call,
   * which is faster than the asynchronous path for pipes.
   */
  mayBlock?(): void;
}

/** A sink for byte chunks; `write` resolves when every byte is written. */
export interface Output {
  write(chunk: Uint8Array): Promise<void> | void;
  /** For the zero-copy path: the descriptor of a regular file or /dev/null behind it. */
  readonly fd?: number;
  /** As {@linkcode Input.mayBlock}: writes may block from now on. */
  mayBlock?(): void;
}

/** What kind of file descriptor `fd` is. */
export type FdKind = "file" | "chardev" | "pipe" | "socket" | "tty" | "other";

/**
 * The kind of file behind `fd` (0 stdin, 1 stdout), from a stat of
 * `/proc/self/fd/N` (node:fs's fstat would cost ~60 ms of start-up). Where
 * that cannot tell (no /proc), "other": the always-safe asynchronous path.
 */
export function fdKind(fd: 0 | 1): FdKind {
  try {
    if ((fd === 0 ? Deno.stdin : Deno.stdout).isTerminal()) return "tty";
    const st = Deno.statSync(`/proc/self/fd/${fd}`);
    if (st.isFile) return "file";
    if (st.isCharDevice) return "chardev";
    if (st.isFifo) return "pipe";
    if (st.isSocket) return "socket";
  } catch {
    // no /proc, or a closed descriptor
  }
  return "other";
}

interface SyncReader {
  readSync(p: Uint8Array): number | null;
  read(p: Uint8Array): Promise<number | null>;
}

/** Chunks from a reader with two alternating buffers of `size` bytes. */
export function readerInput(
  reader: SyncReader,
  options: { sync: boolean; interactive?: boolean; size?: number; fd?: number },
): Input {
  const size = options.size ?? BUFFER_SIZE;
  const buffers = [new Uint8Array(size), new Uint8Array(size)];
  let turn = 0;
  let done = false;
  let sync = options.sync;
  return {
    interactive: options.interactive ?? false,
    fd: options.fd,
    mayBlock() {
      if (!options.interactive) sync = true;
    },
    async read() {
      if (done) return null;
      const buf = buffers[turn];
      turn ^= 1;
      while (true) {
        const n = sync ? reader.readSync(buf) : await reader.read(buf);
        if (n === null) {
          done = true;
          return null;
        }
        if (n > 0) return buf.subarray(0, n);
      }
    },
  };
}

/**
 * stdin, read synchronously when it is a regular file or /dev/null; a pipe
 * asynchronously until `mayBlock()`; a terminal always asynchronously.
 */
export function stdinInput(size = BUFFER_SIZE): Input {
  const kind = fdKind(0);
  const seekable = kind === "file" || kind === "chardev";
  return readerInput(Deno.stdin, {
    sync: seekable,
    interactive: kind === "tty",
    size,
    fd: seekable ? 0 : undefined,
  });
}

/** An input that never yields anything (`-d`). */
export const NO_INPUT: Input = {
  interactive: false,
  fd: null,
  read: () => new Promise<never>(() => {}),
};

interface SyncWriter {
  writeSync(p: Uint8Array): number;
  write(p: Uint8Array): Promise<number>;
}

/**
 * Writes every byte of each chunk to `writer`: synchronously when `sync`
 * (or once `mayBlock()` was called), else through the asynchronous path.
 */
export function writerOutput(writer: SyncWriter, sync: boolean, fd?: number): Output {
  const writeSync = (chunk: Uint8Array) => {
    let off = 0;
    while (off < chunk.length) off += writer.writeSync(chunk.subarray(off));
  };
  const writeAsync = async (chunk: Uint8Array) => {
    let off = 0;
    while (off < chunk.length) off += await writer.write(chunk.subarray(off));
  };
  let blocking = sync;
  return {
    fd,
    write: (chunk) => blocking ? writeSync(chunk) : writeAsync(chunk),
    mayBlock() {
      blocking = true;
    },
  };
}

/**
 * stdout, written synchronously when it is a regular file, /dev/null or a
 * terminal; a pipe or socket asynchronously until `mayBlock()`.
 */
export function stdoutOutput(): Output {
  const kind = fdKind(1);
  const plain = kind === "file" || kind === "chardev";
  return writerOutput(Deno.stdout, plain || kind === "tty", plain ? 1 : undefined);
}

/**
 * Calls `onIdle` once no `touch()` came for `ms` milliseconds (`-w`). One
 * timer re-arms itself, so touching per chunk costs one clock read.
 */
export class IdleTimer implements Disposable {
  #last = performance.now();
  #cancel: (() => void) | undefined;
  readonly #ms: number;
  readonly #onIdle: () => void;

  constructor(ms: number, onIdle: () => void) {
    this.#ms = ms;
    this.#onIdle = onIdle;
    this.#arm(ms);
  }

  /** Data moved: the idle time starts again. */
  touch(): void {
    this.#last = performance.now();
  }

  #arm(delay: number): void {
    this.#cancel = after(delay, () => {
      const left = this.#last + this.#ms - performance.now();
      if (left > 1) this.#arm(left);
      else {
        this.#cancel = undefined;
        this.#onIdle();
      }
    });
  }

  /** Stops the timer. */
  stop(): void {
    this.#cancel?.();
    this.#cancel = undefined;
  }

  [Symbol.dispose](): void {
    this.stop();
  }
}
