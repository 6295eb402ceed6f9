/**
 * The shared help builder: every `socklab COMMAND --help` passes through it
 * (main.ts loads it only when help is asked for),
 * so every command's option list reads as one aligned column and every help
 * text ends with an `Exit status:` line. Commands either declare their
 * options with a description (`arg`, `help` beside `type`/`short`, see
 * {@linkcode formatHelp}) and get the text generated from the very table the
 * parser reads, or keep free text, which {@linkcode finishHelp} aligns.
 *
 * @example
 * ```ts
 * import { formatHelp } from "./help.ts";
 * const text = formatHelp({
 *   usage: "usage: socklab x [-v] [--port N]",
 *   options: {
 *     verbose: { type: "boolean", short: "v", help: "say more" },
 *     port: { type: "string", arg: "N", help: "the port (default 1500)" },
 *   },
 *   exitStatus: "0 success, 1 failure, 2 usage.",
 * });
 * console.assert(text.includes("  -v, --verbose  say more\n  --port N       the port"));
 * console.assert(text.endsWith("Exit status: 0 success, 1 failure, 2 usage."));
 * ```
 * @module
 */

/** What an option declares for its help line, beside its parser fields. */
export interface OptionHelp {
  type: "string" | "boolean";
  short?: string;
  /** The value's name in the help (`N`, `ADDR`); string options only. */
  arg?: string;
  /** The description; options without one are accepted but not listed. */
  help?: string;
}

/** A generated help text's parts, in the order printed. */
export interface HelpSpec {
  /** Usage line(s), first. */
  usage: string;
  /** Paragraphs between the usage and the options. */
  about?: string;
  /** The options, in the order listed. */
  options?: Record<string, OptionHelp>;
  /** Extra rows after the options: operands such as `["INTERFACE", "only this one"]`. */
  rows?: readonly (readonly [string, string])[];
  /** Paragraphs after the options (examples, notes). */
  after?: string;
  /** What each exit status means, e.g. `0 found, 1 unknown host, 2 usage.` */
  exitStatus?: string;
}

/** Lines are wrapped to this width. */
const WIDTH = 80;
/** Descriptions start at most this far in; a longer flag puts its description below. */
const MAX_COLUMN = 30;

/** `-v, --verbose`, `--port N`: the flag column of one option. */
export function flagText(name: string, o: OptionHelp): string {
  const value = o.type === "string" ? ` ${o.arg ?? "VALUE"}` : "";
  return o.short ? `-${o.short}, --${name}${value}` : `--${name}${value}`;
}

/**
 * Words of `text` in lines of at most `width` characters (a longer word
 * stays whole, and so does a 'quoted example').
 */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.match(/'[^']*'\S*|\S+/g) ?? []) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines;
}

/**
 * Rows `[flags, description]` as aligned lines: two spaces in, the
 * descriptions in one column, wrapped to the width under that column.
 */
export function tableLines(rows: readonly (readonly [string, string])[]): string[] {
  const widest = Math.max(0, ...rows.map(([flags]) => flags.length));
  const column = Math.min(2 + widest + 2, MAX_COLUMN);
  const lines: string[] = [];
  for (const [flags, description] of rows) {
    const text = wrap(description, Math.max(20, WIDTH - column));
    const head = `  ${flags}`;
    if (head.length + 2 > column) lines.push(head);
    else lines.push(head.padEnd(column) + (text.shift() ?? ""));
    for (const more of text) lines.push(" ".repeat(column) + more);
  }
  return lines;
}

/** The `Exit status:` paragraph, wrapped (a status number stays with the word after it). */
export function exitStatusLine(meaning: string): string {
  const glued = `Exit status: ${meaning}`.replace(/(^|[\s(])(\d+) /g, "$1$2\u0001");
  return wrap(glued, WIDTH).join("\n").replaceAll("\u0001", " ");
}

/** The help text of `spec`: usage, about, options, rows, after, exit status. */
export function formatHelp(spec: HelpSpec | string): string {
  if (typeof spec === "string") return spec;
  const parts = [spec.usage];
  if (spec.about) parts.push(spec.about);
  const rows: [string, string][] = [];
  for (const [name, o] of Object.entries(spec.options ?? {})) {
    if (o.help !== undefined) rows.push([flagText(name, o), o.help]);
  }
  rows.push(...(spec.rows ?? []).map(([a, b]) => [a, b] as [string, string]));
  if (rows.length > 0) parts.push(tableLines(rows).join("\n"));
  if (spec.after) parts.push(spec.after);
  if (spec.exitStatus) parts.push(exitStatusLine(spec.exitStatus));
  return parts.join("\n\n");
}

/** An option line of free help text: indent, flags, the gap, the description. */
const OPTION_LINE = /^( {2,6})(-\S(?:.*?\S)?)( {2,})(\S.*)$/;
/**
 * The same with one space as the gap: the flag, at most one value name in
 * capitals, then the description (`--rates FILE a CSV matrix`).
 */
const TIGHT_OPTION_LINE =
  /^( {2,6})((?:-[A-Za-z0-9], )?--?[A-Za-z0-9][\w-]*(?: [A-Z][\w:,.|[\]-]*)?)( )(\S.*)$/;

function parseOptionLine(line: string): RegExpExecArray | null {
  return OPTION_LINE.exec(line) ?? TIGHT_OPTION_LINE.exec(line);
}

/** True for a line that starts like an option (two to six spaces, then `-x` or `--x`). */
export function looksLikeOption(line: string): boolean {
  return /^ {2,6}--?[A-Za-z0-9]/.test(line);
}

/**
 * Free help text with each block of option lines (and their continuation
 * lines) re-aligned to one description column. A line whose flags and
 * description are separated by one space is split after the flag and its
 * value name.
 */
export function alignOptions(text: string): string {
  const lines = text.split("\n");
  for (let start = 0; start < lines.length; start++) {
    if (!looksLikeOption(lines[start])) continue;
    let end = start + 1;
    while (end < lines.length && (looksLikeOption(lines[end]) || /^ {3,}\S/.test(lines[end]))) {
      end++;
    }
    lines.splice(start, end - start, ...alignBlock(lines.slice(start, end)));
    start = end - 1;
  }
  return lines.join("\n");
}

function alignBlock(block: string[]): string[] {
  const parsed = block.map(parseOptionLine);
  const widths = parsed.flatMap((m) => m ? [m[1].length + m[2].length] : []);
  if (widths.length === 0) return block;
  const column = Math.max(...widths) + 2;
  let oldColumn = column;
  return block.map((line, k) => {
    const m = parsed[k];
    if (m && looksLikeOption(line)) {
      oldColumn = m[1].length + m[2].length + m[3].length;
      return (m[1] + m[2]).padEnd(column) + m[4];
    }
    if (looksLikeOption(line)) return line;
    const indent = line.length - line.trimStart().length;
    return " ".repeat(column + Math.max(0, indent - oldColumn)) + line.trimStart();
  });
}

/**
 * What `--help` prints: `text` with its option columns aligned and, when it
 * has no `Exit status` line of its own, `defaultExit` as one.
 */
export function finishHelp(text: string, defaultExit: string): string {
  const aligned = alignOptions(text.trimEnd());
  if (/^Exit status\b/m.test(aligned)) return aligned;
  return `${aligned}\n\n${exitStatusLine(defaultExit)}`;
}
