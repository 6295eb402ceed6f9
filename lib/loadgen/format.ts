/**
 * Text for the load generators' reports as pure code: aligned and Markdown
 * tables, counts, rates, latencies and sizes, and the `--bytes`/`--duration`
 * values parsed back from text.
 *
 * @example
 * ```ts
 * import { formatTable, parseSize } from "./format.ts";
 * console.assert(parseSize("64K") === 65536);
 * console.log(formatTable([["rate", "48,000 req/s"]], { header: ["what", "value"] }).join("\n"));
 * ```
 * @module
 */

/** Options of {@linkcode formatTable}. */
export interface TableOptions {
  /** Column titles (default none). */
  header?: readonly string[];
  /** `"r"` right-aligns a column (numbers); default every column left. */
  align?: readonly ("l" | "r")[];
  /** A Markdown table (`| a | b |` with a separator row) instead of spaced columns. */
  markdown?: boolean;
}

/** Lines of a table whose columns are padded to the widest cell (by code points). */
export function formatTable(
  rows: readonly (readonly string[])[],
  options: TableOptions = {},
): string[] {
  const all = options.header ? [options.header, ...rows] : [...rows];
  const columns = Math.max(0, ...all.map((r) => r.length));
  const widths = Array.from(
    { length: columns },
    (_, c) => Math.max(options.markdown ? 3 : 0, ...all.map((r) => width(r[c] ?? ""))),
  );
  const pad = (cell: string, c: number) => {
    const fill = " ".repeat(widths[c] - width(cell));
    return options.align?.[c] === "r" ? fill + cell : cell + fill;
  };
  const line = (r: readonly string[]) => {
    const cells = widths.map((_, c) => pad(r[c] ?? "", c));
    return options.markdown ? `| ${cells.join(" | ")} |` : cells.join("  ").trimEnd();
  };
  const out: string[] = [];
  if (options.header) {
    out.push(line(options.header));
    if (options.markdown) {
      out.push(
        `|${
          widths.map((w, c) =>
            options.align?.[c] === "r" ? `${"-".repeat(w + 1)}:` : "-".repeat(w + 2)
          )
            .join("|")
        }|`,
      );
    }
  }
  for (const r of rows) out.push(line(r));
  return out;
}

function width(text: string): number {
  return [...text].length;
}

/** `1,234,567` (whole numbers, en-US grouping). */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/** A latency given in ms with three significant figures: `0.412 ms`, `12.3 ms`, `1,234 ms`. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return "-";
  if (ms >= 1000) return `${formatCount(ms)} ms`;
  return `${Number(ms.toPrecision(3))} ms`;
}

/** A throughput in MB/s (10^6 bytes) with the bits per second beside it: `1,234 MB/s (9.87 Gbit/s)`. */
export function formatThroughput(bytesPerSecond: number): string {
  const mb = bytesPerSecond / 1e6;
  const bits = bytesPerSecond * 8;
  const bitText = bits >= 1e9
    ? `${(bits / 1e9).toFixed(2)} Gbit/s`
    : `${(bits / 1e6).toFixed(1)} Mbit/s`;
  const mbText = mb >= 100 ? formatCount(mb) : Number(mb.toPrecision(3)).toString();
  return `${mbText} MB/s (${bitText})`;
}

/** A byte count in the largest binary unit that keeps it at or above 1: `1 GiB`, `64 KiB`, `100 bytes`. */
export function formatBytes(n: number): string {
  const units = ["KiB", "MiB", "GiB", "TiB"];
  if (n < 1024) return `${n} byte${n === 1 ? "" : "s"}`;
  let v = n;
  let u = -1;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${Number(v.toPrecision(4))} ${units[u]}`;
}

/** A share as a percentage with two decimals: `0.25 %`. */
export function formatPercent(part: number, whole: number): string {
  return whole > 0 ? `${(100 * part / whole).toFixed(2)} %` : "0.00 %";
}

const SIZE_UNITS: Record<string, number> = {
  "": 1,
  k: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gib: 1024 ** 3,
};

/**
 * Parses a byte count: a whole number with an optional binary suffix
 * (`K`/`KiB`, `M`/`MiB`, `G`/`GiB`, case-insensitive), e.g. `1G` = 1,073,741,824.
 * Throws SyntaxError for anything else.
 */
export function parseSize(text: string): number {
  const m = /^\s*([0-9]+)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = m ? SIZE_UNITS[m[2].toLowerCase()] : undefined;
  if (!m || unit === undefined) {
    throw new SyntaxError(`Cannot parse size "${text}": use a whole number of bytes, or K, M, G`);
  }
  const n = Number(m[1]) * unit;
  if (!Number.isSafeInteger(n)) throw new RangeError(`Cannot parse size "${text}": too large`);
  return n;
}

/** Parses seconds as a decimal number (`5`, `0.5`). Throws SyntaxError for anything else. */
export function parseSeconds(text: string): number {
  if (!/^\s*([0-9]+(\.[0-9]*)?|\.[0-9]+)\s*$/.test(text)) {
    throw new SyntaxError(`Cannot parse seconds "${text}": use a number such as 5 or 0.5`);
  }
  return Number(text);
}
