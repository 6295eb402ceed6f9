/**
 * `socklab bench`: load generators for the lab's services, like iperf3 for
 * this lab. Each mode runs for a bounded time, shows a live status line on a
 * terminal (stderr), then prints a summary table, or one JSON document with
 * `--json`.
 *
 * ```sh
 * socklab bench udp 127.0.0.1:1502 --payload USD --concurrency 64 --duration 5
 * socklab bench tcp 127.0.0.1:9000 --bytes 1G
 * socklab bench chat 127.0.0.1:5600 --clients 200 --rate 100 --duration 5
 * ```
 * @module
 */
import type { CommandContext } from "../cli/command.ts";
import { FailError, UsageError } from "../cli/errors.ts";
import { intFlag, parseFlags } from "../cli/flags.ts";
import { formatJson } from "../cli/output.ts";
import { formatHostPort, type HostPort, parseHostPort } from "../net/address.ts";
import { resolveHost } from "../net/resolve.ts";
import { type ChatLoadCounters, type ChatLoadResult, runChatLoad } from "./chat.ts";
import {
  formatBytes,
  formatCount,
  formatMs,
  formatPercent,
  formatTable,
  formatThroughput,
  parseSeconds,
  parseSize,
} from "./format.ts";
import { LiveProgress } from "./progress.ts";
import type { LatencyHistogram } from "./stats.ts";
import { runTcpThroughput, type TcpThroughputCounters, type TcpThroughputResult } from "./tcp.ts";
import {
  DEFAULT_CONCURRENCY,
  DEFAULT_LOSS_TIMEOUT_MS,
  runUdpLoad,
  type UdpLoadCounters,
  type UdpLoadResult,
} from "./udp.ts";

const UDP_USAGE =
  "usage: socklab bench udp HOST:PORT --payload TEXT [--concurrency N] [--duration S] [--timeout MS] [--json]";
const TCP_USAGE = "usage: socklab bench tcp HOST:PORT --bytes N [--duration S] [--json]";
const CHAT_USAGE =
  "usage: socklab bench chat HOST:PORT [--clients N] [--rate R] [--duration S] [--size BYTES] [--ncat] [--json]";
const USAGE = [UDP_USAGE, TCP_USAGE, CHAT_USAGE].join("\n").replaceAll(
  "\nusage:",
  "\n      ",
);

const HELP = `Load generators for the lab's services. Each runs for a bounded time, shows a
live status line on a terminal (stderr), then prints a summary (--json: one JSON
document). Run "socklab bench MODE --help" for one mode's options.

  udp   request/reply rate, latency percentiles and losses of a UDP service
  tcp   throughput of a TCP byte sink (socklab nc -l, nc.openbsd -l, ...)
  chat  fan-out deliveries per second and delivery latency of a chat server`;

const UDP_HELP = `Keeps N requests in flight on one socket, each one datagram of TEXT; every
reply is timed and replaced at once. A request unanswered for --timeout counts
as lost and is replaced too. Replies are paired with requests in order, as a
single-threaded server on one socket sends them.

  --payload TEXT     the request, e.g. USD for rates-server (required)
  --concurrency N    requests in flight (default ${DEFAULT_CONCURRENCY}, 1-4096)
  --duration S       seconds to run (default 5, at most 600)
  --timeout MS       unanswered this long = lost (default ${DEFAULT_LOSS_TIMEOUT_MS})
  --json             print one JSON document instead of the table`;

const TCP_HELP = `Connects, sends N bytes in 128 KiB writes, half-closes, and times until the
peer closes its side (it has read everything) or, if it keeps it open, until
the last write. What the peer sends back is read and counted.

  --bytes N       bytes to send; K, M, G suffixes are binary (1G = 1,073,741,824)
  --duration S    stop sending after S seconds even if N bytes are not sent
                  (default 60, at most 3600)
  --json          print one JSON document instead of the table`;

const CHAT_HELP = `Connects N clients (signed in as bench0, bench1, ...), then sends R chat
messages per second between them, round-robin, for S seconds. Every copy the
server delivers is counted and timed from its send; copies missing 2 s after
the last send are lost.

  --clients N    clients (default 10, 1-10000)
  --rate R       messages per second, all clients together (default 100; 0 = idle)
  --duration S   seconds of sending (default 5, at most 600)
  --size BYTES   text bytes per message (default 64, 16-4000)
  --ncat         the server is ncat --chat: plain lines, no signin, no echo to the sender
  --json         print one JSON document instead of the table`;

/** One mode of `socklab bench`. */
interface Mode {
  usage: string;
  help: string;
  run(args: string[], ctx: CommandContext): Promise<number>;
}

const MODES: Record<string, Mode> = {
  udp: { usage: UDP_USAGE, help: UDP_HELP, run: benchUdp },
  tcp: { usage: TCP_USAGE, help: TCP_HELP, run: benchTcp },
  chat: { usage: CHAT_USAGE, help: CHAT_HELP, run: benchChat },
};

/** CLI entry point. */
export function main(args: string[], ctx: CommandContext): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name.startsWith("-")) {
    parseFlags(args, { usage: USAGE, help: HELP, options: {}, maxPositionals: 0 });
    throw new UsageError("Missing mode (udp, tcp or chat)", USAGE);
  }
  if (!Object.hasOwn(MODES, name)) {
    throw new UsageError(`Unknown mode "${name}" (use udp, tcp or chat)`, USAGE);
  }
  return MODES[name].run(rest, ctx);
}

async function target(text: string, usage: string): Promise<HostPort> {
  let addr: HostPort;
  try {
    addr = parseHostPort(text);
  } catch (err) {
    throw new UsageError((err as Error).message, usage);
  }
  if (addr.port === 0) throw new UsageError(`Cannot send to port 0 of "${text}"`, usage);
  return { hostname: await resolveHost(addr.hostname), port: addr.port };
}

function seconds(
  text: string | undefined,
  flag: string,
  max: number,
  fallback: number,
  usage: string,
) {
  if (text === undefined) return fallback;
  let s: number;
  try {
    s = parseSeconds(text);
  } catch (err) {
    throw new UsageError(`--${flag}: ${(err as Error).message}`, usage);
  }
  if (s < 0.1 || s > max) {
    throw new UsageError(`Cannot parse --${flag} "${text}": must be between 0.1 and ${max}`, usage);
  }
  return s;
}

/** Runs `fn` with a usage line attached to its UsageErrors. */
function withUsage<T>(usage: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof UsageError && !err.usage) throw new UsageError(err.message, usage);
    throw err;
  }
}

function latencyRow(h: LatencyHistogram): string {
  if (h.count === 0) return "-";
  const s = h.summaryMs();
  return `p50 ${formatMs(s.p50)}, p90 ${formatMs(s.p90)}, p99 ${formatMs(s.p99)}, max ${
    formatMs(s.max)
  }`;
}

function printSummary(rows: [string, string][]): void {
  for (const line of formatTable(rows)) console.log(line);
}

// ---- udp -----------------------------------------------------------------

async function benchUdp(args: string[], ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    usage: UDP_USAGE,
    help: UDP_HELP,
    minPositionals: 1,
    maxPositionals: 1,
    options: {
      payload: { type: "string" },
      concurrency: { type: "string" },
      duration: { type: "string" },
      timeout: { type: "string" },
      json: { type: "boolean" },
    },
  });
  if (values.payload === undefined) throw new UsageError("Missing --payload", UDP_USAGE);
  const payload = new TextEncoder().encode(values.payload);
  if (payload.length > 65507) {
    throw new UsageError("--payload is longer than a UDP datagram (65,507 bytes)", UDP_USAGE);
  }
  const concurrency = withUsage(
    UDP_USAGE,
    () => intFlag(values.concurrency, "concurrency", 1, 4096, DEFAULT_CONCURRENCY),
  );
  const durationS = seconds(values.duration, "duration", 600, 5, UDP_USAGE);
  const timeoutMs = withUsage(
    UDP_USAGE,
    () => intFlag(values.timeout, "timeout", 1, 60_000, DEFAULT_LOSS_TIMEOUT_MS),
  );
  const to = await target(positionals[0], UDP_USAGE);
  const label = formatHostPort(to.hostname, to.port);

  const counters: UdpLoadCounters = { sent: 0, replies: 0, lost: 0, stray: 0, sendErrors: 0 };
  const t0 = performance.now();
  const progress = LiveProgress.start(() => {
    const s = (performance.now() - t0) / 1000;
    return `bench udp ${label}: ${s.toFixed(1)} s, ${formatCount(counters.replies)} replies (${
      formatCount(counters.replies / Math.max(s, 0.001))
    }/s), ${formatCount(counters.lost)} lost`;
  });
  let r: UdpLoadResult;
  try {
    r = await runUdpLoad(to, {
      payload,
      concurrency,
      durationMs: durationS * 1000,
      timeoutMs,
      signal: ctx.signal,
    }, counters);
  } finally {
    progress.stop();
  }
  const rate = r.replies / (r.elapsedMs / 1000);
  if (values.json) {
    console.log(formatJson({
      mode: "udp",
      target: label,
      payloadBytes: payload.length,
      concurrency,
      timeoutMs,
      seconds: round(r.elapsedMs / 1000),
      sent: r.sent,
      replies: r.replies,
      lost: r.lost,
      unanswered: r.unanswered,
      stray: r.stray,
      sendErrors: r.sendErrors,
      repliesPerSecond: Math.round(rate),
      latencyMs: r.latency.count ? roundAll(r.latency.summaryMs()) : null,
      interrupted: r.interrupted,
    }));
  } else {
    printSummary([
      [
        "target",
        `${label} (UDP), payload ${formatBytes(payload.length)}, ${concurrency} in flight`,
      ],
      ["duration", `${(r.elapsedMs / 1000).toFixed(2)} s${r.interrupted ? " (interrupted)" : ""}`],
      ["sent", `${formatCount(r.sent)} requests`],
      ["replies", `${formatCount(r.replies)} (${formatCount(rate)} per second)`],
      [
        "lost",
        `${formatCount(r.lost)} (${
          formatPercent(r.lost, r.sent)
        }; no reply within ${timeoutMs} ms)`,
      ],
      ["in flight", `${formatCount(r.unanswered)} at the end (not counted)`],
      ...(r.stray
        ? [["stray", `${formatCount(r.stray)} datagrams not paired with a request`]] as [
          string,
          string,
        ][]
        : []),
      ...(r.sendErrors ? [["send errors", formatCount(r.sendErrors)]] as [string, string][] : []),
      ["latency", latencyRow(r.latency)],
    ]);
  }
  if (r.replies === 0 && !r.interrupted) {
    throw new FailError(
      `no reply from ${label} in ${(r.elapsedMs / 1000).toFixed(1)} s (${
        formatCount(r.sent)
      } requests sent)`,
    );
  }
  return 0;
}

// ---- tcp -----------------------------------------------------------------

async function benchTcp(args: string[], ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    usage: TCP_USAGE,
    help: TCP_HELP,
    minPositionals: 1,
    maxPositionals: 1,
    options: {
      bytes: { type: "string" },
      duration: { type: "string" },
      json: { type: "boolean" },
    },
  });
  if (values.bytes === undefined) throw new UsageError("Missing --bytes", TCP_USAGE);
  let bytes: number;
  try {
    bytes = parseSize(values.bytes);
  } catch (err) {
    throw new UsageError(`--bytes: ${(err as Error).message}`, TCP_USAGE);
  }
  if (bytes < 1 || bytes > 1024 ** 4) {
    throw new UsageError(
      `Cannot parse --bytes "${values.bytes}": must be between 1 and 1T`,
      TCP_USAGE,
    );
  }
  const durationS = seconds(values.duration, "duration", 3600, 60, TCP_USAGE);
  const to = await target(positionals[0], TCP_USAGE);
  const label = formatHostPort(to.hostname, to.port);

  const counters: TcpThroughputCounters = { sent: 0, received: 0 };
  const t0 = performance.now();
  const progress = LiveProgress.start(() => {
    const s = (performance.now() - t0) / 1000;
    return `bench tcp ${label}: ${s.toFixed(1)} s, ${formatBytes(counters.sent)} of ${
      formatBytes(bytes)
    } sent`;
  });
  let r: TcpThroughputResult;
  try {
    r = await runTcpThroughput(
      to,
      { bytes, maxMs: durationS * 1000, signal: ctx.signal },
      counters,
    );
  } finally {
    progress.stop();
  }
  const perSecond = r.sent / Math.max(r.elapsedMs / 1000, 1e-6);
  if (values.json) {
    console.log(formatJson({
      mode: "tcp",
      target: label,
      bytes,
      sent: r.sent,
      received: r.received,
      seconds: round(r.elapsedMs / 1000),
      connectMs: round(r.connectMs),
      bytesPerSecond: Math.round(perSecond),
      megabytesPerSecond: round(perSecond / 1e6),
      peerClosed: r.peerClosed,
      stoppedBy: r.stoppedBy ?? null,
    }));
  } else {
    printSummary([
      ["target", `${label} (TCP), connected in ${formatMs(r.connectMs)}`],
      [
        "sent",
        `${formatBytes(r.sent)} (${formatCount(r.sent)} bytes) in ${
          (r.elapsedMs / 1000).toFixed(2)
        } s${r.stoppedBy ? `, stopped by the ${r.stoppedBy}` : ""}`,
      ],
      ["throughput", formatThroughput(perSecond)],
      ["received", `${formatCount(r.received)} bytes back`],
      [
        "timed to",
        r.peerClosed
          ? "the peer's close (it read everything)"
          : "the last write (the peer did not close its side within 5 s)",
      ],
    ]);
  }
  return 0;
}

// ---- chat ----------------------------------------------------------------

async function benchChat(args: string[], ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    usage: CHAT_USAGE,
    help: CHAT_HELP,
    minPositionals: 1,
    maxPositionals: 1,
    options: {
      clients: { type: "string" },
      rate: { type: "string" },
      duration: { type: "string" },
      size: { type: "string" },
      ncat: { type: "boolean" },
      json: { type: "boolean" },
    },
  });
  const { clients, rate, size } = withUsage(CHAT_USAGE, () => ({
    clients: intFlag(values.clients, "clients", 1, 10_000, 10),
    rate: intFlag(values.rate, "rate", 0, 100_000, 100),
    size: intFlag(values.size, "size", 16, 4000, 64),
  }));
  const durationS = seconds(values.duration, "duration", 600, 5, CHAT_USAGE);
  const dialect = values.ncat ? "ncat" : "socklab";
  if (dialect === "ncat" && clients < 2 && rate > 0) {
    throw new UsageError(
      "--ncat needs at least 2 clients (ncat does not echo to the sender)",
      CHAT_USAGE,
    );
  }
  const to = await target(positionals[0], CHAT_USAGE);
  const label = formatHostPort(to.hostname, to.port);

  const counters: ChatLoadCounters = { connected: 0, messages: 0, deliveries: 0 };
  const t0 = performance.now();
  const progress = LiveProgress.start(() => {
    const s = (performance.now() - t0) / 1000;
    return counters.connected < clients
      ? `bench chat ${label}: ${counters.connected} of ${clients} clients joined`
      : `bench chat ${label}: ${s.toFixed(1)} s, ${formatCount(counters.messages)} messages, ${
        formatCount(counters.deliveries)
      } deliveries`;
  });
  let r: ChatLoadResult;
  try {
    r = await runChatLoad(to, {
      clients,
      rate,
      durationMs: durationS * 1000,
      size,
      dialect,
      signal: ctx.signal,
    }, counters);
  } finally {
    progress.stop();
  }
  const perSecond = r.deliveries / Math.max(r.elapsedMs / 1000, 1e-6);
  if (values.json) {
    console.log(formatJson({
      mode: "chat",
      target: label,
      dialect,
      clients: r.connected,
      readySeconds: round(r.readyMs / 1000),
      offeredMessagesPerSecond: rate,
      seconds: round(r.elapsedMs / 1000),
      messages: r.messages,
      fanout: r.fanout,
      expected: r.expected,
      deliveries: r.deliveries,
      lost: r.lost,
      deliveriesPerSecond: Math.round(perSecond),
      latencyMs: r.latency.count ? roundAll(r.latency.summaryMs()) : null,
      interrupted: r.interrupted,
    }));
  } else {
    printSummary([
      [
        "target",
        `${label} (chat over TCP, ${dialect === "ncat" ? "ncat --chat" : "socklab"} protocol)`,
      ],
      ["clients", `${formatCount(r.connected)} joined in ${(r.readyMs / 1000).toFixed(2)} s`],
      [
        "duration",
        `${(r.elapsedMs / 1000).toFixed(2)} s, ${formatCount(rate)} messages/s offered${
          r.interrupted ? " (interrupted)" : ""
        }`,
      ],
      ["messages", `${formatCount(r.messages)} sent, each to ${formatCount(r.fanout)} clients`],
      [
        "deliveries",
        `${formatCount(r.deliveries)} of ${formatCount(r.expected)} (${
          formatCount(perSecond)
        } per second)`,
      ],
      [
        "lost",
        `${formatCount(r.lost)} (${
          formatPercent(r.lost, r.expected)
        }; missing 2 s after the last send)`,
      ],
      ["latency", latencyRow(r.latency)],
    ]);
  }
  if (r.messages > 0 && r.deliveries === 0 && !r.interrupted) {
    throw new FailError(`${label} delivered none of ${formatCount(r.messages)} messages`);
  }
  return 0;
}

function round(n: number, digits = 3): number {
  return Number(n.toFixed(digits));
}

function roundAll<T extends object>(o: T): T {
  return Object.fromEntries(
    Object.entries(o).map(([k, v]) => [k, typeof v === "number" ? round(v) : v]),
  ) as T;
}
