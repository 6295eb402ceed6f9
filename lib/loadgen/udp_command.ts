/**
 * `socklab bench udp HOST:PORT --payload TEXT`: flags, live progress,
 * interval lines, and the summary (table with a latency histogram, or JSON)
 * around the generator in udp.ts.
 *
 * ```sh
 * socklab bench udp 127.0.0.1:1502 --payload USD --concurrency 64 --duration 5
 * ```
 * @module
 */
import type { CommandContext } from "../cli/command.ts";
import { FailError, UsageError } from "../cli/errors.ts";
import { intFlag, parseFlags, withUsage } from "../cli/flags.ts";
import { formatJson } from "../cli/output.ts";
import type { HostPort } from "../net/address.ts";
import { label, MAX_DURATION_S, RUN_OPTIONS, type RunFlags, runFlags, target } from "./args.ts";
import {
  headroomRow,
  histogramBins,
  histogramLines,
  latencyRow,
  printSummary,
  round,
  roundAll,
} from "./summary.ts";
import { formatBytes, formatCount, formatMs, formatPercent } from "./format.ts";
import {
  countsSampler,
  DEFAULT_INTERVAL_S,
  type IntervalCounts,
  intervalLabel,
} from "./interval.ts";
import { runWithReports } from "./reporting.ts";
import { LatencyHistogram } from "./stats.ts";
import {
  DEFAULT_CONCURRENCY,
  DEFAULT_LOSS_TIMEOUT_MS,
  runUdpLoad,
  type UdpLoadCounters,
  type UdpLoadResult,
} from "./udp.ts";

/** The usage line. */
export const UDP_USAGE =
  "usage: socklab bench udp HOST:PORT --payload TEXT [--concurrency N] [--duration S] [--interval S] [--timeout MS] [--json]";

/** `bench udp --help`. */
export const UDP_HELP = `Keeps N requests in flight, each one datagram of TEXT; every reply is timed
and replaced at once. A request unanswered for --timeout counts as lost and is
replaced too. Replies are paired with requests in order, as a single-threaded
server on one socket sends them. On Linux requests and replies move in batches
(sendmmsg/recvmmsg), so the generator is not the bottleneck; the summary shows
what it spent itself (its CPU, and its time sending, handling replies, waiting).

  --payload TEXT     the request, e.g. USD for rates-server (required)
  --concurrency N    requests in flight (default ${DEFAULT_CONCURRENCY}, 1-4096)
  --duration S       seconds to run (default 5, at most ${MAX_DURATION_S})
  --interval S       a report line every S seconds (default ${DEFAULT_INTERVAL_S}; 0 = none)
  --timeout MS       unanswered this long = lost (default ${DEFAULT_LOSS_TIMEOUT_MS})
  --json             print one JSON document instead of the lines and table

Exit status: 0 done, 1 no reply at all, 2 usage error.`;

/** The checked flags of one run. */
interface UdpRun extends RunFlags {
  to: HostPort;
  payload: Uint8Array;
  concurrency: number;
  timeoutMs: number;
}

async function parseUdp(args: string[]): Promise<UdpRun> {
  const { values, positionals } = parseFlags(args, {
    usage: UDP_USAGE,
    help: UDP_HELP,
    minPositionals: 1,
    maxPositionals: 1,
    options: {
      payload: { type: "string" },
      concurrency: { type: "string" },
      timeout: { type: "string" },
      ...RUN_OPTIONS,
    },
  });
  if (values.payload === undefined) throw new UsageError("Missing --payload", UDP_USAGE);
  const payload = new TextEncoder().encode(values.payload);
  if (payload.length > 65507) {
    throw new UsageError("--payload is longer than a UDP datagram (65,507 bytes)", UDP_USAGE);
  }
  const { concurrency, timeoutMs } = withUsage(UDP_USAGE, () => ({
    concurrency: intFlag(values.concurrency, "concurrency", 1, 4096, DEFAULT_CONCURRENCY),
    timeoutMs: intFlag(values.timeout, "timeout", 1, 60_000, DEFAULT_LOSS_TIMEOUT_MS),
  }));
  const flags = runFlags(values, 5, UDP_USAGE);
  const to = await target(positionals[0], UDP_USAGE);
  return { to, payload, concurrency, timeoutMs, ...flags };
}

/** One interval's figures: the counts and the interval's own latency percentiles. */
type UdpInterval = IntervalCounts<"replies" | "lost"> & {
  p50Ms: number | null;
  p99Ms: number | null;
};

/** Samples the counters and the interval's own histogram (then clears it). */
function udpSampler(counters: UdpLoadCounters, window: LatencyHistogram) {
  const counts = countsSampler(counters, ["replies", "lost"] as const);
  return (fromS: number, toS: number): UdpInterval => {
    const s = window.count ? window.summaryMs() : undefined;
    window.clear();
    return {
      ...counts(fromS, toS),
      p50Ms: s ? round(s.p50) : null,
      p99Ms: s ? round(s.p99) : null,
    };
  };
}

function intervalLine(r: UdpInterval): string {
  const lat = r.p50Ms === null ? "" : `, p50 ${formatMs(r.p50Ms)}, p99 ${formatMs(r.p99Ms!)}`;
  return `${intervalLabel(r.fromS, r.toS)}  ${formatCount(r.replies).padStart(10)} replies (${
    formatCount(r.repliesPerSecond)
  }/s), ${formatCount(r.lost)} lost${lat}`;
}

/** Runs the generator with progress and interval reports; returns the result and intervals. */
function measureUdp(run: UdpRun, ctx: CommandContext) {
  const counters: UdpLoadCounters = { sent: 0, replies: 0, lost: 0, stray: 0, sendErrors: 0 };
  const window = new LatencyHistogram();
  const t0 = performance.now();
  const progress = () => {
    const s = (performance.now() - t0) / 1000;
    return `bench udp ${label(run.to)}: ${s.toFixed(1)} s, ${
      formatCount(counters.replies)
    } replies (${formatCount(counters.replies / Math.max(s, 0.001))}/s), ${
      formatCount(counters.lost)
    } lost`;
  };
  const sample = udpSampler(counters, window);
  return runWithReports({ ...run, progress, sample, line: intervalLine }, () =>
    runUdpLoad(run.to, {
      payload: run.payload,
      concurrency: run.concurrency,
      durationMs: run.durationS * 1000,
      timeoutMs: run.timeoutMs,
      signal: ctx.signal,
      onLatency: run.intervalS > 0 ? window : undefined,
    }, counters));
}

function udpJson(run: UdpRun, r: UdpLoadResult, intervals: UdpInterval[]): string {
  return formatJson({
    mode: "udp",
    target: label(run.to),
    payloadBytes: run.payload.length,
    concurrency: run.concurrency,
    timeoutMs: run.timeoutMs,
    seconds: round(r.elapsedMs / 1000),
    sent: r.sent,
    replies: r.replies,
    lost: r.lost,
    unanswered: r.unanswered,
    stray: r.stray,
    sendErrors: r.sendErrors,
    repliesPerSecond: Math.round(r.replies / (r.elapsedMs / 1000)),
    latencyMs: r.latency.count ? roundAll(r.latency.summaryMs()) : null,
    histogram: histogramBins(r.latency),
    intervals,
    generator: { io: r.io, ...roundAll(r.generator) },
    interrupted: r.interrupted,
  });
}

function udpTable(run: UdpRun, r: UdpLoadResult): void {
  const rate = r.replies / (r.elapsedMs / 1000);
  const extra: [string, string][] = [];
  if (r.stray) extra.push(["stray", `${formatCount(r.stray)} datagrams not paired with a request`]);
  if (r.sendErrors) extra.push(["send errors", formatCount(r.sendErrors)]);
  printSummary([
    [
      "target",
      `${label(run.to)} (UDP), payload ${
        formatBytes(run.payload.length)
      }, ${run.concurrency} in flight`,
    ],
    ["duration", `${(r.elapsedMs / 1000).toFixed(2)} s${r.interrupted ? " (interrupted)" : ""}`],
    ["sent", `${formatCount(r.sent)} requests`],
    ["replies", `${formatCount(r.replies)} (${formatCount(rate)} per second)`],
    [
      "lost",
      `${formatCount(r.lost)} (${
        formatPercent(r.lost, r.sent)
      }; no reply within ${run.timeoutMs} ms)`,
    ],
    ["in flight", `${formatCount(r.unanswered)} at the end (not counted)`],
    ...extra,
    ["latency", latencyRow(r.latency)],
    ["generator", `${headroomRow(r.generator, r.elapsedMs)} (${r.io} I/O)`],
  ]);
  const bars = histogramLines(r.latency);
  if (bars.length) console.log(["latency histogram:", ...bars.map((l) => `  ${l}`)].join("\n"));
}

/** `socklab bench udp`. */
export async function benchUdp(args: string[], ctx: CommandContext): Promise<number> {
  const run = await parseUdp(args);
  const { result: r, intervals } = await measureUdp(run, ctx);
  if (run.json) console.log(udpJson(run, r, intervals));
  else udpTable(run, r);
  if (r.replies === 0 && !r.interrupted) {
    throw new FailError(
      `no reply from ${label(run.to)} in ${(r.elapsedMs / 1000).toFixed(1)} s (${
        formatCount(r.sent)
      } requests sent)`,
    );
  }
  return 0;
}
