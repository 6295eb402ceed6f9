/**
 * The lab console's numbers over time, as pure code (no clock, no sockets):
 * each tick reads a service's cumulative counters and turns the change since
 * the last tick into a point (requests/s, error replies/s, p50/p99 service
 * time), kept in fixed-size rings for the sparklines.
 *
 * Percentiles come from the monitor's latency buckets the way Prometheus'
 * `histogram_quantile` computes them: find the bucket holding the rank, then
 * interpolate linearly inside it (the first bucket starts at 0; a rank in the
 * open last bucket reports the last finite bound).
 *
 * @example
 * ```ts
 * import { quantileMs, ServiceHistory } from "./stats.ts";
 * const bounds = [1, 2, 4];
 * console.assert(quantileMs([0, 10, 0, 0], 0.5, bounds) === 1.5);
 * const h = new ServiceHistory(60, 10);
 * h.record({ atMs: 0, requests: 0, errors: 0, latency: [0, 0, 0, 0] }, bounds);
 * const p = h.record({ atMs: 2000, requests: 10, errors: 2, latency: [0, 10, 0, 0] }, bounds);
 * console.assert(p.rate === 5 && p.errorRate === 1 && p.p50 === 1.5);
 * ```
 * @module
 */

/** A fixed-size ring of numbers (or gaps), oldest first when read. */
export class Ring {
  readonly capacity: number;
  readonly #items: (number | null)[] = [];
  #start = 0;

  constructor(capacity: number) {
    if (!(capacity >= 1)) throw new RangeError(`Cannot make a ring of ${capacity} items`);
    this.capacity = capacity;
  }

  /** Appends `value`, forgetting the oldest once full. */
  push(value: number | null): void {
    if (this.#items.length < this.capacity) {
      this.#items.push(value);
      return;
    }
    this.#items[this.#start] = value;
    this.#start = (this.#start + 1) % this.capacity;
  }

  /** The values, oldest first. */
  values(): (number | null)[] {
    return [...this.#items.slice(this.#start), ...this.#items.slice(0, this.#start)];
  }

  get length(): number {
    return this.#items.length;
  }
}

/**
 * The `q` quantile (0..1) in ms of a latency histogram: `counts[i]` requests
 * took at most `bounds[i]` ms (and more than `bounds[i-1]`); `counts` has one
 * more entry, for "above the last bound". Null when the histogram is empty.
 */
export function quantileMs(
  counts: readonly number[],
  q: number,
  bounds: readonly number[],
): number | null {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = q * total;
  let below = 0;
  for (let i = 0; i < counts.length; i++) {
    if (below + counts[i] >= rank && counts[i] > 0) {
      if (i >= bounds.length) return bounds[bounds.length - 1];
      const lower = i === 0 ? 0 : bounds[i - 1];
      return lower + (bounds[i] - lower) * ((rank - below) / counts[i]);
    }
    below += counts[i];
  }
  return bounds[bounds.length - 1];
}

/** Cumulative counters of one service at one moment. */
export interface Sample {
  /** When it was read (ms, any monotonic clock). */
  atMs: number;
  requests: number;
  errors: number;
  /** Cumulative counts per latency bucket. */
  latency: readonly number[];
  /** Chat lines relayed so far, for chat services. */
  lines?: number;
}

/** What one tick adds to each sparkline. */
export interface Point {
  rate: number;
  errorRate: number;
  /** ms; null when nothing was served during the tick. */
  p50: number | null;
  p99: number | null;
  /** Chat lines/s; null for other services. */
  lineRate: number | null;
}

/** The sparklines of one service, plus the percentiles over a recent window. */
export class ServiceHistory {
  readonly rate: Ring;
  readonly errorRate: Ring;
  readonly p50: Ring;
  readonly p99: Ring;
  readonly lineRate: Ring;
  readonly #window: number[][] = [];
  readonly #windowTicks: number;
  #previous?: Sample;

  /** Keeps `points` points per sparkline and `windowTicks` ticks for the shown percentiles. */
  constructor(points: number, windowTicks: number) {
    this.rate = new Ring(points);
    this.errorRate = new Ring(points);
    this.p50 = new Ring(points);
    this.p99 = new Ring(points);
    this.lineRate = new Ring(points);
    this.#windowTicks = windowTicks;
  }

  /** Records a sample; the first one only sets the baseline (a point of zeros). */
  record(sample: Sample, bounds: readonly number[]): Point {
    const prev = this.#previous ?? sample;
    this.#previous = { ...sample, latency: [...sample.latency] };
    const secs = Math.max(sample.atMs - prev.atMs, 1) / 1000;
    const delta = sample.latency.map((n, i) => Math.max(n - (prev.latency[i] ?? 0), 0));
    this.#window.push(delta);
    if (this.#window.length > this.#windowTicks) this.#window.shift();
    const point: Point = {
      rate: Math.max(sample.requests - prev.requests, 0) / secs,
      errorRate: Math.max(sample.errors - prev.errors, 0) / secs,
      p50: quantileMs(delta, 0.5, bounds),
      p99: quantileMs(delta, 0.99, bounds),
      lineRate: sample.lines === undefined
        ? null
        : Math.max(sample.lines - (prev.lines ?? 0), 0) / secs,
    };
    this.rate.push(point.rate);
    this.errorRate.push(point.errorRate);
    this.p50.push(point.p50);
    this.p99.push(point.p99);
    this.lineRate.push(point.lineRate);
    return point;
  }

  /** p50 and p99 (ms) over the last window of ticks; null when nothing was served. */
  windowQuantiles(bounds: readonly number[]): { p50: number | null; p99: number | null } {
    const sum = Array(bounds.length + 1).fill(0);
    for (const delta of this.#window) delta.forEach((n, i) => (sum[i] += n));
    return { p50: quantileMs(sum, 0.5, bounds), p99: quantileMs(sum, 0.99, bounds) };
  }
}
