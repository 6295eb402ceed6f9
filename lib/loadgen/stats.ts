/**
 * Latency statistics for the load generators as pure code: a log-bucketed
 * histogram with bounded memory (about 0.4 % relative precision, exact minimum,
 * maximum and mean), nearest-rank percentiles, and the FIFO of send times a
 * generator keeps for the requests it has in flight. No sockets, no clock.
 *
 * @example
 * ```ts
 * import { LatencyHistogram } from "./stats.ts";
 * const h = new LatencyHistogram();
 * for (const us of [100, 200, 300, 400]) h.record(us);
 * console.assert(h.count === 4 && h.max === 400);
 * console.assert(Math.abs(h.percentile(50) - 200) <= 1);
 * ```
 * @module
 */

/** Sub-buckets per power of two: the relative width of a bucket is 1/SUB. */
const SUB = 128;
/** Largest power of two kept apart (2^40 µs is about 12 days); larger values share the top bucket. */
const MAX_EXPONENT = 40;

/** The percentiles every summary reports. */
export const REPORTED_PERCENTILES = [50, 90, 99] as const;

/**
 * A latency histogram in microseconds. Values below 1 µs share bucket 0;
 * above, each power of two is split in {@linkcode SUB} equal buckets, so a
 * reported percentile is within 1/256 of a recorded value.
 */
export class LatencyHistogram {
  #counts = new Float64Array(1 + (MAX_EXPONENT + 1) * SUB);
  #count = 0;
  #sum = 0;
  #min = Infinity;
  #max = -Infinity;

  /** Records one value (µs; negative values count as 0). */
  record(us: number): void {
    const v = us > 0 ? us : 0;
    this.#counts[bucketOf(v)]++;
    this.#count++;
    this.#sum += v;
    if (v < this.#min) this.#min = v;
    if (v > this.#max) this.#max = v;
  }

  /** Adds every value of `other`. */
  merge(other: LatencyHistogram): void {
    if (other.#count === 0) return;
    for (let i = 0; i < this.#counts.length; i++) this.#counts[i] += other.#counts[i];
    this.#count += other.#count;
    this.#sum += other.#sum;
    this.#min = Math.min(this.#min, other.#min);
    this.#max = Math.max(this.#max, other.#max);
  }

  /** How many values were recorded. */
  get count(): number {
    return this.#count;
  }

  /** Smallest value (NaN when empty). */
  get min(): number {
    return this.#count ? this.#min : NaN;
  }

  /** Largest value (NaN when empty). */
  get max(): number {
    return this.#count ? this.#max : NaN;
  }

  /** Arithmetic mean (NaN when empty). */
  get mean(): number {
    return this.#count ? this.#sum / this.#count : NaN;
  }

  /**
   * The nearest-rank `p`th percentile (0 < p ≤ 100): the smallest recorded
   * value at or below which `p` % of the values lie, as its bucket's middle,
   * kept within [min, max]. NaN when empty. Throws RangeError for p out of range.
   */
  percentile(p: number): number {
    if (!(p > 0 && p <= 100)) {
      throw new RangeError(`Cannot compute percentile ${p}: must be above 0 and at most 100`);
    }
    if (this.#count === 0) return NaN;
    if (p === 100) return this.#max;
    const rank = Math.max(1, Math.ceil((p / 100) * this.#count));
    let seen = 0;
    for (let i = 0; i < this.#counts.length; i++) {
      seen += this.#counts[i];
      if (seen >= rank) return Math.min(this.#max, Math.max(this.#min, bucketMiddle(i)));
    }
    return this.#max;
  }

  /**
   * How many values fall at or below each of `edges` (µs, ascending) and
   * above the one before; a last count for those above every edge. Each
   * bucket counts where its middle lies, so a count is off by at most the
   * bucket width (1/128 of the value) at an edge.
   */
  countsUpTo(edges: readonly number[]): number[] {
    const out = new Array<number>(edges.length + 1).fill(0);
    let bin = 0;
    for (let i = 0; i < this.#counts.length; i++) {
      const n = this.#counts[i];
      if (n === 0) continue;
      const v = Math.min(this.#max, Math.max(this.#min, bucketMiddle(i)));
      while (bin < edges.length && v > edges[bin]) bin++;
      out[bin] += n;
    }
    return out;
  }

  /** Its state as plain data, to send to another thread ({@linkcode LatencyHistogram.from}). */
  snapshot(): HistogramSnapshot {
    return {
      counts: this.#counts.slice(),
      count: this.#count,
      sum: this.#sum,
      min: this.#min,
      max: this.#max,
    };
  }

  /** A histogram with the state of a {@linkcode snapshot}. */
  static from(s: HistogramSnapshot): LatencyHistogram {
    const h = new LatencyHistogram();
    h.#counts.set(s.counts);
    h.#count = s.count;
    h.#sum = s.sum;
    h.#min = s.min;
    h.#max = s.max;
    return h;
  }

  /** Forgets every value (for a histogram reused per interval). */
  clear(): void {
    this.#counts.fill(0);
    this.#count = 0;
    this.#sum = 0;
    this.#min = Infinity;
    this.#max = -Infinity;
  }

  /** p50, p90, p99, max, mean and min in milliseconds (NaN when empty). */
  summaryMs(): LatencySummary {
    const ms = (us: number) => us / 1000;
    return {
      p50: ms(this.percentile(50)),
      p90: ms(this.percentile(90)),
      p99: ms(this.percentile(99)),
      max: ms(this.max),
      mean: ms(this.mean),
      min: ms(this.min),
    };
  }
}

/** A histogram as plain data (structured-clonable). */
export interface HistogramSnapshot {
  counts: Float64Array;
  count: number;
  sum: number;
  min: number;
  max: number;
}

/** A latency summary in milliseconds, as `--json` prints it. */
export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
  min: number;
}

/** 2^-e for every exponent a bucket can have: a multiply, exact like dividing by 2^e. */
const INVERSE_POWERS = Float64Array.from({ length: MAX_EXPONENT + 1 }, (_, e) => 2 ** -e);

/**
 * The bucket of `us`. Called for every delivery a load generator counts
 * (millions a second), so below 2^32 µs the exponent comes from the integer
 * part's leading zeros, not from `Math.log2` and `2 ** e` (libm calls that
 * were about a tenth of the generator's CPU). Where `log2` rounds up to the
 * next power of two for a value just below it, the sub-bucket clamp lands
 * both ways in the same bucket.
 */
function bucketOf(us: number): number {
  if (us < 1) return 0;
  const e = us < 4294967296
    ? 31 - Math.clz32(us)
    : Math.min(MAX_EXPONENT, Math.floor(Math.log2(us)));
  const sub = Math.min(SUB - 1, Math.floor((us * INVERSE_POWERS[e] - 1) * SUB));
  return 1 + e * SUB + sub;
}

function bucketMiddle(index: number): number {
  if (index === 0) return 0.5;
  const e = Math.floor((index - 1) / SUB);
  const sub = (index - 1) % SUB;
  return 2 ** e * (1 + (sub + 0.5) / SUB);
}

/**
 * The send times of requests in flight, oldest first, in a fixed ring: a
 * generator that keeps at most `capacity` requests outstanding pairs each
 * reply with the oldest send (replies on one socket from a single-threaded
 * server come back in order) and expires those unanswered for too long.
 */
export class InFlight {
  readonly #times: Float64Array;
  #head = 0;
  #size = 0;

  constructor(capacity: number) {
    if (!(capacity >= 1)) throw new RangeError(`Cannot keep ${capacity} requests in flight`);
    this.#times = new Float64Array(capacity);
  }

  /** Requests it can hold. */
  get capacity(): number {
    return this.#times.length;
  }

  /** Requests outstanding. */
  get size(): number {
    return this.#size;
  }

  /** Records a send at time `t`; false (and nothing recorded) when full. */
  push(t: number): boolean {
    if (this.#size === this.#times.length) return false;
    this.#times[(this.#head + this.#size) % this.#times.length] = t;
    this.#size++;
    return true;
  }

  /** Removes and returns the oldest send time, or undefined when empty. */
  shift(): number | undefined {
    if (this.#size === 0) return undefined;
    const t = this.#times[this.#head];
    this.#head = (this.#head + 1) % this.#times.length;
    this.#size--;
    return t;
  }

  /** Removes every send made before `cutoff` and returns how many there were. */
  expire(cutoff: number): number {
    let n = 0;
    while (this.#size > 0 && this.#times[this.#head] < cutoff) {
      this.shift();
      n++;
    }
    return n;
  }
}

/**
 * Bin edges in µs on a 1-2-5 scale that cover `[minUs, maxUs]`: the bins a
 * latency histogram is printed in (e.g. 100, 200, 500, 1000 µs).
 */
export function edges125(minUs: number, maxUs: number): number[] {
  const out: number[] = [];
  let decade = 10 ** Math.floor(Math.log10(Math.max(minUs, 1)));
  while (out.length === 0 || out[out.length - 1] < maxUs) {
    for (const m of [1, 2, 5]) {
      const edge = m * decade;
      if (edge >= minUs || (m === 5 && out.length === 0)) out.push(edge);
    }
    decade *= 10;
  }
  while (out.length > 1 && out[out.length - 2] >= maxUs) out.pop();
  return out;
}
