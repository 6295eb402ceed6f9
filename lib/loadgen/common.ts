/**
 * What every `socklab bench` mode shares: the target and time flags checked
 * before any traffic, the summary table, latency text and histogram lines,
 * and numbers rounded for `--json`.
 *
 * @example
 * ```ts ignore
 * import { seconds, target } from "./common.ts";
 * const to = await target("127.0.0.1:1502", USAGE);
 * const s = seconds("5", "duration", 600, 5, USAGE);
 * ```
 * @module
 */
import { UsageError } from "../cli/errors.ts";
import { formatHostPort, type HostPort, parseHostPort } from "../net/address.ts";
import { resolveHost } from "../net/resolve.ts";
import { formatCount, formatMs, formatTable, parseSeconds } from "./format.ts";
import { DEFAULT_INTERVAL_S } from "./interval.ts";
import type { HeadroomReport } from "./headroom.ts";
import { edges125, type LatencyHistogram } from "./stats.ts";

/** Longest run of any mode, in seconds (help, README and the checks say the same). */
export const MAX_DURATION_S = 600;

/** `HOST:PORT` resolved to an address; port 0 is a usage error. */
export async function target(text: string, usage: string): Promise<HostPort> {
  let addr: HostPort;
  try {
    addr = parseHostPort(text);
  } catch (err) {
    throw new UsageError((err as Error).message, usage);
  }
  if (addr.port === 0) throw new UsageError(`Cannot send to port 0 of "${text}"`, usage);
  return { hostname: await resolveHost(addr.hostname), port: addr.port };
}

/** Every `--servers`/positional target, in order. */
export function targets(texts: readonly string[], usage: string): Promise<HostPort[]> {
  return Promise.all(texts.map((t) => target(t, usage)));
}

/** `HOST:PORT` as printed. */
export const label = (to: HostPort) => formatHostPort(to.hostname, to.port);

/** A `--flag S` in seconds, between `min` and `max`, or `fallback` when absent. */
export function seconds(
  text: string | undefined,
  flag: string,
  max: number,
  fallback: number,
  usage: string,
  min = 0.1,
): number {
  if (text === undefined) return fallback;
  let s: number;
  try {
    s = parseSeconds(text);
  } catch (err) {
    throw new UsageError(`--${flag}: ${(err as Error).message}`, usage);
  }
  if (s < min || s > max) {
    throw new UsageError(
      `Cannot parse --${flag} "${text}": must be between ${min} and ${max}`,
      usage,
    );
  }
  return s;
}

/** `--interval S`: 0 (none) or 0.1 to 60 seconds. */
export function intervalSeconds(text: string | undefined, fallback: number, usage: string): number {
  if (text !== undefined && Number(text) === 0) return 0;
  return seconds(text, "interval", 60, fallback, usage);
}

/** The flags every mode takes for how long it runs and how it reports. */
export const RUN_OPTIONS = {
  duration: { type: "string" },
  interval: { type: "string", short: "i" },
  json: { type: "boolean" },
} as const;

/** The values of {@linkcode RUN_OPTIONS}, checked. */
export interface RunFlags {
  durationS: number;
  intervalS: number;
  json: boolean;
}

/** `--duration S` (at most {@linkcode MAX_DURATION_S}, `fallbackS` when absent), `--interval S`, `--json`. */
export function runFlags(
  values: { duration?: string; interval?: string; json?: boolean },
  fallbackS: number,
  usage: string,
): RunFlags {
  return {
    durationS: seconds(values.duration, "duration", MAX_DURATION_S, fallbackS, usage),
    intervalS: intervalSeconds(values.interval, DEFAULT_INTERVAL_S, usage),
    json: !!values.json,
  };
}

/** `p50 0.39 ms, p90 0.52 ms, p99 0.72 ms, max 3.1 ms`, or `-` when empty. */
export function latencyRow(h: LatencyHistogram): string {
  if (h.count === 0) return "-";
  const s = h.summaryMs();
  return `p50 ${formatMs(s.p50)}, p90 ${formatMs(s.p90)}, p99 ${formatMs(s.p99)}, max ${
    formatMs(s.max)
  }`;
}

/** The generator's own cost: `0.41 s CPU (0.08 cores, busiest thread 6 %); send 12 %, ...`. */
export function headroomRow(g: HeadroomReport, elapsedMs: number): string {
  const share = (ms: number) => `${Math.round((100 * ms) / Math.max(elapsedMs, 1e-6))} %`;
  const busiest = Number.isNaN(g.busiestThread)
    ? ""
    : `, busiest thread ${Math.round(100 * g.busiestThread)} %`;
  return `${(g.cpuMs / 1000).toFixed(2)} s CPU (${g.cores.toFixed(2)} cores${busiest}); send ${
    share(g.sendMs)
  }, replies ${share(g.receiveMs)}, waiting ${share(g.waitMs)} of the time`;
}

/** One histogram bin for `--json`: values above the previous edge, up to `upToMs`. */
export interface HistogramBin {
  upToMs: number | null;
  count: number;
}

/** The latency histogram in 1-2-5 bins from its first to its last non-empty one. */
export function histogramBins(h: LatencyHistogram): HistogramBin[] {
  if (h.count === 0) return [];
  const edges = edges125(h.min, h.max);
  const counts = h.countsUpTo(edges);
  const bins = counts.map((count, i) => ({
    upToMs: i < edges.length ? edges[i] / 1000 : null,
    count,
  }));
  const first = bins.findIndex((b) => b.count > 0);
  const last = bins.findLastIndex((b) => b.count > 0);
  return bins.slice(first, last + 1);
}

/** Histogram rows: `0.2-0.5 ms   12,345   48.1 %  ##########` (bars scaled to the largest bin). */
export function histogramLines(h: LatencyHistogram): string[] {
  const bins = histogramBins(h);
  const most = Math.max(1, ...bins.map((b) => b.count));
  const rows = bins.map((b, i) => {
    const below = i === 0 ? undefined : bins[i - 1].upToMs!;
    const range = b.upToMs === null
      ? `> ${formatMs(below!)}`
      : below === undefined
      ? `≤ ${formatMs(b.upToMs)}`
      : `${formatMs(below).replace(" ms", "")}-${formatMs(b.upToMs)}`;
    return [
      range,
      formatCount(b.count),
      `${((100 * b.count) / h.count).toFixed(1)} %`,
      "#".repeat(Math.round((30 * b.count) / most)),
    ];
  });
  return formatTable(rows, { align: ["l", "r", "r", "l"] });
}

/** Prints a two-column summary table on stdout. */
export function printSummary(rows: [string, string][]): void {
  for (const line of formatTable(rows)) console.log(line);
}

/** `n` rounded to `digits` decimals (for JSON). */
export function round(n: number, digits = 3): number {
  return Number(n.toFixed(digits));
}

/** Every number field of `o` rounded (for JSON). */
export function roundAll<T extends object>(o: T): T {
  return Object.fromEntries(
    Object.entries(o).map(([k, v]) => [k, typeof v === "number" ? round(v) : v]),
  ) as T;
}
