/**
 * Output helpers: colour only on a terminal and never with `NO_COLOR`, JSON
 * documents for `--json`, and plain line writers. Status goes to stderr, data
 * to stdout (as nc does), so scripts can parse stdout.
 *
 * @example
 * ```ts
 * import { paint, formatJson } from "./output.ts";
 * console.log(paint("green", "ok")); // plain "ok" when piped
 * console.log(formatJson({ a: 1 }));
 * ```
 * @module
 */
/**
 * The SGR codes socklab uses, as in node:util styleText (which is not imported:
 * loading node:util costs every command a fifth of Deno's start-up).
 */
const STYLES = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  blue: [34, 39],
  magenta: [35, 39],
  cyan: [36, 39],
  gray: [90, 39],
} as const;

/** A style name for {@linkcode paint}. */
export type Style = keyof typeof STYLES;

let colourOverride: boolean | undefined;

/** Whether stdout gets colour: a terminal, and `NO_COLOR` unset or empty. */
export function colourEnabled(): boolean {
  if (colourOverride !== undefined) return colourOverride;
  const noColor = Deno.env.get("NO_COLOR");
  if (noColor !== undefined && noColor !== "") return false;
  return Deno.stdout.isTerminal();
}

/** Forces colour on or off (tests); `undefined` restores detection. */
export function setColour(on: boolean | undefined): void {
  colourOverride = on;
}

/** `text` in `style` when colour is enabled, else `text` unchanged. */
export function paint(style: Style, text: string): string {
  if (!colourEnabled()) return text;
  const [on, off] = STYLES[style];
  return `\x1b[${on}m${text}\x1b[${off}m`;
}

/** One JSON document, pretty-printed; bigints become strings. */
export function formatJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_k, v) => typeof v === "bigint" ? v.toString() : v,
    2,
  );
}

const encoder = new TextEncoder();

/** Writes `text` to stdout synchronously (no newline added). */
export function writeOut(text: string): void {
  writeAllSync(Deno.stdout, encoder.encode(text));
}

/** Writes `text` to stderr synchronously (no newline added). */
export function writeErr(text: string): void {
  writeAllSync(Deno.stderr, encoder.encode(text));
}

/** Writes every byte of `data`, looping over partial writes. */
export function writeAllSync(w: { writeSync(p: Uint8Array): number }, data: Uint8Array): void {
  let off = 0;
  while (off < data.length) off += w.writeSync(data.subarray(off));
}
