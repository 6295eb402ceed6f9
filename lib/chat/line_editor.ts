/**
 * The chat client's input line on a terminal, as pure code. The terminal is in
 * raw mode, so the client knows what is being typed and can print a message
 * from the server ABOVE the input line and redraw it, instead of cutting it
 * in half. Keys: printable text, Backspace, Ctrl-U (clear), Ctrl-W (delete a
 * word), Ctrl-L (redraw), Enter; Ctrl-D on an empty line is end of input;
 * Ctrl-C interrupts; escape sequences (arrows, function keys) are ignored.
 *
 * @example
 * ```ts
 * import { LineEditor } from "./line_editor.ts";
 * const ed = new LineEditor();
 * const actions = ed.feed("hx\x7fi\r");
 * console.assert(actions[0].kind === "submit" && actions[0].line === "hi");
 * ```
 * @module
 */

/** What a key press asks the client to do. */
export type EditorAction =
  | { kind: "submit"; line: string }
  | { kind: "eof" }
  | { kind: "interrupt" }
  | { kind: "changed" };

const ESC = "\x1b";
const CLEAR_LINE = "\r\x1b[2K";

type EscapeState = "none" | "esc" | "csi" | "ss3";

/** The line being typed. */
export class LineEditor {
  buffer = "";
  #escape: EscapeState = "none";
  #afterCR = false;

  /** Feeds decoded keyboard text; returns what it asks for, in order. */
  feed(text: string): EditorAction[] {
    const actions: EditorAction[] = [];
    let changed = false;
    for (const ch of text) {
      const wasCR = this.#afterCR;
      this.#afterCR = false;
      if (this.#escape !== "none") {
        this.#escapeChar(ch);
        continue;
      }
      switch (ch) {
        case "\r":
        case "\n":
          if (ch === "\n" && wasCR) break; // CR LF from a paste: one line
          this.#afterCR = ch === "\r";
          actions.push({ kind: "submit", line: this.buffer });
          this.buffer = "";
          changed = false;
          break;
        case "\x7f":
        case "\b":
          if (this.buffer !== "") {
            this.buffer = Array.from(this.buffer).slice(0, -1).join("");
            changed = true;
          }
          break;
        case "\x15": // Ctrl-U
          changed ||= this.buffer !== "";
          this.buffer = "";
          break;
        case "\x17": // Ctrl-W
          this.buffer = this.buffer.replace(/\S*\s*$/, "");
          changed = true;
          break;
        case "\x0c": // Ctrl-L
          changed = true;
          break;
        case "\x04": // Ctrl-D
          if (this.buffer === "") actions.push({ kind: "eof" });
          break;
        case "\x03": // Ctrl-C
          actions.push({ kind: "interrupt" });
          break;
        case ESC:
          this.#escape = "esc";
          break;
        case "\t":
          this.buffer += " ";
          changed = true;
          break;
        default:
          if (ch < " ") break; // other control keys do nothing
          this.buffer += ch;
          changed = true;
      }
    }
    if (changed) actions.push({ kind: "changed" });
    return actions;
  }

  #escapeChar(ch: string): void {
    const code = ch.charCodeAt(0);
    if (this.#escape === "esc") {
      this.#escape = ch === "[" ? "csi" : ch === "O" ? "ss3" : "none";
    } else if (this.#escape === "ss3") {
      this.#escape = "none";
    } else if (code >= 0x40 && code <= 0x7e) {
      this.#escape = "none"; // the final byte of a CSI sequence
    }
  }
}

/** Redraws the input line: the prompt and the tail of the buffer that fits in `columns`. */
export function inputLine(prompt: string, buffer: string, columns = 80): string {
  const room = Math.max(columns - prompt.length - 1, 8);
  const chars = Array.from(buffer);
  const shown = chars.length > room ? chars.slice(chars.length - room).join("") : buffer;
  return `${CLEAR_LINE}${prompt}${shown}`;
}

/** Prints `line` where the input line was, then redraws the input line below it. */
export function aboveInput(line: string, prompt: string, buffer: string, columns = 80): string {
  return `${CLEAR_LINE}${line}\r\n${inputLine(prompt, buffer, columns).slice(CLEAR_LINE.length)}`;
}
