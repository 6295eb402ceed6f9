/**
 * Per-source quotas, written once: one host may hold at most a bounded share
 * of a table or connection pool, so a hostile neighbour cannot lock others
 * out. Sources are IPv4 addresses, or IPv6 /64 prefixes (one host usually owns
 * a whole /64).
 *
 * @example
 * ```ts
 * import { SourceQuota } from "./quota.ts";
 * const quota = new SourceQuota({ perSource: 2 });
 * console.assert(quota.tryTake("10.0.0.1") && quota.tryTake("10.0.0.1"));
 * console.assert(!quota.tryTake("10.0.0.1") && quota.tryTake("10.0.0.2"));
 * quota.release("10.0.0.1");
 * console.assert(quota.held("10.0.0.1") === 1);
 * ```
 * @module
 */

/** Options of {@linkcode SourceQuota}. */
export interface SourceQuotaOptions {
  /** Most entries one source may hold at once. */
  perSource: number;
}

/** The key a source is counted under: the IPv4 address, or the IPv6 /64 prefix. */
export function sourceKey(hostname: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(hostname);
  if (mapped) return mapped[1];
  if (!hostname.includes(":")) return hostname;
  return `${expandIpv6(hostname).slice(0, 4).join(":")}::/64`;
}

function expandIpv6(text: string): string[] {
  const [head, tail] = text.split("%")[0].split("::");
  const left = head ? head.split(":") : [];
  const right = tail === undefined ? [] : tail ? tail.split(":") : [];
  const fill = Array(Math.max(0, 8 - left.length - right.length)).fill("0");
  return [...left, ...fill, ...right].map((g) => g.toLowerCase().replace(/^0+(?=.)/, ""));
}

/** Counts what each source holds; refuses a source at its limit. */
export class SourceQuota {
  readonly perSource: number;
  readonly #held = new Map<string, number>();

  constructor(options: SourceQuotaOptions) {
    if (!(options.perSource >= 1)) throw new RangeError("perSource must be at least 1");
    this.perSource = options.perSource;
  }

  /** Takes one unit for `hostname`'s source; false (nothing taken) at its limit. */
  tryTake(hostname: string): boolean {
    const key = sourceKey(hostname);
    const n = this.#held.get(key) ?? 0;
    if (n >= this.perSource) return false;
    this.#held.set(key, n + 1);
    return true;
  }

  /** Gives one unit back (no-op when the source holds none). */
  release(hostname: string): void {
    const key = sourceKey(hostname);
    const n = this.#held.get(key) ?? 0;
    if (n <= 1) this.#held.delete(key);
    else this.#held.set(key, n - 1);
  }

  /** Units `hostname`'s source holds. */
  held(hostname: string): number {
    return this.#held.get(sourceKey(hostname)) ?? 0;
  }

  /** Number of sources holding anything. */
  get sources(): number {
    return this.#held.size;
  }
}

/**
 * The default per-source limit for a table of `capacity` entries: a quarter,
 * but never below `floor` (so a small lab table still lets one host do its exercise).
 */
export function defaultPerSource(capacity: number, floor = 16): number {
  return Math.max(Math.min(floor, capacity), Math.floor(capacity / 4));
}
