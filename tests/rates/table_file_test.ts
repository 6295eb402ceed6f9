import { assertEquals, assertOk, throws } from "../helpers/assert.ts";
import { BUILT_IN_TABLE, rateOf } from "../../lib/rates/protocol.ts";
import { parseCsvTable, parseEcbXml, parseRateTable } from "../../lib/rates/table_file.ts";

/** The SPEC's table as a CSV file, with a comment and a blank line. */
export const SPEC_CSV = `# x-rates.com, April 30, 2010: ROW units per one COLUMN unit
,USD,GBP,CAD,EUR,AUD

USD,1,1.52993,0.995213,1.33149,0.931636
GBP,0.653624,1,0.650495,0.870299,0.608939
CAD,1.00481,1.53729,1,1.3379,0.936117
EUR,0.751033,1.14902,0.747437,1,0.699689
AUD,1.07338,1.64219,1.06824,1.4292,1
`;

/** A shortened eurofxref-daily.xml as the ECB publishes it. */
export const ECB_XML = `<?xml version="1.0" encoding="UTF-8"?>
<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
	<gesmes:subject>Reference rates</gesmes:subject>
	<gesmes:Sender>
		<gesmes:name>European Central Bank</gesmes:name>
	</gesmes:Sender>
	<Cube>
		<Cube time='2024-05-10'>
			<Cube currency='USD' rate='1.0783'/>
			<Cube currency='JPY' rate='167.88'/>
			<Cube currency='GBP' rate='0.86075'/>
			<Cube currency='CHF' rate='0.9766'/>
		</Cube>
	</Cube>
</gesmes:Envelope>
`;

Deno.test("parseCsvTable() reads the SPEC's layout into the built-in table", () => {
  const table = parseCsvTable(SPEC_CSV, "spec.csv");
  assertEquals(table.codes, BUILT_IN_TABLE.codes);
  assertEquals(table.cells, BUILT_IN_TABLE.cells);
});

Deno.test("parseCsvTable() takes a trailing comma on every line, as spreadsheets write it", () => {
  const table = parseCsvTable(",USD,EUR,\nUSD,1,2,\nEUR,0.5,1,\n");
  assertEquals(table.codes, ["USD", "EUR"]);
  assertEquals(table.cells, [[1, 2], [0.5, 1]]);
});

Deno.test("parseCsvTable() accepts rows in any order, blanks around cells and CR LF", () => {
  const text = " , usd , eur \r\nEUR, 0.5 , 1\r\nUSD,1,2\r\n";
  const table = parseCsvTable(text);
  assertEquals(table.codes, ["USD", "EUR"]);
  assertEquals(rateOf(table, "EUR", "USD"), 2, "1 EUR buys the USD-row/EUR-column cell");
  assertEquals(rateOf(table, "USD", "EUR"), 0.5);
});

const CSV_ERRORS: [string, string, RegExp][] = [
  [
    "a short row",
    ",USD,EUR\nUSD,1\nEUR,1,1",
    /^line 2: expected 3 cells \(a code and 2 rates\), got 2$/,
  ],
  [
    "a cell that is not a number",
    ",USD,EUR\nUSD,1,abc\nEUR,1,1",
    /^line 2: USD per EUR: "abc" is not a positive number$/,
  ],
  [
    "a zero rate",
    ",USD,EUR\nUSD,1,0\nEUR,1,1",
    /^line 2: USD per EUR: "0" is not a positive number$/,
  ],
  [
    "a negative rate",
    "# c\n,USD,EUR\nUSD,1,2\nEUR,-1,1",
    /^line 4: EUR per USD: "-1" is not a positive number$/,
  ],
  [
    "a bad code in the header",
    ",USD,EURO\n",
    /^line 1: header: "EURO" is not a 3-letter currency code$/,
  ],
  ["a duplicate header code", ",USD,USD\n", /^line 1: currency USD appears twice in the header$/],
  ["a header with one code", ",USD\n", /^line 1: the header needs a label cell and at least two/],
  ["a row for a code not in the header", ",USD,EUR\nGBP,1,1", /^line 2: GBP is not in the header$/],
  ["two rows for one code", ",USD,EUR\nUSD,1,1\nUSD,1,1", /^line 3: a second row for USD$/],
  [
    "a diagonal that is not 1",
    ",USD,EUR\nUSD,2,1\nEUR,1,1",
    /^line 2: USD per USD must be 1, got 2$/,
  ],
  ["a missing row", ",USD,EUR\nUSD,1,1\n", /^line 3: no row for EUR \(header on line 1\)$/],
  ["an empty file", "\n# only a comment\n", /^line 3: no header line/],
];

for (const [name, text, pattern] of CSV_ERRORS) {
  Deno.test(`parseCsvTable() names the line of ${name}`, () => {
    throws(() => parseCsvTable(text), pattern, SyntaxError);
  });
}

Deno.test("parseEcbXml() reads EUR-based rates and derives cross rates", () => {
  const table = parseEcbXml(ECB_XML, "eurofxref-daily.xml");
  assertEquals(table.codes, ["EUR", "USD", "JPY", "GBP", "CHF"]);
  assertEquals(rateOf(table, "EUR", "USD"), 1.0783, "1 EUR buys 1.0783 USD");
  assertEquals(rateOf(table, "USD", "EUR"), 1 / 1.0783);
  assertEquals(rateOf(table, "GBP", "USD"), 1.0783 / 0.86075, "1 GBP buys USD through the euro");
  assertEquals(rateOf(table, "USD", "JPY"), 167.88 / 1.0783);
  assertEquals(rateOf(table, "CHF", "CHF"), 1);
  assertEquals(table.source, "eurofxref-daily.xml (ECB reference rates of 2024-05-10)");
});

Deno.test("parseEcbXml() takes the newest day of the history file, with double quotes", () => {
  const hist = `<Cube><Cube time="2024-05-10"><Cube rate="1.0783" currency="USD"/></Cube>
<Cube time="2024-05-09"><Cube currency="USD" rate="1.0749"/><Cube currency="XYZ" rate="bad"/></Cube></Cube>`;
  const table = parseEcbXml(hist);
  assertEquals(table.codes, ["EUR", "USD"]);
  assertEquals(rateOf(table, "EUR", "USD"), 1.0783);
});

const XML_ERRORS: [string, string, RegExp][] = [
  [
    "a rate that is not a number",
    ECB_XML.replace("'167.88'", "'n/a'"),
    /^line 10: JPY per EUR: "n\/a" is not a positive number$/,
  ],
  [
    "a Cube without a rate",
    ECB_XML.replace(" rate='0.86075'", ""),
    /^line 11: <Cube> needs both currency and rate attributes$/,
  ],
  [
    "a bad currency code",
    ECB_XML.replace("'CHF'", "'SWISS'"),
    /^line 12: currency: "SWISS" is not a 3-letter currency code$/,
  ],
  ["a repeated currency", ECB_XML.replace("'CHF'", "'USD'"), /^line 12: a second rate for USD$/],
  [
    "XML that has no rates",
    "<html>\n<body>not rates</body>\n</html>\n",
    /^line 4: no <Cube currency='...' rate='...'\/> elements/,
  ],
];

for (const [name, text, pattern] of XML_ERRORS) {
  Deno.test(`parseEcbXml() names the line of ${name}`, () => {
    throws(() => parseEcbXml(text), pattern, SyntaxError);
  });
}

Deno.test("parseRateTable() tells XML from CSV by the first character", () => {
  assertEquals(parseRateTable(ECB_XML, "x").codes[0], "EUR");
  assertEquals(parseRateTable(SPEC_CSV, "x").codes[0], "USD");
  assertOk(parseRateTable("\uFEFF" + SPEC_CSV, "x").codes.length === 5, "a BOM is fine");
});
