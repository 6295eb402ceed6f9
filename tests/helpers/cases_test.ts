import { assertEquals, throws } from "./assert.ts";
import { cases } from "./cases.ts";

Deno.test("cases`` splits rows on |, trims cells, puts values in and skips blank and # lines", () => {
  const n = 40;
  const rows = cases`
    # name | input | expected
    first  | MAX 1 2   | MAX 2

    second | MAX ${n} ${"x"} | MAX ${n}
  `;
  assertEquals(rows, [["first", "MAX 1 2", "MAX 2"], ["second", "MAX 40 x", "MAX 40"]]);
});

Deno.test('cases`` decodes "..." cells as JSON strings and keeps other backslashes', () => {
  assertEquals(
    cases`
    blanks | "  2\tUSD " | ""
    pipe   | "a|b"       | a\tb
  `,
    [["blanks", "  2\tUSD ", ""], ["pipe", "a|b", "a\\tb"]],
  );
});

Deno.test("cases`` throws on a row with another number of cells", () => {
  throws(() =>
    cases`
    a | b | c
    d | e
  `, /2 cells where the first row has 3/);
});
