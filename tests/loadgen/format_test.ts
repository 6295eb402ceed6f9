import { assertEquals, throws } from "../helpers/assert.ts";
import {
  formatBytes,
  formatCount,
  formatMs,
  formatPercent,
  formatTable,
  formatThroughput,
  parseSeconds,
  parseSize,
} from "../../lib/loadgen/format.ts";

Deno.test("formatTable() pads columns to the widest cell and right-aligns numbers", () => {
  assertEquals(
    formatTable([["rates", "48,000"], ["binder LOOKUP", "9"]], {
      header: ["name", "req/s"],
      align: ["l", "r"],
    }),
    [
      "name            req/s",
      "rates          48,000",
      "binder LOOKUP       9",
    ],
  );
});

Deno.test("formatTable() writes a Markdown table with a separator row", () => {
  assertEquals(
    formatTable([["a", "1.5×", "yes"]], {
      header: ["name", "ratio", "met"],
      markdown: true,
      align: ["l", "r"],
    }),
    [
      "| name | ratio | met |",
      "|------|------:|-----|",
      "| a    |  1.5× | yes |",
    ],
  );
});

Deno.test("formatTable() counts code points, so × and µ do not skew columns", () => {
  assertEquals(formatTable([["0.5×", "x"], ["10µs", "y"]]), ["0.5×  x", "10µs  y"]);
});

const VALUES: [string, string, string][] = [
  ["formatCount() groups thousands", formatCount(1234567.4), "1,234,567"],
  ["formatMs() keeps three significant figures", formatMs(0.41234), "0.412 ms"],
  ["formatMs() rounds tens of ms", formatMs(12.345), "12.3 ms"],
  ["formatMs() groups seconds as ms", formatMs(1234.5), "1,235 ms"],
  ["formatMs() shows a missing value as -", formatMs(NaN), "-"],
  [
    "formatThroughput() gives MB/s and Gbit/s",
    formatThroughput(1.25e9),
    "1,250 MB/s (10.00 Gbit/s)",
  ],
  [
    "formatThroughput() gives Mbit/s below a gigabit",
    formatThroughput(12.5e6),
    "12.5 MB/s (100.0 Mbit/s)",
  ],
  ["formatBytes() keeps small counts in bytes", formatBytes(100), "100 bytes"],
  ["formatBytes() uses binary units", formatBytes(1024 ** 3), "1 GiB"],
  ["formatBytes() keeps four significant figures", formatBytes(1536), "1.5 KiB"],
  ["formatPercent() has two decimals", formatPercent(1, 400), "0.25 %"],
  ["formatPercent() of nothing is 0", formatPercent(0, 0), "0.00 %"],
];

for (const [name, got, want] of VALUES) {
  Deno.test(name, () => assertEquals(got, want));
}

const SIZES: [string, number][] = [
  ["1000", 1000],
  ["64K", 65536],
  ["64KiB", 65536],
  ["100m", 100 * 1024 ** 2],
  ["1G", 1024 ** 3],
  [" 2 GiB ", 2 * 1024 ** 3],
];

for (const [text, bytes] of SIZES) {
  Deno.test(`parseSize() reads "${text}" as ${bytes} bytes`, () =>
    assertEquals(parseSize(text), bytes));
}

for (const bad of ["", "1.5G", "-1", "1T", "ten", "1 KB"]) {
  Deno.test(`parseSize() rejects "${bad}"`, () => {
    throws(() => parseSize(bad), /Cannot parse size/, SyntaxError);
  });
}

Deno.test("parseSeconds() reads whole and decimal seconds and rejects the rest", () => {
  assertEquals([parseSeconds("5"), parseSeconds("0.5"), parseSeconds(".25")], [5, 0.5, 0.25]);
  for (const bad of ["", "-1", "1e3", "5s", "abc"]) {
    throws(() => parseSeconds(bad), /Cannot parse seconds/, SyntaxError);
  }
});
