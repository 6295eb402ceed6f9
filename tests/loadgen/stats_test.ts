import { assertEquals, assertOk, throws } from "../helpers/assert.ts";
import { edges125, InFlight, LatencyHistogram } from "../../lib/loadgen/stats.ts";

/** Exact nearest-rank percentile of a list, the reference the histogram is held to. */
function exactPercentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil((p / 100) * sorted.length)) - 1];
}

function histogramOf(values: number[]): LatencyHistogram {
  const h = new LatencyHistogram();
  for (const v of values) h.record(v);
  return h;
}

// A deterministic spread: 1 µs to about 10 s, log-uniform, plus ties.
function spread(n: number): number[] {
  let x = 12345;
  return Array.from({ length: n }, () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return Math.round(10 ** (7 * (x / 2 ** 31)));
  });
}

const CASES: [string, number[]][] = [
  ["one value", [250]],
  ["two values", [100, 900]],
  ["a hundred evenly spaced values", Array.from({ length: 100 }, (_, i) => (i + 1) * 10)],
  ["many ties", [5, 5, 5, 5, 5, 5, 5, 5, 5, 1000]],
  ["sub-microsecond values", [0.2, 0.4, 0.6, 3]],
  ["a log-uniform spread from 1 µs to 10 s", spread(10_000)],
  ["one outlier among fast replies", [...Array(999).fill(80), 2_000_000]],
];

for (const [name, values] of CASES) {
  Deno.test(`LatencyHistogram percentiles are within 0.4 % of the exact ones for ${name}`, () => {
    const h = histogramOf(values);
    for (const p of [1, 50, 90, 99, 99.9]) {
      const exact = exactPercentile(values, p);
      const got = h.percentile(p);
      // Bucket width is 1/128 of the value: the middle is within 1/256 of anything in it.
      assertOk(
        Math.abs(got - exact) <= Math.max(exact / 256, 0.5),
        `p${p}: got ${got}, exact ${exact}`,
      );
    }
    assertEquals(h.percentile(100), Math.max(...values));
  });
}

Deno.test("LatencyHistogram keeps count, min, max and mean exactly", () => {
  const h = histogramOf([3, 1, 4, 1, 5, 9, 2, 6]);
  assertEquals([h.count, h.min, h.max, h.mean], [8, 1, 9, 31 / 8]);
});

Deno.test("LatencyHistogram reports NaN when empty and counts negative values as 0", () => {
  const h = new LatencyHistogram();
  assertOk(Number.isNaN(h.percentile(50)) && Number.isNaN(h.max) && Number.isNaN(h.mean));
  h.record(-5);
  assertEquals([h.count, h.min, h.max], [1, 0, 0]);
});

Deno.test("LatencyHistogram.percentile() rejects p outside (0, 100]", () => {
  const h = histogramOf([1]);
  throws(() => h.percentile(0), /must be above 0 and at most 100/, RangeError);
  throws(() => h.percentile(101), /must be above 0 and at most 100/, RangeError);
});

Deno.test("LatencyHistogram.merge() equals recording both sets into one", () => {
  const a = spread(500);
  const b = spread(700).map((v) => v * 3);
  const merged = histogramOf(a);
  merged.merge(histogramOf(b));
  const whole = histogramOf([...a, ...b]);
  for (const p of [50, 90, 99]) assertEquals(merged.percentile(p), whole.percentile(p));
  assertEquals([merged.count, merged.min, merged.max], [whole.count, whole.min, whole.max]);
});

Deno.test("LatencyHistogram.summaryMs() converts µs to ms", () => {
  const s = histogramOf([1000, 2000, 3000, 4000]).summaryMs();
  assertEquals([s.min, s.max, s.mean], [1, 4, 2.5]);
  assertOk(Math.abs(s.p50 - 2) < 0.01);
});

Deno.test("InFlight pairs replies with the oldest sends, first in first out", () => {
  const f = new InFlight(3);
  assertEquals([f.push(10), f.push(20), f.push(30), f.push(40)], [true, true, true, false]);
  assertEquals([f.shift(), f.size], [10, 2]);
  assertEquals(f.push(50), true);
  assertEquals([f.shift(), f.shift(), f.shift(), f.shift()], [20, 30, 50, undefined]);
});

Deno.test("InFlight.expire() removes only the sends older than the cutoff", () => {
  const f = new InFlight(4);
  for (const t of [1, 2, 5, 9]) f.push(t);
  assertEquals(f.expire(5), 2);
  assertEquals([f.size, f.shift()], [2, 5]);
  assertEquals(f.expire(100), 1);
  assertEquals(f.size, 0);
});

Deno.test("InFlight refuses a capacity below 1", () => {
  throws(() => new InFlight(0), /Cannot keep 0 requests in flight/, RangeError);
});

Deno.test("edges125() covers the range on a 1-2-5 scale", () => {
  assertEquals(edges125(310, 729), [500, 1000]);
  assertEquals(edges125(150, 151), [200]);
  assertEquals(edges125(0.2, 5000), [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000]);
});

Deno.test("countsUpTo() puts each value in the first bin whose edge it does not pass", () => {
  const h = histogramOf([90, 150, 300, 700, 2000, 9000]);
  assertEquals(h.countsUpTo([100, 200, 500, 1000, 5000]), [1, 1, 1, 1, 1, 1]);
  assertEquals(h.countsUpTo([10_000]), [6, 0]);
});

Deno.test("snapshot() and LatencyHistogram.from() carry every count, the sum and the extremes", () => {
  const h = histogramOf(spread(500));
  const copy = LatencyHistogram.from(structuredClone(h.snapshot()));
  assertEquals(copy.summaryMs(), h.summaryMs());
  assertEquals(copy.count, h.count);
});

Deno.test("clear() forgets every value", () => {
  const h = histogramOf([1, 2, 3]);
  h.clear();
  assertEquals([h.count, Number.isNaN(h.max)], [0, true]);
  h.record(7);
  assertEquals([h.min, h.max], [7, 7]);
});
