/**
 * Chat capacity, cost and memory: socklab's chat-server beside `ncat --chat`
 * in the same run, both driven by the real `socklab bench chat` (lib/loadgen,
 * in its own process with two generator threads, so reading the copies is
 * never what limits a server; each row shows the generator's busiest thread).
 *
 * - capacity: the highest lines/s per client at which 200 clients get every
 *   copy with a delivery p99 ≤ 100 ms. Clients send spread evenly (client i a
 *   200th of a period after client i−1), up a ladder of rates until one fails
 *   (a run that fails is repeated once: the better of two counts, as the
 *   machine is shared), then two bisection steps between the last pass and
 *   the first failure.
 * - cost: the server's CPU seconds per million copies delivered (over the
 *   whole generator run: joins, load, leaves), at 5, 20, 100 and 200 lines/s
 *   per client, with p50/p99. Here every client sends on the same 5 ms ticks,
 *   as the figures in issue 18 were measured: the server can coalesce a tick's
 *   lines into one write per client, so a copy costs less than when the same
 *   rate arrives spread out.
 * - memory: the server's RSS with 1,000 idle joined clients minus its RSS with
 *   none, per client (socklab: median of 5 runs, as V8's heap sizing moves
 *   single runs by a few KiB; ncat: one run).
 *
 * Every server is started afresh for every run (ncat --chat may quit when many
 * clients leave at once).
 *
 * ```sh
 * deno run -A bench/chat.ts                          # the whole table
 * deno run -A bench/chat.ts --rates 5,20 --seconds 3 --idle 500
 * ```
 * @module
 */
import { parseArgs } from "node:util";
import type { BenchRow } from "./types.ts";
import { printRows } from "./table.ts";
import {
  type ChatKind,
  chatLoad,
  type ChatLoadReport,
  holdIdle,
  rssKiB,
  startChatServer,
} from "./chat_servers.ts";

/** The latency bound of the capacity row. */
export const P99_BOUND_MS = 100;
/** Lines/s per client tried, in order, until one fails the bound. */
const LADDER = [1, 2, 5, 10, 20, 50, 100, 150, 200, 300, 400];

/** Options of {@linkcode run}. */
export interface ChatBenchOptions {
  /** Clients sending at once (default 200). */
  clients?: number;
  /** Lines per second from each client for the cost rows (default 5, 20, 100, 200). */
  rates?: number[];
  /** Seconds of sending per run (default 4). */
  seconds?: number;
  /** Idle clients for the memory row (default 1,000). */
  idle?: number;
}

const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

const lines = (n: number) => `${fmt(n)} line${n === 1 ? "" : "s"}/s`;

/** One run on a fresh server of `kind`. */
async function loadOn(
  kind: ChatKind,
  clients: number,
  perClient: number,
  seconds: number,
  shape: "spread" | "burst" = "spread",
): Promise<ChatLoadReport> {
  const server = await startChatServer(kind);
  try {
    return await chatLoad([server], { clients, perClient, seconds, shape });
  } finally {
    await server.stop();
  }
}

/** Whether a run met the capacity bound: every copy delivered, p99 within the bound. */
export function withinBound(r: ChatLoadReport): boolean {
  return r.lost === 0 && r.p99 <= P99_BOUND_MS;
}

/** A capacity search's outcome: the highest passing rate and the runs around it. */
export interface Capacity {
  /** Highest lines/s per client that passed (0: none did). */
  rate: number;
  pass?: { rate: number; run: ChatLoadReport };
  fail?: { rate: number; run: ChatLoadReport };
}

/**
 * A run at `rate`; one that misses the bound is run once more and the better
 * of the two kept, so one stall of the shared machine does not end a search.
 */
async function bestOfTwo(
  measure: (rate: number) => Promise<ChatLoadReport>,
  rate: number,
): Promise<ChatLoadReport> {
  const first = await measure(rate);
  if (withinBound(first)) return first;
  const second = await measure(rate);
  if (withinBound(second)) return second;
  return second.lost < first.lost || (second.lost === first.lost && second.p99 < first.p99)
    ? second
    : first;
}

/**
 * Climbs `ladder` with `measure` until a rate fails the bound (twice), then
 * bisects twice between the last pass and the first failure.
 */
export async function searchCapacity(
  measure: (rate: number) => Promise<ChatLoadReport>,
  ladder: readonly number[] = LADDER,
): Promise<Capacity> {
  let pass: Capacity["pass"];
  let fail: Capacity["fail"];
  for (const rate of ladder) {
    const run = await bestOfTwo(measure, rate);
    if (!withinBound(run)) {
      fail = { rate, run };
      break;
    }
    pass = { rate, run };
  }
  for (let step = 0; step < 2 && pass && fail; step++) {
    const mid = Math.round((pass.rate + fail.rate) / 2);
    if (mid === pass.rate || mid === fail.rate) break;
    const run = await bestOfTwo(measure, mid);
    if (withinBound(run)) pass = { rate: mid, run };
    else fail = { rate: mid, run };
  }
  return { rate: pass?.rate ?? 0, pass, fail };
}

function capacityText(c: Capacity): string {
  const passed = c.pass
    ? `${lines(c.rate)} (p99 ${fmt(c.pass.run.p99, 1)} ms)`
    : `< ${lines(LADDER[0])}`;
  if (!c.fail) return `${passed}; none of the ladder failed`;
  const why = c.fail.run.lost > 0
    ? `${fmt(c.fail.run.lost)} copies lost`
    : `p99 ${fmt(c.fail.run.p99, 1)} ms`;
  const gen = c.fail.run.generatorBusiest > 0.9 ? ", generator saturated: a lower bound" : "";
  return `${passed}; at ${fmt(c.fail.rate)}: ${why}${gen}`;
}

/** The capacity row: socklab's and ncat's highest rate within the bound. */
async function capacityRow(clients: number, seconds: number): Promise<BenchRow> {
  const ours = await searchCapacity((r) => loadOn("socklab", clients, r, seconds));
  const theirs = await searchCapacity((r) => loadOn("ncat", clients, r, seconds));
  const ratio = theirs.rate > 0 ? ours.rate / theirs.rate : Infinity;
  return {
    name:
      `chat capacity: lines/s per client with every copy delivered and p99 ≤ ${P99_BOUND_MS} ms, ${clients} clients sending spread out`,
    socklab: capacityText(ours),
    peer: `ncat --chat ${capacityText(theirs)}`,
    ratio: Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : `> ${fmt(ours.rate)}×`,
    goal: "≥ 2× ncat",
    met: ratio >= 2,
  };
}

/** Server CPU seconds per million copies delivered. */
const perMillion = (r: ChatLoadReport) => r.serverCpu[0] / (r.deliveries / 1e6);

const costCell = (r: ChatLoadReport) =>
  `${fmt(perMillion(r), 3)} s (${fmt(r.serverCpu[0], 2)} s for ${
    fmt(r.deliveries / 1e6, 1)
  } M; generator ${fmt(100 * r.generatorBusiest)} %)`;

const latencyCell = (r: ChatLoadReport) =>
  `${fmt(r.p50, 1)} / ${fmt(r.p99, 1)} ms, ${fmt(r.deliveriesPerSecond)} copies/s, ${
    fmt(r.lost)
  } lost`;

/** The cost and latency rows at one rate. */
async function costRows(clients: number, rate: number, seconds: number): Promise<BenchRow[]> {
  const ours = await loadOn("socklab", clients, rate, seconds, "burst");
  const theirs = await loadOn("ncat", clients, rate, seconds, "burst");
  const load = `${clients} clients × ${rate} lines/s on the same ticks for ${seconds} s`;
  const ratio = perMillion(ours) / perMillion(theirs);
  return [{
    name: `chat-server CPU s per million copies, ${load}`,
    socklab: costCell(ours),
    peer: `ncat --chat ${costCell(theirs)}`,
    ratio: `${ratio.toFixed(2)}×`,
    goal: "≤ 0.4× ncat",
    met: ratio <= 0.4,
  }, {
    name: `chat delivery p50 / p99, ${load}`,
    socklab: latencyCell(ours),
    peer: `ncat --chat ${latencyCell(theirs)}`,
    ratio: `p99 ${(ours.p99 / theirs.p99).toFixed(2)}×`,
    goal: "(information)",
    met: undefined,
  }];
}

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The lowest of a few RSS readings a little apart (GC may run between them). */
async function settledRss(pid: number): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < 4; i++) {
    await settle(300);
    best = Math.min(best, rssKiB(pid));
  }
  return best;
}

/** KiB of RSS per idle joined client: (RSS with `n` clients − RSS with none) / n. */
async function memoryPerClient(kind: ChatKind, n: number): Promise<number> {
  const server = await startChatServer(kind);
  try {
    // Warm the code paths (a few clients come and go) so the baseline is a server
    // that has served. Not for ncat: it is C, and it quits when many clients leave at once.
    if (kind === "socklab") await holdIdle(server, 20).then((close) => close());
    const before = await settledRss(server.pid);
    const close = await holdIdle(server, n);
    const after = await settledRss(server.pid);
    await close();
    return (after - before) / n;
  } finally {
    await server.stop();
  }
}

/** The memory row. */
async function memoryRow(idle: number): Promise<BenchRow> {
  const runs: number[] = [];
  for (let i = 0; i < 5; i++) runs.push(await memoryPerClient("socklab", idle));
  runs.sort((a, b) => a - b);
  const ours = runs[2];
  const theirs = await memoryPerClient("ncat", idle);
  return {
    name: `chat-server RSS per idle joined client (${fmt(idle)} clients)`,
    socklab: `${fmt(ours, 1)} KiB (median of 5: ${runs.map((r) => fmt(r, 1)).join(", ")})`,
    peer: `ncat --chat ${fmt(theirs, 1)} KiB (${fmt(idle)} clients)`,
    ratio: `${(ours / Math.max(theirs, 0.1)).toFixed(1)}×`,
    goal: "≤ 10 KB (9.8 KiB) per client",
    met: ours * 1024 <= 10_000,
  };
}

/** What this module compares, for `--list`. */
export const ABOUT =
  "chat capacity at p99 ≤ 100 ms, CPU per million copies, RSS per idle client, beside ncat --chat";

/** The chat rows of the benchmark table. */
export async function run(options: ChatBenchOptions = {}): Promise<BenchRow[]> {
  const clients = options.clients ?? 200;
  const seconds = options.seconds ?? 4;
  const rows = [await capacityRow(clients, seconds)];
  for (const rate of options.rates ?? [5, 20, 100, 200]) {
    rows.push(...await costRows(clients, rate, seconds));
  }
  rows.push(await memoryRow(options.idle ?? 1000));
  return rows;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      clients: { type: "string" },
      rates: { type: "string" },
      seconds: { type: "string" },
      idle: { type: "string" },
    },
  });
  const num = (v: string | undefined) => v === undefined ? undefined : Number(v);
  const rows = await run({
    clients: num(values.clients),
    rates: values.rates?.split(",").map(Number),
    seconds: num(values.seconds),
    idle: num(values.idle),
  });
  printRows(rows);
}
