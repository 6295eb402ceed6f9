/**
 * One chat room over two chat-server instances and Redis (issue 16) beside
 * one instance alone, in the same run, both driven by `socklab bench chat
 * --servers` (clients alternate between the instances, and every client must
 * get every message whichever instance its sender is on):
 *
 * - 200 clients × 20 lines/s (spread): deliveries/s and copies lost, p50/p99
 *   (target p99 ≤ 100 ms), and the CPU of every process (both instances and
 *   redis-server; the one instance alone);
 * - the lines/s per client at which the two-instance room's p99 passes
 *   100 ms (or a copy is lost), beside the same for one instance.
 *
 * Each set-up is started afresh for every run: a private redis-server on a
 * free loopback port without persistence (`--save "" --appendonly no`), then
 * the instances with `--redis redis://127.0.0.1:PORT`. Until chat-server takes
 * `--redis` (or without redis-server) the rows say "not available" and why.
 *
 * ```sh
 * deno run -A bench/scaleout.ts
 * ```
 * @module
 */
import type { BenchRow } from "./types.ts";
import { printRows } from "./table.ts";
import { P99_BOUND_MS, searchCapacity } from "./chat.ts";
import {
  type BenchProcess,
  chatLoad,
  type ChatLoadReport,
  scaleOutMissing,
  startRedis,
  startSocklabChat,
} from "./chat_servers.ts";

const CLIENTS = 200;
const RATE = 20;
const SECONDS = 4;
/** Lines/s per client climbed until the p99 passes the bound. */
const LADDER = [20, 50, 100, 150, 200, 300];

const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** One run of `rate` lines/s per client over `instances` chat-servers (2: through Redis). */
async function roomRun(instances: 1 | 2, rate: number): Promise<ChatLoadReport> {
  const started: BenchProcess[] = [];
  try {
    const redis = instances === 2 ? await startRedis() : undefined;
    if (redis) started.push(redis);
    const url = redis ? `redis://127.0.0.1:${redis.port}` : undefined;
    const servers: BenchProcess[] = [];
    for (let i = 0; i < instances; i++) servers.push(await startSocklabChat(url));
    started.push(...servers);
    const watch = redis ? [...servers, redis] : servers;
    return await chatLoad(servers, { clients: CLIENTS, perClient: rate, seconds: SECONDS }, watch);
  } finally {
    await Promise.all(started.map((p) => p.stop()));
  }
}

const delivered = (r: ChatLoadReport) =>
  `${fmt(r.deliveriesPerSecond)}/s (${fmt(r.deliveries)} of ${fmt(r.expected)} copies)`;

function cpuCell(r: ChatLoadReport): string {
  const names = r.serverCpu.length === 3 ? ["chat A", "chat B", "redis-server"] : ["chat-server"];
  return names.map((n, i) => `${n} ${fmt(r.serverCpu[i], 2)} s`).join(", ");
}

/** The rows of the two set-ups at the same load, in the same run. */
async function loadRows(): Promise<BenchRow[]> {
  const two = await roomRun(2, RATE);
  const one = await roomRun(1, RATE);
  const load = `${CLIENTS} clients × ${RATE} lines/s for ${SECONDS} s`;
  const total = (r: ChatLoadReport) => r.serverCpu.reduce((a, b) => a + b, 0);
  return [{
    name: `chat room on 2 instances + Redis, deliveries/s, ${load}`,
    socklab: delivered(two),
    peer: `1 instance ${delivered(one)}`,
    ratio: `${(two.deliveriesPerSecond / one.deliveriesPerSecond).toFixed(2)}×`,
    goal: "every copy delivered",
    met: two.lost === 0,
  }, {
    name: `chat room on 2 instances + Redis, p50 / p99, ${load}`,
    socklab: `${fmt(two.p50, 1)} / ${fmt(two.p99, 1)} ms`,
    peer: `1 instance ${fmt(one.p50, 1)} / ${fmt(one.p99, 1)} ms`,
    ratio: `p99 ${(two.p99 / one.p99).toFixed(2)}×`,
    goal: `p99 ≤ ${P99_BOUND_MS} ms`,
    met: two.p99 <= P99_BOUND_MS,
  }, {
    name: `chat room on 2 instances + Redis, CPU of each process, ${load}`,
    socklab: cpuCell(two),
    peer: `1 instance: ${cpuCell(one)}`,
    ratio: `${(total(two) / total(one)).toFixed(2)}× in all`,
    goal: "(information)",
    met: undefined,
  }];
}

/** The rate at which each set-up's p99 passes the bound. */
async function limitRow(): Promise<BenchRow> {
  const two = await searchCapacity((r) => roomRun(2, r), LADDER);
  const one = await searchCapacity((r) => roomRun(1, r), LADDER);
  const limit = (c: typeof two) =>
    c.fail
      ? `${fmt(c.fail.rate)} lines/s (p99 ${fmt(c.fail.run.p99, 1)} ms, ${
        fmt(c.fail.run.lost)
      } lost; ${fmt(c.rate)} passed)`
      : `above ${fmt(LADDER[LADDER.length - 1])} lines/s`;
  return {
    name: `lines/s per client at which the p99 passes ${P99_BOUND_MS} ms, ${CLIENTS} clients`,
    socklab: `2 instances + Redis: ${limit(two)}`,
    peer: `1 instance: ${limit(one)}`,
    ratio: two.rate && one.rate ? `${(two.rate / one.rate).toFixed(2)}×` : "-",
    goal: "(information: where the room's p99 bound ends)",
    met: undefined,
  };
}

/** What this module compares, for `--list`. */
export const ABOUT =
  "one chat room on 2 instances + Redis beside 1 instance (deliveries, p99, CPU)";

/** The scale-out rows, or one row that says why they cannot be measured here. */
export async function run(): Promise<BenchRow[]> {
  const missing = await scaleOutMissing();
  if (missing) {
    return [{
      name: `chat room on 2 instances + Redis, ${CLIENTS} clients × ${RATE} lines/s`,
      socklab: `not available: ${missing}`,
      peer: "1 instance (not run)",
      ratio: "-",
      goal: `every copy delivered, p99 ≤ ${P99_BOUND_MS} ms`,
      met: false,
    }];
  }
  return [...await loadRows(), await limitRow()];
}

if (import.meta.main) {
  printRows(await run());
}
