/**
 * Rate tables from files, as pure parsers (text in, table out): a CSV matrix
 * in the SPEC's layout, or the European Central Bank's daily reference-rate
 * XML with cross rates derived through the euro. A malformed file is a
 * SyntaxError whose message starts with the line it is about.
 *
 * CSV grammar:
 * ```text
 * file   = *( comment / blank ) header *( row / comment / blank )
 * header = [ label ] 1*( "," CODE )        ; ",USD,GBP,CAD,EUR,AUD"
 * row    = CODE 1*( "," rate )             ; "GBP,0.653624,1,0.650495,0.870299,0.608939"
 * rate   = positive decimal: units of the ROW currency one COLUMN unit buys
 * comment = "#" *any
 * ```
 * ECB XML (eurofxref-daily.xml; eurofxref-hist.xml works too, its newest day is used):
 * ```text
 * <Cube time='2024-05-10'><Cube currency='USD' rate='1.0837'/>...</Cube>   ; 1 EUR = rate units
 * ```
 * @module
 */
import type { RateTable } from "./protocol.ts";

const CODE_RE = /^[A-Z]{3}$/;
const RATE_RE = /^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$/;

function lineError(line: number, message: string): SyntaxError {
  return new SyntaxError(`line ${line}: ${message}`);
}

function short(text: string): string {
  return text.length > 24 ? `${text.slice(0, 24)}...` : text;
}

function parseRate(text: string, line: number, what: string): number {
  const value = Number(text);
  if (!RATE_RE.test(text) || !(value > 0) || !Number.isFinite(value)) {
    throw lineError(line, `${what}: "${short(text)}" is not a positive number`);
  }
  return value;
}

function parseCode(text: string, line: number, what: string): string {
  const code = text.toUpperCase();
  if (!CODE_RE.test(code)) {
    throw lineError(line, `${what}: "${short(text)}" is not a 3-letter currency code`);
  }
  return code;
}

/**
 * The cells of one CSV line, blanks around each trimmed. A trailing comma (as
 * spreadsheets often write) ends the line instead of adding an empty cell.
 */
function csvCells(line: string): string[] {
  const cells = line.split(",").map((c) => c.trim());
  if (cells.length > 1 && cells[cells.length - 1] === "") cells.pop();
  return cells;
}

/** Parses a CSV matrix in the SPEC's layout. */
export function parseCsvTable(text: string, source = "CSV file"): RateTable {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  let codes: string[] | undefined;
  let headerLine = 0;
  const rows = new Map<string, number[]>();
  lines.forEach((raw, i) => {
    const line = i + 1;
    const trimmed = raw.trim();
    if (trimmed === "" || trimmed.startsWith("#")) return;
    const cells = csvCells(trimmed);
    if (!codes) {
      if (cells.length < 3) {
        throw lineError(line, "the header needs a label cell and at least two currency codes");
      }
      codes = cells.slice(1).map((c) => parseCode(c, line, "header"));
      const dup = codes.find((c, k) => codes!.indexOf(c) !== k);
      if (dup) throw lineError(line, `currency ${dup} appears twice in the header`);
      headerLine = line;
      return;
    }
    if (cells.length !== codes.length + 1) {
      throw lineError(
        line,
        `expected ${
          codes.length + 1
        } cells (a code and ${codes.length} rates), got ${cells.length}`,
      );
    }
    const code = parseCode(cells[0], line, "row");
    if (!codes.includes(code)) throw lineError(line, `${code} is not in the header`);
    if (rows.has(code)) throw lineError(line, `a second row for ${code}`);
    const values = cells.slice(1).map((c, k) => parseRate(c, line, `${code} per ${codes![k]}`));
    const self = values[codes.indexOf(code)];
    if (self !== 1) throw lineError(line, `${code} per ${code} must be 1, got ${self}`);
    rows.set(code, values);
  });
  if (!codes) throw lineError(lines.length, "no header line (e.g. ,USD,GBP,EUR)");
  const missing = codes.filter((c) => !rows.has(c));
  if (missing.length) {
    throw lineError(
      lines.length,
      `no row for ${missing.join(", ")} (header on line ${headerLine})`,
    );
  }
  return { codes, cells: codes.map((c) => rows.get(c)!), source };
}

function lineAt(text: string, index: number): number {
  let line = 1;
  for (let i = text.indexOf("\n"); i >= 0 && i < index; i = text.indexOf("\n", i + 1)) line++;
  return line;
}

/**
 * Parses the ECB's reference-rate XML (EUR base, `<Cube currency='USD'
 * rate='1.0837'/>`) and derives every cross rate: X per Y = (X per EUR) / (Y per EUR).
 */
export function parseEcbXml(text: string, source = "ECB XML"): RateTable {
  const perEuro = new Map<string, number>([["EUR", 1]]);
  let day: string | undefined;
  let days = 0;
  for (const m of text.matchAll(/<Cube\b([^>]*)>/g)) {
    const attrs = new Map<string, string>();
    for (const a of m[1].matchAll(/([\w:-]+)\s*=\s*(['"])(.*?)\2/g)) attrs.set(a[1], a[3]);
    const line = lineAt(text, m.index);
    if (attrs.has("time")) {
      if (++days > 1) break; // eurofxref-hist.xml: the newest day comes first
      day = attrs.get("time");
      continue;
    }
    const currency = attrs.get("currency");
    const rate = attrs.get("rate");
    if (currency === undefined && rate === undefined) continue;
    if (currency === undefined || rate === undefined) {
      throw lineError(line, `<Cube> needs both currency and rate attributes`);
    }
    const code = parseCode(currency, line, "currency");
    if (perEuro.has(code)) throw lineError(line, `a second rate for ${code}`);
    perEuro.set(code, parseRate(rate, line, `${code} per EUR`));
  }
  if (perEuro.size < 2) {
    throw lineError(
      lineAt(text, text.length),
      "no <Cube currency='...' rate='...'/> elements: not the ECB's reference-rate XML",
    );
  }
  const codes = [...perEuro.keys()];
  const cells = codes.map((row) => codes.map((col) => perEuro.get(row)! / perEuro.get(col)!));
  return { codes, cells, source: day ? `${source} (ECB reference rates of ${day})` : source };
}

/** Parses either format: XML when the text starts with `<`, CSV otherwise. */
export function parseRateTable(text: string, source: string): RateTable {
  return text.replace(/^\uFEFF/, "").trimStart().startsWith("<")
    ? parseEcbXml(text, source)
    : parseCsvTable(text, source);
}
