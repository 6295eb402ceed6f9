import { assertEquals } from "../helpers/assert.ts";
import { cases } from "../helpers/cases.ts";
import {
  BUILT_IN_TABLE,
  canonicalAmount,
  formatValue,
  parseRatesRequest,
  parseRatesText,
  ratesReply,
} from "../../lib/rates/protocol.ts";

/** The SPEC §5 table, typed in again here: a cell is ROW units per one COLUMN unit. */
const SPEC_CODES = ["USD", "GBP", "CAD", "EUR", "AUD"];
const SPEC_TABLE = [
  ["USD", "1", "1.52993", "0.995213", "1.33149", "0.931636"],
  ["GBP", "0.653624", "1", "0.650495", "0.870299", "0.608939"],
  ["CAD", "1.00481", "1.53729", "1", "1.3379", "0.936117"],
  ["EUR", "0.751033", "1.14902", "0.747437", "1", "0.699689"],
  ["AUD", "1.07338", "1.64219", "1.06824", "1.4292", "1"],
];

const reply = (text: string) => ratesReply(BUILT_IN_TABLE, parseRatesText(text, BUILT_IN_TABLE));

Deno.test("ratesReply() answers USD with the SPEC's exact line", () => {
  assertEquals(reply("USD"), "1 USD = 0.653624 GBP, 1.00481 CAD, 0.751033 EUR, 1.07338 AUD");
});

Deno.test("ratesReply() answers 100 USD EUR with the SPEC's exact line", () => {
  assertEquals(reply("100 USD EUR"), "100 USD = 75.1033 EUR");
});

// Every cell, in the SPEC's direction: one COLUMN unit buys CELL units of ROW.
for (const [row, ...cells] of SPEC_TABLE) {
  cells.forEach((cell, k) => {
    const column = SPEC_CODES[k];
    Deno.test(`ratesReply() converts 1 ${column} into ${cell} ${row} (SPEC cell ${row}/${column})`, () => {
      assertEquals(reply(`1 ${column} ${row}`), `1 ${column} = ${cell} ${row}`);
    });
  });
}

// Every code against all others: the column read down, in table order.
for (const column of SPEC_CODES) {
  const k = SPEC_CODES.indexOf(column) + 1;
  const expected = SPEC_TABLE.filter((r) => r[0] !== column).map((r) => `${r[k]} ${r[0]}`);
  Deno.test(`ratesReply() answers ${column} with its SPEC column`, () => {
    assertEquals(reply(column), `1 ${column} = ${expected.join(", ")}`);
  });
}

const REQUESTS = cases`
  accepts lower case                       | usd eur                    | 1 USD = 0.751033 EUR
  accepts AMOUNT CODE                      | 100 usd                    | 100 USD = 65.3624 GBP, 100.481 CAD, 75.1033 EUR, 107.338 AUD
  accepts a fractional amount              | 0.5 GBP AUD                | 0.5 GBP = 0.821095 AUD
  canonicalises the amount                 | 007.50 EUR USD             | 7.5 EUR = 9.98618 USD
  converts a currency into itself          | 3 CAD CAD                  | 3 CAD = 3 CAD
  converts zero                            | 0 USD EUR                  | 0 USD = 0 EUR
  accepts extra blanks and tabs            | "  2\tUSD   EUR "          | 2 USD = 1.50207 EUR
  converts the largest amount without an exponent | 1000000000000000 USD EUR   | 1000000000000000 USD = 751033000000000 EUR
  names an unknown currency and the known ones | XYZ                        | ERR unknown currency XYZ (known: USD GBP CAD EUR AUD)
  names an unknown target                  | 1 USD JPY                  | ERR unknown currency JPY (known: USD GBP CAD EUR AUD)
  refuses an empty request                 | ""                         | ERR empty request (send a code such as USD)
  refuses a malformed code                 | US                         | ERR malformed currency code "US" (3 letters, e.g. USD)
  refuses an amount after the code         | USD 100                    | ERR malformed currency code "100" (3 letters, e.g. USD)
  refuses a negative amount                | -5 USD EUR                 | ERR malformed amount "-5"
  refuses an exponent amount               | 1e3 USD EUR                | ERR malformed amount "1e3"
  calls a negative amount an amount        | -5 USD                     | ERR malformed amount "-5"
  calls an exponent amount an amount       | 1e5 USD                    | ERR malformed amount "1e5"
  calls a grouped amount an amount         | 1,000 USD                  | ERR malformed amount "1,000"
  calls a priced amount an amount          | $5 USD                     | ERR malformed amount "$5"
  calls a hex amount an amount             | 0x10 USD                   | ERR malformed amount "0x10"
  takes blanks and tabs around and between words | " 5\tusd  eur "            | 5 USD = 3.75517 EUR
  refuses an amount alone                  | 100                        | ERR missing currency code after amount
  refuses too many words                   | 1 USD EUR GBP              | ERR too many words (send CODE or AMOUNT CODE [TARGET])
  refuses an amount over 1e15              | 2000000000000000 USD       | ERR amount too large (max 1000000000000000)
  shortens a long bad word in the error    | ABCDEFGHIJKLMNOPQRSTUVWXYZ | ERR malformed currency code "ABCDEFGHIJKLMNOP..." (3 letters, e.g. USD)
`;

for (const [name, text, expected] of REQUESTS) {
  Deno.test(`ratesReply() ${name}: "${text}"`, () => {
    assertEquals(reply(text), expected);
  });
}

const enc = (s: string) => new TextEncoder().encode(s);
const DATAGRAMS: [string, Uint8Array, string | null][] = [
  [
    "answers nc's line with its newline",
    enc("USD\n"),
    "1 USD = 0.653624 GBP, 1.00481 CAD, 0.751033 EUR, 1.07338 AUD",
  ],
  ["answers the C client's trailing NUL", enc("EUR USD\0"), "1 EUR = 1.33149 USD"],
  [
    "refuses 65,507 bytes",
    new Uint8Array(65507).fill(0x55),
    "ERR request too long (max 256 bytes)",
  ],
  [
    "refuses one line of 10,000 words",
    enc("USD ".repeat(10_000)),
    "ERR request too long (max 256 bytes)",
  ],
  [
    "refuses binary",
    new Uint8Array([0x80, 0x00, 0xff]),
    "ERR request is not text (UTF-8 without control characters)",
  ],
  [
    "refuses inner NULs",
    enc("US\0D"),
    "ERR request is not text (UTF-8 without control characters)",
  ],
  [
    "refuses invalid UTF-8",
    new Uint8Array([0x55, 0x53, 0xc3, 0x28]),
    "ERR request is not text (UTF-8 without control characters)",
  ],
  ["ignores another server's ERR reply", enc("ERR unknown request"), null],
];

for (const [name, data, expected] of DATAGRAMS) {
  Deno.test(`parseRatesRequest() + ratesReply() ${name}`, () => {
    assertEquals(ratesReply(BUILT_IN_TABLE, parseRatesRequest(data, BUILT_IN_TABLE)), expected);
  });
}

const VALUES: [number, string][] = [
  [75.1033, "75.1033"],
  [0.6536240000001, "0.653624"],
  [1234567.89, "1234570"],
  [0.0000123456789, "0.0000123457"],
  [1.5e15, "1500000000000000"],
  [0, "0"],
];
for (const [value, text] of VALUES) {
  Deno.test(`formatValue() writes ${value} as ${text} (6 significant digits, no exponent)`, () => {
    assertEquals(formatValue(value), text);
  });
}

const AMOUNTS: [string, string][] = [
  ["100", "100"],
  ["007.50", "7.5"],
  [".5", "0.5"],
  ["3.", "3"],
  [
    "0",
    "0",
  ],
  ["0.000", "0"],
];
for (const [text, canonical] of AMOUNTS) {
  Deno.test(`canonicalAmount() writes "${text}" as "${canonical}"`, () => {
    assertEquals(canonicalAmount(text), canonical);
  });
}
