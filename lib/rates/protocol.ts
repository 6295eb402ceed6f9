/**
 * Exercise 2, the currency-rates service, as pure functions: the rate table
 * (with the SPEC's orientation), request parsing and reply formatting.
 *
 * Wire grammar (one UDP datagram each way, case-insensitive codes):
 * ```text
 * request = CODE                      ; "USD"       -> that currency against all others
 *         / AMOUNT SP CODE            ; "100 USD"   -> 100 USD against all others
 *         / [ AMOUNT SP ] CODE SP TARGET  ; "100 USD EUR" -> 100 USD in EUR
 * CODE    = 3ALPHA
 * AMOUNT  = 1*DIGIT [ "." *DIGIT ] / "." 1*DIGIT     ; at most 1e15
 * reply   = AMOUNT SP CODE " = " value SP CODE *( ", " value SP CODE )
 *                                     ; "1 USD = 0.653624 GBP, 1.00481 CAD, ..."
 *         / "ERR " reason             ; "ERR unknown currency XYZ (known: USD GBP ...)"
 * value   = the amount times the rate, 6 significant digits, never an exponent
 * ```
 * @module
 */
import { decodeTextRequest, NOT_TEXT, type TextRequest } from "../net/udp_text.ts";

/** Default port of the rates service (SPEC §7). */
export const DEFAULT_PORT = 1502;
/** Longest request answered. */
export const MAX_REQUEST = 256;
/** Largest amount converted. */
export const MAX_AMOUNT = 1e15;

/**
 * A square table of rates. `cells[row][col]` is how many units of the ROW
 * currency one unit of the COLUMN currency buys (the SPEC's orientation), so
 * 1 X buys `cells[Y][X]` Y.
 */
export interface RateTable {
  codes: readonly string[];
  cells: readonly (readonly number[])[];
  /** Where the table came from, for the start-up line. */
  source: string;
}

/**
 * The built-in table: x-rates.com, Friday, April 30, 2010 (SPEC §5), row
 * currency per one column currency.
 */
export const BUILT_IN_TABLE: RateTable = {
  codes: ["USD", "GBP", "CAD", "EUR", "AUD"],
  cells: [
    [1, 1.52993, 0.995213, 1.33149, 0.931636],
    [0.653624, 1, 0.650495, 0.870299, 0.608939],
    [1.00481, 1.53729, 1, 1.3379, 0.936117],
    [0.751033, 1.14902, 0.747437, 1, 0.699689],
    [1.07338, 1.64219, 1.06824, 1.4292, 1],
  ],
  source: "built-in table (x-rates.com, April 30, 2010)",
};

/** How many units of `to` one unit of `from` buys. */
export function rateOf(table: RateTable, from: string, to: string): number {
  return table.cells[table.codes.indexOf(to)][table.codes.indexOf(from)];
}

/** A parsed request. */
export type RatesRequest =
  | { kind: "all"; amount: string; code: string }
  | { kind: "convert"; amount: string; code: string; target: string }
  | { kind: "error"; reason: string }
  | { kind: "ignore" };

const CODE_RE = /^[A-Za-z]{3}$/;
const AMOUNT_RE = /^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$/;
/** What can only have been meant as an amount: `-5`, `1e5`, `1,000`, `$5`, `.5.5`. */
const AMOUNT_LIKE_RE = /^[-+$.\d]/;

/** Short quoted text for an error message (the request is already printable). */
function quote(text: string): string {
  return `"${text.length > 16 ? `${text.slice(0, 16)}...` : text}"`;
}

/** `007.50` → `7.5`: the amount as the reply prints it. */
export function canonicalAmount(text: string): string {
  let [whole, fraction = ""] = text.split(".");
  whole = whole.replace(/^0+(?=\d)/, "") || "0";
  fraction = fraction.replace(/0+$/, "");
  return fraction ? `${whole}.${fraction}` : whole;
}

/** Parses a request's text (decoded and printable; blanks around are ignored). */
export function parseRatesText(raw: string, table: RateTable): RatesRequest {
  const text = raw.trim();
  if (text === "") return { kind: "error", reason: "empty request (send a code such as USD)" };
  const words = text.split(/\s+/);
  if (words.length > 3) {
    return { kind: "error", reason: "too many words (send CODE or AMOUNT CODE [TARGET])" };
  }
  let amount = "1";
  if (AMOUNT_RE.test(words[0])) {
    if (words.length === 1) return { kind: "error", reason: "missing currency code after amount" };
    if (Number(words[0]) > MAX_AMOUNT) {
      return { kind: "error", reason: `amount too large (max ${MAX_AMOUNT})` };
    }
    amount = canonicalAmount(words.shift()!);
  } else if (words.length === 3 || AMOUNT_LIKE_RE.test(words[0])) {
    return { kind: "error", reason: `malformed amount ${quote(words[0])}` };
  }
  const codes: string[] = [];
  for (const word of words) {
    if (!CODE_RE.test(word)) {
      return {
        kind: "error",
        reason: `malformed currency code ${quote(word)} (3 letters, e.g. USD)`,
      };
    }
    const code = word.toUpperCase();
    if (!table.codes.includes(code)) {
      return {
        kind: "error",
        reason: `unknown currency ${code} (known: ${table.codes.join(" ")})`,
      };
    }
    codes.push(code);
  }
  return codes.length === 1
    ? { kind: "all", amount, code: codes[0] }
    : { kind: "convert", amount, code: codes[0], target: codes[1] };
}

/** Parses a datagram: a request, an `ERR` reason (binary too), or silence (`ERR...`). */
export function parseRatesRequest(data: Uint8Array, table: RateTable): RatesRequest {
  return ratesRequestOf(decodeTextRequest(data, MAX_REQUEST), table);
}

/** The request a decoded datagram makes (see {@linkcode parseRatesRequest}). */
export function ratesRequestOf(req: TextRequest, table: RateTable): RatesRequest {
  // SPEC §1: a binary message gets an ERR where the protocol has replies; only
  // someone's ERR reply is never answered (two servers must not ping-pong).
  if (req.kind === "ignore") {
    return req.why === "binary" ? { kind: "error", reason: NOT_TEXT } : { kind: "ignore" };
  }
  if (req.kind === "error") return req;
  return parseRatesText(req.text, table);
}

const sixDigits = new Intl.NumberFormat("en-US", {
  maximumSignificantDigits: 6,
  useGrouping: false,
});

/** A value with 6 significant digits and no exponent: `75.1033`, `0.000012`. */
export function formatValue(value: number): string {
  return sixDigits.format(value);
}

/** `1 USD = 0.653624 GBP, 1.00481 CAD, 0.751033 EUR, 1.07338 AUD` */
export function formatAllReply(table: RateTable, amount: string, code: string): string {
  const n = Number(amount);
  const parts: string[] = [];
  for (const other of table.codes) {
    if (other !== code) parts.push(`${formatValue(n * rateOf(table, code, other))} ${other}`);
  }
  return `${amount} ${code} = ${parts.join(", ")}`;
}

/** `100 USD = 75.1033 EUR` */
export function formatConvertReply(
  table: RateTable,
  amount: string,
  code: string,
  target: string,
): string {
  return `${amount} ${code} = ${
    formatValue(Number(amount) * rateOf(table, code, target))
  } ${target}`;
}

/** The reply to a parsed request (`null` = stay silent). */
export function ratesReply(table: RateTable, req: RatesRequest): string | null {
  switch (req.kind) {
    case "all":
      return formatAllReply(table, req.amount, req.code);
    case "convert":
      return formatConvertReply(table, req.amount, req.code, req.target);
    case "error":
      return `ERR ${req.reason}`;
    default:
      return null;
  }
}

/** A rates reply taken apart: `AMOUNT CODE = V1 C1, V2 C2, ...`. */
export interface ParsedRates {
  amount: number;
  code: string;
  /** Value of `amount` `code` in each other currency. */
  values: Record<string, number>;
}

/** Parses a reply of either form; `undefined` for anything else (an `ERR` reply, say). */
export function parseRatesReply(text: string): ParsedRates | undefined {
  const m = /^(\S+) ([A-Z]{3}) = (.+)$/.exec(text);
  if (!m || !Number.isFinite(Number(m[1]))) return undefined;
  const values: Record<string, number> = {};
  for (const part of m[3].split(", ")) {
    const v = /^(\S+) ([A-Z]{3})$/.exec(part);
    if (!v || !Number.isFinite(Number(v[1]))) return undefined;
    values[v[2]] = Number(v[1]);
  }
  return { amount: Number(m[1]), code: m[2], values };
}
