/**
 * `socklab bench tcp HOST:PORT`: flags, live progress, interval lines and the
 * summary around the throughput generator in tcp.ts (iperf3's `-P`,
 * `--reverse` and `--bidir`, against any peer: nc, socat, socklab nc).
 *
 * ```sh
 * socklab bench tcp 127.0.0.1:9000 --bytes 1G -P 4
 * socklab bench tcp 127.0.0.1:9000 --reverse --duration 5
 * ```
 * @module
 */
import type { CommandContext } from "../cli/command.ts";
import { UsageError } from "../cli/errors.ts";
import { intFlag, parseFlags, withUsage } from "../cli/flags.ts";
import { formatJson } from "../cli/output.ts";
import type { HostPort } from "../net/address.ts";
import { label, MAX_DURATION_S, RUN_OPTIONS, type RunFlags, runFlags, target } from "./args.ts";
import { printSummary, round } from "./summary.ts";
import { formatBytes, formatCount, formatMs, formatThroughput, parseSize } from "./format.ts";
import {
  countsSampler,
  DEFAULT_INTERVAL_S,
  type IntervalCounts,
  intervalLabel,
} from "./interval.ts";
import { runWithReports } from "./reporting.ts";
import {
  runTcpStreams,
  type TcpDirection,
  type TcpStreamsResult,
  type TcpThroughputCounters,
  type TcpThroughputResult,
} from "./tcp.ts";

/** The usage line. */
export const TCP_USAGE =
  "usage: socklab bench tcp HOST:PORT [--bytes N] [--duration S] [-P N] [--reverse | --bidir] [--interval S] [--json]";

/** Seconds a run without --bytes lasts (iperf3's default). */
const DEFAULT_TIMED_S = 10;
/** Upper bound of a run with --bytes. */
const DEFAULT_BOUND_S = 60;

/** `bench tcp --help`. */
export const TCP_HELP = `Connects (N times with -P), sends in 128 KiB writes, half-closes, and times
each stream until the peer closes its side (it has read everything) or, if it
keeps it open, until the last write. What the peer sends back is read and
counted. --reverse only receives what the peer sends (e.g. nc -l < /dev/zero);
--bidir sends and receives at once.

  --bytes N       bytes per stream and direction; K, M, G suffixes are binary
                  (1G = 1,073,741,824). Without it each stream runs --duration
  --duration S    seconds to run (default ${DEFAULT_TIMED_S}; with --bytes, a bound, default ${DEFAULT_BOUND_S});
                  at most ${MAX_DURATION_S}
  -P, --parallel N  streams at once (default 1, 1-128)
  -R, --reverse   receive instead of send
  --bidir         send and receive on every stream
  -i, --interval S  a report line every S seconds (default ${DEFAULT_INTERVAL_S}; 0 = none)
  --json          print one JSON document instead of the lines and table

Exit status: 0 done, 1 refused or reset, 2 usage error.`;

interface TcpRun extends RunFlags {
  to: HostPort;
  bytes: number | undefined;
  streams: number;
  direction: TcpDirection;
}

function bytesFlag(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  let bytes: number;
  try {
    bytes = parseSize(text);
  } catch (err) {
    throw new UsageError(`--bytes: ${(err as Error).message}`, TCP_USAGE);
  }
  if (bytes < 1 || bytes > 1024 ** 4) {
    throw new UsageError(`Cannot parse --bytes "${text}": must be between 1 and 1T`, TCP_USAGE);
  }
  return bytes;
}

async function parseTcp(args: string[]): Promise<TcpRun> {
  const { values, positionals } = parseFlags(args, {
    usage: TCP_USAGE,
    help: TCP_HELP,
    minPositionals: 1,
    maxPositionals: 1,
    options: {
      bytes: { type: "string" },
      parallel: { type: "string", short: "P" },
      reverse: { type: "boolean", short: "R" },
      bidir: { type: "boolean" },
      ...RUN_OPTIONS,
    },
  });
  if (values.reverse && values.bidir) {
    throw new UsageError("Cannot use --reverse and --bidir together", TCP_USAGE);
  }
  const bytes = bytesFlag(values.bytes);
  const fallback = bytes === undefined ? DEFAULT_TIMED_S : DEFAULT_BOUND_S;
  const flags = runFlags(values, fallback, TCP_USAGE);
  const streams = withUsage(TCP_USAGE, () => intFlag(values.parallel, "parallel", 1, 128, 1));
  const direction = values.reverse ? "receive" : values.bidir ? "both" : "send";
  const to = await target(positionals[0], TCP_USAGE);
  return { to, bytes, streams, direction, ...flags };
}

/** One interval's figures. */
type TcpInterval = IntervalCounts<"sent" | "received">;

function intervalLine(r: TcpInterval, direction: TcpDirection): string {
  const sent = `${formatBytes(r.sent)} sent (${formatThroughput(r.sentPerSecond)})`;
  const got = `${formatBytes(r.received)} received (${formatThroughput(r.receivedPerSecond)})`;
  const parts = direction === "send" ? [sent] : direction === "receive" ? [got] : [sent, got];
  return `${intervalLabel(r.fromS, r.toS)}  ${parts.join(", ")}`;
}

/** Runs the generator with progress and interval reports; returns the result and intervals. */
function measureTcp(run: TcpRun, ctx: CommandContext) {
  const counters: TcpThroughputCounters = { sent: 0, received: 0 };
  const t0 = performance.now();
  const progress = () =>
    `bench tcp ${label(run.to)}: ${((performance.now() - t0) / 1000).toFixed(1)} s, ${
      formatBytes(counters.sent)
    } sent, ${formatBytes(counters.received)} received`;
  const sample = countsSampler(counters, ["sent", "received"] as const);
  const line = (r: TcpInterval) => intervalLine(r, run.direction);
  return runWithReports({ ...run, progress, sample, line }, () =>
    runTcpStreams(run.to, {
      streams: run.streams,
      bytes: run.bytes,
      maxMs: run.durationS * 1000,
      direction: run.direction,
      signal: ctx.signal,
    }, counters));
}

const perSecond = (bytes: number, ms: number) => bytes / Math.max(ms / 1000, 1e-6);

function streamJson(s: TcpThroughputResult) {
  return {
    sent: s.sent,
    received: s.received,
    seconds: round(s.elapsedMs / 1000),
    connectMs: round(s.connectMs),
    peerClosed: s.peerClosed,
    stoppedBy: s.stoppedBy ?? null,
  };
}

function tcpJson(run: TcpRun, r: TcpStreamsResult, intervals: TcpInterval[]): string {
  const sentRate = perSecond(r.sent, r.elapsedMs);
  return formatJson({
    mode: "tcp",
    target: label(run.to),
    direction: run.direction,
    parallel: run.streams,
    bytes: run.bytes ?? null,
    sent: r.sent,
    received: r.received,
    seconds: round(r.elapsedMs / 1000),
    connectMs: round(Math.max(...r.streams.map((s) => s.connectMs))),
    bytesPerSecond: Math.round(sentRate),
    megabytesPerSecond: round(sentRate / 1e6),
    receivedBytesPerSecond: Math.round(perSecond(r.received, r.elapsedMs)),
    peerClosed: r.streams.every((s) => s.peerClosed),
    stoppedBy: r.streams.find((s) => s.stoppedBy)?.stoppedBy ?? null,
    streams: r.streams.map(streamJson),
    intervals,
  });
}

function timedTo(run: TcpRun, r: TcpStreamsResult): string {
  if (run.direction === "receive") return "each stream's last byte received";
  const closed = r.streams.filter((s) => s.peerClosed).length;
  return closed === r.streams.length
    ? "the peer's close (it read everything)"
    : `the last write on ${
      r.streams.length - closed
    } of ${r.streams.length} streams (the peer did not close its side within 5 s)`;
}

const DIRECTION_TEXT: Record<TcpDirection, string> = {
  send: "sending",
  receive: "receiving (reverse)",
  both: "both directions",
};

function tcpTable(run: TcpRun, r: TcpStreamsResult): void {
  const stopped = r.streams.find((s) => s.stoppedBy)?.stoppedBy;
  const secs = `${(r.elapsedMs / 1000).toFixed(2)} s${
    stopped ? `, stopped by the ${stopped}` : ""
  }`;
  const connect = formatMs(Math.max(...r.streams.map((s) => s.connectMs)));
  const rows: [string, string][] = [
    [
      "target",
      `${label(run.to)} (TCP), ${run.streams} stream${run.streams > 1 ? "s" : ""}, ${
        DIRECTION_TEXT[run.direction]
      }, connected in ${connect}`,
    ],
  ];
  if (run.direction !== "receive") {
    rows.push(["sent", `${formatBytes(r.sent)} (${formatCount(r.sent)} bytes) in ${secs}`]);
    rows.push(["throughput", formatThroughput(perSecond(r.sent, r.elapsedMs))]);
  }
  if (run.direction !== "send") {
    rows.push([
      "received",
      `${formatBytes(r.received)} (${formatCount(r.received)} bytes) in ${secs}`,
    ]);
    rows.push(["throughput", `${formatThroughput(perSecond(r.received, r.elapsedMs))} received`]);
  } else {
    rows.push(["received", `${formatCount(r.received)} bytes back`]);
  }
  if (run.streams > 1) {
    r.streams.forEach((s, i) =>
      rows.push([
        `stream ${i + 1}`,
        `${formatBytes(s.sent)} sent, ${formatBytes(s.received)} received in ${
          (s.elapsedMs / 1000).toFixed(2)
        } s`,
      ])
    );
  }
  rows.push(["timed to", timedTo(run, r)]);
  printSummary(rows);
}

/** `socklab bench tcp`. */
export async function benchTcp(args: string[], ctx: CommandContext): Promise<number> {
  const run = await parseTcp(args);
  const { result, intervals } = await measureTcp(run, ctx);
  if (run.json) console.log(tcpJson(run, result, intervals));
  else tcpTable(run, result);
  return 0;
}
