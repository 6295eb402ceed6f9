/**
 * The benchmark rows as one table, so a module run on its own
 * (`deno run -A bench/nc.ts`) prints what `deno task bench` prints.
 * @module
 */
import { formatTable } from "../lib/loadgen/format.ts";
import type { BenchRow } from "./types.ts";

const HEADER = ["name", "socklab", "peer", "ratio", "goal", "met"];

/** "yes", "NO", or "-" for a row without a goal. */
function metCell(row: BenchRow): string {
  return row.met === undefined ? "-" : row.met ? "yes" : "NO";
}

/** The cells of a row; `|` escaped so a Markdown table stays whole. */
function cells(row: BenchRow, markdown: boolean): string[] {
  const esc = (s: string) => markdown ? s.replaceAll("|", "\\|") : s;
  return [row.name, row.socklab, row.peer, row.ratio, row.goal, metCell(row)].map(esc);
}

/** `rows` under a header, as aligned text lines or (`markdown`) a Markdown table. */
export function rowsTable(rows: readonly BenchRow[], markdown = false): string[] {
  return formatTable(rows.map((r) => cells(r, markdown)), { header: HEADER, markdown });
}

/** Prints `rows` as {@linkcode rowsTable} text: the end of each module's own `main`. */
export function printRows(rows: readonly BenchRow[]): void {
  console.log(rowsTable(rows).join("\n"));
}
