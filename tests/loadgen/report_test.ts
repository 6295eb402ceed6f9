import { assertEquals, assertMatch, assertOk } from "../helpers/assert.ts";
import { histogramBins, histogramLines } from "../../lib/loadgen/summary.ts";
import { IntervalClock, intervalLabel } from "../../lib/loadgen/interval.ts";
import { LatencyHistogram } from "../../lib/loadgen/stats.ts";

Deno.test("histogramBins() spans the first to the last non-empty bin and counts every value", () => {
  const h = new LatencyHistogram();
  for (const us of [300, 320, 340, 800, 15_000]) h.record(us);
  const bins = histogramBins(h);
  assertEquals(bins.reduce((a, b) => a + b.count, 0), 5);
  assertEquals(bins[0], { upToMs: 0.5, count: 3 });
  assertEquals(bins[bins.length - 1], { upToMs: 20, count: 1 });
});

Deno.test("histogramLines() labels ranges in ms and scales the bars to the largest bin", () => {
  const h = new LatencyHistogram();
  for (let i = 0; i < 30; i++) h.record(300);
  h.record(1500);
  const lines = histogramLines(h);
  assertMatch(lines[0], /^≤ 0\.5 ms +30 +96\.8 % +#{30}$/);
  assertMatch(lines[lines.length - 1], /^1-2 ms +1 +3\.2 % +#$/);
});

Deno.test("intervalLabel() keeps a column aligned", () => {
  assertEquals(intervalLabel(0, 1), "    0.00-1.00 s");
  assertEquals(intervalLabel(9, 10), "   9.00-10.00 s");
});

Deno.test("IntervalClock reports intervals that follow each other, and the last at stop()", async () => {
  const rows: [number, number][] = [];
  let twoRows = () => {};
  const reported = new Promise<void>((r) => (twoRows = r));
  const clock = IntervalClock.start(0.05, (from, to) => [from, to] as [number, number], (r) => {
    if (rows.push(r) === 2) twoRows();
  });
  await reported;
  await new Promise((r) => setTimeout(r, 20)); // a part of the next interval
  clock.stop();
  assertOk(rows.length >= 3, "the intervals and the shorter last one");
  assertEquals(rows[0][0], 0);
  for (let i = 1; i < rows.length; i++) assertEquals(rows[i][0], rows[i - 1][1]);
  const last = rows[rows.length - 1];
  assertOk(last[1] - last[0] < 0.05, "the last interval is the part since the last tick");
});

Deno.test("IntervalClock with 0 seconds never reports", () => {
  const rows: unknown[] = [];
  IntervalClock.start(0, () => 1, (r) => rows.push(r)).stop();
  assertEquals(rows, []);
});
