/**
 * Exercise 4a under the lecture's C load generator: the binder's `LOOKUP` rate
 * and an exec server's `MAX 1 2 3 4` rate, beside the C `udp_echo` baseline and
 * the minimal Deno echo loop, all in one run on loopback.
 *
 * ```sh
 * deno run -A bench/binder.ts            # medians of 5 interleaved rounds of 1 s per target
 * deno run -A bench/binder.ts 3 500      # 3 rounds of 0.5 s
 * ```
 * @module
 */
import type { BenchRow } from "./types.ts";
import {
  type BenchServer,
  formatRate,
  formatRatio,
  startEcho,
  startSocklab,
  udpLoad,
} from "./udp_harness.ts";
import { type CliProcess, portOf, spawnCli } from "../tests/helpers/cli.ts";

const WINDOW = 32;
const LOOKUP = "LOOKUP MAX";
const CALL = "MAX 1 2 3 4";

/** An exec server registered with the binder (its port is where MAX goes). */
async function startExecServer(binderPort: number): Promise<BenchServer> {
  const proc: CliProcess = spawnCli([
    "exec-server",
    "--binder",
    `127.0.0.1:${binderPort}`,
    "--bind",
    "127.0.0.1",
    "--commands",
    "MAX",
  ], { stdin: false });
  const port = portOf(await proc.stdout.waitFor(/listening on UDP /, 15_000));
  await proc.stdout.waitFor(/ registered /, 15_000);
  return {
    port,
    async stop() {
      proc.kill("SIGTERM");
      await proc.exit(3000);
      await proc[Symbol.asyncDispose]();
    },
  };
}

/** The median of some numbers. */
function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Runs the comparison; every figure comes from the same run. */
export async function run(rounds = 5, millis = 1000): Promise<BenchRow[]> {
  const servers: BenchServer[] = [];
  try {
    const c = await startEcho("c");
    servers.push(c);
    const deno = await startEcho("deno");
    servers.push(deno);
    const binder = await startSocklab(["binder", "--quiet"]);
    servers.push(binder);
    const logging = await startSocklab(["binder"]);
    servers.push(logging);
    const exec = await startExecServer(binder.port);
    servers.push(exec);
    servers.push(await startExecServer(binder.port)); // a second MAX server: LOOKUP picks
    // The logging binder needs a record too, or it would only answer ERR.
    servers.push(await startExecServer(logging.port));

    // Every target once per round, rounds interleaved, medians compared: drifting
    // load on the shared machine then hits socklab and its peers alike.
    const targets = {
      cLookup: [c.port, LOOKUP],
      denoLookup: [deno.port, LOOKUP],
      lookup: [binder.port, LOOKUP],
      logged: [logging.port, LOOKUP],
      cMax: [c.port, CALL],
      denoMax: [deno.port, CALL],
      max: [exec.port, CALL],
    } as const;
    type Target = keyof typeof targets;
    const rates = Object.fromEntries(
      Object.keys(targets).map((k) => [k, [] as number[]]),
    ) as Record<
      Target,
      number[]
    >;
    for (let i = 0; i < rounds; i++) {
      for (const [name, [port, payload]] of Object.entries(targets)) {
        rates[name as Target].push((await udpLoad(port, payload, WINDOW, millis)).rate);
      }
    }
    const results = Object.fromEntries(
      Object.entries(rates).map(([k, v]) => [k, median(v)]),
    ) as Record<Target, number>;
    const row = (
      name: string,
      ours: number,
      peer: string,
      peerRate: number,
      goal: string,
      min: number,
    ): BenchRow => ({
      name,
      socklab: `${formatRate(ours)} req/s`,
      peer: `${peer} ${formatRate(peerRate)} req/s`,
      ratio: formatRatio(ours / peerRate),
      goal,
      met: ours / peerRate >= min,
    });
    const w = `${WINDOW} in flight`;
    return [
      row(
        `binder LOOKUP --quiet, ${w}`,
        results.lookup,
        "Deno echo",
        results.denoLookup,
        "≥ 0.9× Deno echo",
        0.9,
      ),
      row(
        `binder LOOKUP --quiet, ${w}`,
        results.lookup,
        "C udp_echo",
        results.cLookup,
        "moonshot ≥ 0.5× C",
        0.5,
      ),
      row(
        `binder LOOKUP, a line per LOOKUP, ${w}`,
        results.logged,
        "Deno echo",
        results.denoLookup,
        "≥ 0.5× Deno echo (printing)",
        0.5,
      ),
      row(
        `exec-server "${CALL}", ${w}`,
        results.max,
        "Deno echo",
        results.denoMax,
        "≥ 0.9× Deno echo",
        0.9,
      ),
      row(
        `exec-server "${CALL}", ${w}`,
        results.max,
        "C udp_echo",
        results.cMax,
        "moonshot ≥ 0.5× C",
        0.5,
      ),
    ];
  } finally {
    for (const s of servers.reverse()) await s.stop().catch(() => {});
  }
}

if (import.meta.main) {
  const rounds = Number(Deno.args[0] ?? 5);
  const millis = Number(Deno.args[1] ?? 1000);
  const rows = await run(rounds, millis);
  const cols = ["name", "socklab", "peer", "ratio", "goal", "met"] as const;
  const cells = rows.map((r) => cols.map((c) => c === "met" ? (r.met ? "yes" : "no") : r[c]));
  const widths = cols.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i].length)));
  console.log(cols.map((c, i) => c.padEnd(widths[i])).join("  "));
  for (const row of cells) console.log(row.map((c, i) => c.padEnd(widths[i])).join("  "));
}
