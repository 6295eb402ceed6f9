/**
 * Where the chat client's typed lines come from and where the server's lines
 * go: a terminal (raw mode, an input line redrawn under each message so
 * nothing typed is garbled), a pipe or file (scriptable: one line each), or a
 * queue the demo pushes into.
 *
 * @example
 * ```ts
 * import { lineKeyboard } from "./keyboard.ts";
 * import { listInput } from "../cli/input.ts";
 * const shown: string[] = [];
 * const kb = lineKeyboard(listInput(["hello"]), (t) => shown.push(t));
 * console.assert((await kb.next()) === "hello");
 * kb.show("Msg bob says: hi");
 * ```
 * @module
 */
import type { LineInput } from "../cli/input.ts";
import { writeAllSync } from "../cli/output.ts";
import { aboveInput, inputLine, LineEditor } from "./line_editor.ts";

/** The client's two ends that face a person. */
export interface Keyboard {
  /** True when a person types (a terminal). */
  readonly interactive: boolean;
  /** The next line typed; null at end of input (Ctrl-D, end of a pipe). */
  next(): Promise<string | null>;
  /** Shows `question` (on a terminal) and returns the answer; null at end of input. */
  ask(question: string): Promise<string | null>;
  /** The prompt in front of the input line (a terminal only). */
  setPrompt(prompt: string): void;
  /** Shows one line from the server as soon as it arrives. */
  show(line: string): void;
  /** Shows one status line of the client (stderr when not on a terminal). */
  note(line: string): void;
  /** Gives the terminal back (cooked mode, input line cleared). */
  close(): void;
}

/** A keyboard made of a line source and writers: pipes, files, the demo. */
export function lineKeyboard(
  input: LineInput,
  write: (text: string) => void,
  writeNote: (text: string) => void = write,
): Keyboard {
  return {
    interactive: input.interactive,
    next: () => input.next(),
    ask(question) {
      if (input.interactive) write(question);
      return input.next();
    },
    setPrompt() {},
    show: (line) => write(`${line}\n`),
    note: (line) => writeNote(`${line}\n`),
    close() {},
  };
}

/** A line source the demo (or a test) pushes lines into; `end()` is end of input. */
export class QueueInput implements LineInput {
  readonly interactive = false;
  #lines: (string | null)[] = [];
  #waiting: ((line: string | null) => void) | undefined;

  /** Types one line. */
  push(line: string): void {
    this.#give(line);
  }

  /** Ends the input (like Ctrl-D). */
  end(): void {
    this.#give(null);
  }

  next(): Promise<string | null> {
    if (this.#lines.length > 0) return Promise.resolve(this.#lines.shift()!);
    return new Promise((resolve) => (this.#waiting = resolve));
  }

  #give(line: string | null): void {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    if (waiting) waiting(line);
    else this.#lines.push(line);
  }
}

const encoder = new TextEncoder();

/**
 * The keyboard of a terminal: stdin in raw mode (with signals kept, so Ctrl-C
 * still stops the client), edited by {@linkcode LineEditor}, and every server
 * line printed above the input line, which is then redrawn.
 */
export function terminalKeyboard(): Keyboard {
  return new TerminalKeyboard();
}

/** See {@linkcode terminalKeyboard}. */
class TerminalKeyboard implements Keyboard {
  readonly interactive = true;
  readonly #editor = new LineEditor();
  readonly #lines = new QueueInput();
  #prompt = "";
  #raw = false;
  #reading = false;
  #closed = false;

  next(): Promise<string | null> {
    this.#start();
    return this.#lines.next();
  }

  async ask(question: string): Promise<string | null> {
    const saved = this.#prompt;
    this.#prompt = question;
    this.#start();
    this.#redraw();
    const answer = await this.#lines.next();
    this.#prompt = saved;
    // Keep the question and its answer on screen, like a cooked terminal would.
    this.#out(`\r\x1b[2K${question}${answer ?? ""}\r\n`);
    this.#redraw();
    return answer;
  }

  setPrompt(prompt: string): void {
    this.#prompt = prompt;
    if (this.#reading) this.#redraw();
  }

  show(line: string): void {
    if (this.#reading && !this.#closed) {
      this.#out(aboveInput(line, this.#prompt, this.#editor.buffer, columns()));
    } else this.#out(`${line}\n`);
  }

  note(line: string): void {
    this.show(line);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#reading) this.#out("\r\x1b[2K");
    if (!this.#raw) return;
    try {
      Deno.stdin.setRaw(false);
    } catch {
      // the terminal is gone
    }
  }

  /** Raw mode and the reading loop, on first use. */
  #start(): void {
    if (this.#reading || this.#closed) return;
    this.#reading = true;
    try {
      Deno.stdin.setRaw(true, { cbreak: true });
      this.#raw = true;
    } catch {
      // not a terminal after all: plain reads still work
    }
    this.#redraw();
    void this.#read();
  }

  async #read(): Promise<void> {
    const decoder = new TextDecoder();
    const buf = new Uint8Array(1024);
    while (!this.#closed) {
      let n: number | null;
      try {
        n = await Deno.stdin.read(buf);
      } catch {
        n = null;
      }
      if (n === null) return this.#lines.end();
      this.#typed(decoder.decode(buf.subarray(0, n), { stream: true }));
    }
  }

  /** What was typed: a submitted line, the end of input, or an edit to show. */
  #typed(text: string): void {
    for (const action of this.#editor.feed(text)) {
      if (action.kind === "submit") {
        this.#lines.push(action.line);
        this.#redraw();
      } else if (action.kind === "eof" || action.kind === "interrupt") {
        this.#lines.end();
      } else {
        this.#redraw();
      }
    }
  }

  #redraw(): void {
    this.#out(inputLine(this.#prompt, this.#editor.buffer, columns()));
  }

  #out(text: string): void {
    writeAllSync(Deno.stdout, encoder.encode(text));
  }
}

function columns(): number {
  try {
    return Deno.consoleSize().columns;
  } catch {
    return 80;
  }
}
