/**
 * What every `socklab bench` mode prints at the end: the summary table,
 * latency and generator rows, the latency histogram, and numbers rounded for
 * `--json`.
 *
 * @example
 * ```ts ignore
 * import { printSummary } from "./summary.ts";
 * printSummary([["sent", "1,000 requests"], ["lost", "0"]]);
 * ```
 * @module
 */
import { formatCount, formatMs, formatTable } from "./format.ts";
import type { HeadroomReport } from "./headroom.ts";
import { edges125, type LatencyHistogram } from "./stats.ts";

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
