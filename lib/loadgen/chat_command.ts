/**
 * `socklab bench chat HOST:PORT` (or `--servers A,B,...`): flags, live
 * progress, interval lines and the summary around the chat generator in
 * chat.ts.
 *
 * ```sh
 * socklab bench chat 127.0.0.1:5600 --clients 200 --per-client 20 --duration 5
 * socklab bench chat --servers 127.0.0.1:5600,127.0.0.1:5601 --clients 200 --per-client 20
 * ```
 * @module
 */
import type { CommandContext } from "../cli/command.ts";
import { FailError, UsageError } from "../cli/errors.ts";
import { intFlag, parseFlags, withUsage } from "../cli/flags.ts";
import { formatJson } from "../cli/output.ts";
import type { HostPort } from "../net/address.ts";
import {
  label,
  MAX_DURATION_S,
  RUN_OPTIONS,
  type RunFlags,
  runFlags,
  seconds,
  targets,
} from "./args.ts";
import {
  headroomRow,
  histogramBins,
  latencyRow,
  printSummary,
  round,
  roundAll,
} from "./summary.ts";
import {
  type ChatLoadCounters,
  type ChatLoadResult,
  DEFAULT_MESSAGE_SIZE,
  defaultReadyTimeoutMs,
  MAX_WORKERS,
  runChatLoad,
} from "./chat.ts";
import { formatCount, formatPercent } from "./format.ts";
import { Headroom, type HeadroomReport } from "./headroom.ts";
import {
  countsSampler,
  DEFAULT_INTERVAL_S,
  type IntervalCounts,
  intervalLabel,
} from "./interval.ts";
import { runWithReports } from "./reporting.ts";

/** The usage line. */
export const CHAT_USAGE =
  "usage: socklab bench chat HOST:PORT | --servers HOST:PORT,... [--clients N] [--rate R | --per-client R] [--duration S] [--size BYTES] [--workers N] [--ready-timeout S] [--ncat] [--interval S] [--json]";

/** `bench chat --help`. */
export const CHAT_HELP =
  `Connects N clients (signed in as bench0, bench1, ...; with --servers, client
i joins server i mod S), then sends chat messages between them for S seconds:
R per second in all, round-robin (--rate), or R per second from every client
on the same ticks (--per-client). Every copy the servers deliver is counted and
timed from its send; copies missing 2 s after the last send are lost. With
several servers sharing one room (chat-server --redis), every client must get
every message, whichever server its sender is on.

  --servers LIST   chat servers to spread the clients over, HOST:PORT,...
  --clients N      clients (default 10, 1-10000)
  --rate R         messages per second, all clients together (default 100; 0 = idle)
  --per-client R   lines per second from each client instead (1-10000)
  --duration S     seconds of sending (default 5, at most ${MAX_DURATION_S})
  --size BYTES     text bytes per message (default ${DEFAULT_MESSAGE_SIZE}, 16-4000)
  --workers N      threads that run the clients (default 1, at most ${MAX_WORKERS}): more
                   than one when a single thread cannot read every copy
  --ready-timeout S  limit on joining every client and hearing a probe (default 15,
                   or 0.1 per client when more)
  --ncat           the server is ncat --chat: plain lines, no signin, no echo to the sender
  -i, --interval S a report line every S seconds (default ${DEFAULT_INTERVAL_S}; 0 = none)
  --json           print one JSON document instead of the lines and table

Exit status: 0 done, 1 a server refused, failed or delivered nothing, 2 usage error.`;

interface ChatRunFlags extends RunFlags {
  to: HostPort[];
  clients: number;
  rate: number;
  perClient: number | undefined;
  size: number;
  workers: number;
  readyS: number;
  dialect: "socklab" | "ncat";
}

function serverList(positionals: string[], servers: string | undefined): string[] {
  if (servers !== undefined && positionals.length) {
    throw new UsageError("Give the server as HOST:PORT or --servers, not both", CHAT_USAGE);
  }
  const list = servers?.split(",").map((s) => s.trim()).filter((s) => s) ?? positionals;
  if (list.length === 0) throw new UsageError("Missing HOST:PORT (or --servers)", CHAT_USAGE);
  return list;
}

async function parseChat(args: string[]): Promise<ChatRunFlags> {
  const { values, positionals } = parseFlags(args, {
    usage: CHAT_USAGE,
    help: CHAT_HELP,
    maxPositionals: 1,
    options: {
      servers: { type: "string" },
      clients: { type: "string" },
      rate: { type: "string" },
      "per-client": { type: "string" },
      size: { type: "string" },
      workers: { type: "string" },
      "ready-timeout": { type: "string" },
      ncat: { type: "boolean" },
      ...RUN_OPTIONS,
    },
  });
  const list = serverList(positionals, values.servers);
  if (values.rate !== undefined && values["per-client"] !== undefined) {
    throw new UsageError("Cannot use --rate and --per-client together", CHAT_USAGE);
  }
  const n = withUsage(CHAT_USAGE, () => ({
    clients: intFlag(values.clients, "clients", 1, 10_000, 10),
    rate: intFlag(values.rate, "rate", 0, 100_000, 100),
    perClient: values["per-client"] === undefined
      ? undefined
      : intFlag(values["per-client"], "per-client", 1, 10_000, 1),
    size: intFlag(values.size, "size", 16, 4000, DEFAULT_MESSAGE_SIZE),
    workers: intFlag(values.workers, "workers", 1, MAX_WORKERS, 1),
  }));
  const dialect = values.ncat ? "ncat" : "socklab";
  if (dialect === "ncat" && n.clients < 2 && (n.rate > 0 || n.perClient)) {
    throw new UsageError(
      "--ncat needs at least 2 clients (ncat does not echo to the sender)",
      CHAT_USAGE,
    );
  }
  const flags = runFlags(values, 5, CHAT_USAGE);
  const readyS = seconds(
    values["ready-timeout"],
    "ready-timeout",
    MAX_DURATION_S,
    defaultReadyTimeoutMs(n.clients) / 1000,
    CHAT_USAGE,
  );
  const to = await targets(list, CHAT_USAGE);
  return { to, ...n, readyS, dialect, ...flags };
}

/** One interval's figures. */
type ChatInterval = IntervalCounts<"messages" | "deliveries">;

function intervalLine(r: ChatInterval): string {
  return `${intervalLabel(r.fromS, r.toS)}  ${formatCount(r.messages).padStart(8)} messages, ${
    formatCount(r.deliveries).padStart(10)
  } deliveries (${formatCount(r.deliveriesPerSecond)}/s)`;
}

const where = (run: ChatRunFlags) => run.to.map(label).join(", ");

/** Runs the generator with progress and interval lines (from the first send on). */
async function measureChat(run: ChatRunFlags, ctx: CommandContext) {
  const counters: ChatLoadCounters = { connected: 0, messages: 0, deliveries: 0 };
  const t0 = performance.now();
  const progress = () => {
    const s = (performance.now() - t0) / 1000;
    return counters.connected < run.clients
      ? `bench chat ${where(run)}: ${counters.connected} of ${run.clients} clients joined`
      : `bench chat ${where(run)}: ${s.toFixed(1)} s, ${formatCount(counters.messages)} messages, ${
        formatCount(counters.deliveries)
      } deliveries`;
  };
  const sample = countsSampler(counters, ["messages", "deliveries"] as const);
  let meter = Headroom.start(); // restarted when the load begins
  const reports = { ...run, progress, sample, line: intervalLine, later: true };
  const { result, intervals } = await runWithReports(
    reports,
    (startIntervals) =>
      runChatLoad(run.to, {
        clients: run.clients,
        rate: run.rate,
        perClientRate: run.perClient,
        durationMs: run.durationS * 1000,
        size: run.size,
        dialect: run.dialect,
        workers: run.workers,
        readyTimeoutMs: run.readyS * 1000,
        signal: ctx.signal,
        onReady: () => {
          meter = Headroom.start();
          startIntervals();
        },
      }, counters),
  );
  return { result, intervals, generator: meter.finish(result.elapsedMs) };
}

function offered(run: ChatRunFlags): string {
  return run.perClient !== undefined
    ? `${formatCount(run.perClient)} lines/s from each client`
    : `${formatCount(run.rate)} messages/s offered`;
}

function chatJson(
  run: ChatRunFlags,
  r: ChatLoadResult,
  intervals: ChatInterval[],
  g: HeadroomReport,
): string {
  return formatJson({
    mode: "chat",
    target: where(run),
    servers: run.to.map(label),
    dialect: run.dialect,
    clients: r.connected,
    readySeconds: round(r.readyMs / 1000),
    offeredMessagesPerSecond: run.perClient !== undefined ? run.perClient * run.clients : run.rate,
    perClientRate: run.perClient ?? null,
    seconds: round(r.elapsedMs / 1000),
    messages: r.messages,
    fanout: r.fanout,
    expected: r.expected,
    deliveries: r.deliveries,
    lost: r.lost,
    deliveriesPerSecond: Math.round(r.deliveries / Math.max(r.elapsedMs / 1000, 1e-6)),
    latencyMs: r.latency.count ? roundAll(r.latency.summaryMs()) : null,
    histogram: histogramBins(r.latency),
    intervals,
    generator: { workers: r.workers, ...roundAll(g) },
    interrupted: r.interrupted,
  });
}

function chatTable(run: ChatRunFlags, r: ChatLoadResult, g: HeadroomReport): void {
  const perSecond = r.deliveries / Math.max(r.elapsedMs / 1000, 1e-6);
  const proto = run.dialect === "ncat" ? "ncat --chat" : "socklab";
  printSummary([
    ["target", `${where(run)} (chat over TCP, ${proto} protocol)`],
    ["clients", `${formatCount(r.connected)} joined in ${(r.readyMs / 1000).toFixed(2)} s`],
    [
      "duration",
      `${(r.elapsedMs / 1000).toFixed(2)} s, ${offered(run)}${
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
    [
      "generator",
      `${headroomRow(g, r.elapsedMs).split(";")[0]}, ${r.workers} thread${
        r.workers > 1 ? "s" : ""
      }`,
    ],
  ]);
}

/** `socklab bench chat`. */
export async function benchChat(args: string[], ctx: CommandContext): Promise<number> {
  const run = await parseChat(args);
  const { result: r, intervals, generator } = await measureChat(run, ctx);
  if (run.json) console.log(chatJson(run, r, intervals, generator));
  else chatTable(run, r, generator);
  if (r.messages > 0 && r.deliveries === 0 && !r.interrupted) {
    throw new FailError(`${where(run)} delivered none of ${formatCount(r.messages)} messages`);
  }
  return 0;
}
