import { assertEquals, throws } from "../helpers/assert.ts";
import { quantileMs, Ring, ServiceHistory } from "../../lib/console/stats.ts";

const BOUNDS = [1, 2, 4, 8];

Deno.test("quantileMs() interpolates inside the bucket that holds the rank, like histogram_quantile", () => {
  const cases: [number[], number, number | null][] = [
    [[0, 0, 0, 0, 0], 0.5, null], // nothing served
    [[10, 0, 0, 0, 0], 0.5, 0.5], // first bucket starts at 0
    [[0, 10, 0, 0, 0], 0.5, 1.5],
    [[0, 10, 0, 0, 0], 0.99, 1.99],
    [[50, 0, 0, 50, 0], 0.5, 1], // the rank falls on a bucket's edge
    [[50, 0, 0, 50, 0], 0.99, 7.92],
    [[0, 0, 0, 0, 3], 0.5, 8], // open last bucket: the last finite bound
    [[98, 0, 0, 0, 2], 0.99, 8],
  ];
  for (const [counts, q, expected] of cases) {
    const got = quantileMs(counts, q, BOUNDS);
    assertEquals(got === null ? null : Math.round(got * 1000) / 1000, expected, `${counts} q=${q}`);
  }
});

Deno.test("Ring keeps the last N values, oldest first", () => {
  const r = new Ring(3);
  for (const v of [1, 2, null, 4, 5]) r.push(v);
  assertEquals(r.values(), [null, 4, 5]);
  assertEquals(r.length, 3);
  throws(() => new Ring(0), /ring of 0/, RangeError);
});

Deno.test("ServiceHistory turns counter deltas into per-second rates and per-tick percentiles", () => {
  const h = new ServiceHistory(4, 2);
  const at = (s: number, requests: number, errors: number, latency: number[], lines?: number) =>
    h.record({ atMs: s * 1000, requests, errors, latency, lines }, BOUNDS);
  assertEquals(at(0, 5, 1, [5, 0, 0, 0, 0], 10), {
    rate: 0,
    errorRate: 0,
    p50: null,
    p99: null,
    lineRate: 0,
  });
  const p = at(2, 25, 5, [5, 20, 0, 0, 0], 30); // 20 requests in 2 s, all 1-2 ms
  assertEquals([p.rate, p.errorRate, p.p50, p.lineRate], [10, 2, 1.5, 10]);
  at(3, 25, 5, [5, 20, 0, 0, 0], 30); // an idle second
  assertEquals(h.rate.values(), [0, 10, 0]);
  assertEquals(h.p50.values(), [null, 1.5, null]);
  // The shown percentiles cover the last 2 ticks: still the 20 requests.
  assertEquals(h.windowQuantiles(BOUNDS).p50, 1.5);
  at(4, 25, 5, [5, 20, 0, 0, 0], 30);
  assertEquals(h.windowQuantiles(BOUNDS), { p50: null, p99: null });
  at(5, 26, 5, [5, 20, 0, 1, 0], 30);
  at(6, 27, 5, [5, 20, 0, 2, 0], 30);
  assertEquals(h.rate.values(), [0, 0, 1, 1], "four points kept");
});
