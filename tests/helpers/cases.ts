/**
 * Tables of test cases written one case a line, columns split by `|`, so a
 * protocol test that checks many requests reads as a table and not as a wall
 * of wrapped string tuples:
 *
 * ```ts
 * const ANSWERS = cases`
 *   answers MIN               | MIN 5 -3 7 | MIN -3
 *   refuses an empty request  | ""         | ERR empty request
 * `;
 * for (const [name, request, reply] of ANSWERS) { ... }
 * ```
 *
 * A cell is trimmed; one written `"..."` is a JSON string (for blanks at
 * either end, the empty string, `|`, or escapes such as `\t`, `\r\n`, `\u0000`).
 * `${...}` values (in unquoted cells) are put in as they are. Blank lines and lines starting with
 * `#` are skipped. Every row must have as many cells as the first.
 * @module
 */

const MARK = "\u0001"; // stands for an interpolation while lines are split

/** Parses a `cases` table (see the module doc); throws on a ragged row. */
export function cases(strings: TemplateStringsArray, ...values: unknown[]): string[][] {
  const text = strings.raw.join(MARK);
  let next = 0;
  const rows: string[][] = [];
  for (const line of text.split("\n")) {
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    const row = splitCells(trimmed).map((cell) =>
      cell.replaceAll(MARK, () => String(values[next++]))
    );
    if (rows.length && row.length !== rows[0].length) {
      throw new Error(
        `cases: ${row.length} cells where the first row has ${rows[0].length}: ${line}`,
      );
    }
    rows.push(row);
  }
  return rows;
}

/** Splits on `|` outside `"..."` cells; decodes the quoted ones. */
function splitCells(line: string): string[] {
  const cells: string[] = [];
  const cell = /\s*("(?:[^"\\]|\\.)*"|[^|]*?)\s*(\||$)/y;
  while (cell.lastIndex < line.length) {
    const m = cell.exec(line);
    if (!m) throw new Error(`cases: cannot read the cells of: ${line}`);
    const raw = m[1];
    cells.push(raw.startsWith('"') && raw.length > 1 ? JSON.parse(raw) : raw);
    if (m[2] === "") break;
  }
  return cells;
}
