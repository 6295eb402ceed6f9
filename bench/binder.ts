/**
 * Exercise 4a under the lecture's C load generator: the binder's `LOOKUP` rate
 * and an exec server's `MAX 1 2 3 4` rate with 64 requests in flight, beside
 * the C `udp_echo` (goal ≥ 1.0×, issue 18), the batched C `udp_echo_mmsg` (the
 * practical ceiling, for information) and the minimal Deno echo loop, all in
 * one run on loopback.
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
import { type CliProcess, portOf, spawnCli, spawnProgram } from "../tests/helpers/cli.ts";
import { lectureProgram } from "../tests/helpers/peers.ts";

const WINDOW = 64;
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
  return { port, stop: stopper(proc) };
}

function stopper(proc: CliProcess): () => Promise<void> {
  return async () => {
    proc.kill("SIGTERM");
    await proc.exit(3000);
    await proc[Symbol.asyncDispose]();
  };
}

/** The lecture's batched C echo (recvmmsg/sendmmsg): the practical ceiling on one core. */
async function startEchoMmsg(): Promise<BenchServer> {
  const path = lectureProgram("udp_echo_mmsg");
  if (!path) throw new Error("cannot build the lecture's udp_echo_mmsg (needs make and cc)");
  const proc = spawnProgram([path, "0", "127.0.0.1"], { stdin: false });
  const port = portOf(await proc.stdout.waitFor(/port \d+/, 15_000));
  return { port, stop: stopper(proc) };
}

/** The median of some numbers. */
function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Every server of the comparison, started in order (stopped last-first by the caller). */
async function startAll(servers: BenchServer[]) {
  const add = async (s: Promise<BenchServer>) => (servers.push(await s), servers.at(-1)!);
  const c = await add(startEcho("c"));
  const mmsg = await add(startEchoMmsg());
  const deno = await add(startEcho("deno"));
  const binder = await add(startSocklab(["binder", "--quiet"]));
  const logging = await add(startSocklab(["binder"]));
  const exec = await add(startExecServer(binder.port));
  await add(startExecServer(binder.port)); // a second MAX server: LOOKUP picks
  await add(startExecServer(logging.port)); // the logging binder needs a record too
  return { c, mmsg, deno, binder, logging, exec };
}

/**
 * Median rate of each target over `rounds` rounds, every target once per
 * round: drifting load on the shared machine then hits socklab and its
 * peers alike.
 */
async function interleavedRates<K extends string>(
  targets: Record<K, [number, string]>,
  rounds: number,
  millis: number,
): Promise<Record<K, number>> {
  const rates = new Map<string, number[]>();
  for (let i = 0; i < rounds; i++) {
    for (const [name, [port, payload]] of Object.entries(targets) as [K, [number, string]][]) {
      const r = (await udpLoad(port, payload, WINDOW, millis)).rate;
      rates.set(name, [...(rates.get(name) ?? []), r]);
    }
  }
  return Object.fromEntries([...rates].map(([k, v]) => [k, median(v)])) as Record<K, number>;
}

/** One row: socklab's rate beside a peer's, held to `ratio ≥ min` (undefined: information). */
function row(
  name: string,
  ours: number,
  peer: string,
  theirs: number,
  goal: string,
  min?: number,
): BenchRow {
  return {
    name,
    socklab: `${formatRate(ours)} req/s`,
    peer: `${peer} ${formatRate(theirs)} req/s`,
    ratio: formatRatio(ours / theirs),
    goal,
    met: min === undefined ? undefined : ours / theirs >= min,
  };
}

/** Runs the comparison; every figure comes from the same run. */
export async function run(rounds = 5, millis = 1000): Promise<BenchRow[]> {
  const servers: BenchServer[] = [];
  try {
    const s = await startAll(servers);
    const r = await interleavedRates(
      {
        cLookup: [s.c.port, LOOKUP],
        mmsgLookup: [s.mmsg.port, LOOKUP],
        denoLookup: [s.deno.port, LOOKUP],
        lookup: [s.binder.port, LOOKUP],
        logged: [s.logging.port, LOOKUP],
        cMax: [s.c.port, CALL],
        mmsgMax: [s.mmsg.port, CALL],
        denoMax: [s.deno.port, CALL],
        max: [s.exec.port, CALL],
      },
      rounds,
      millis,
    );
    const w = `${WINDOW} in flight`;
    const lookup = `binder LOOKUP --quiet, ${w}`;
    const max = `exec-server "${CALL}", ${w}`;
    return [
      row(lookup, r.lookup, "C udp_echo", r.cLookup, "≥ 1.0× C udp_echo", 1.0),
      row(lookup, r.lookup, "C udp_echo_mmsg", r.mmsgLookup, "(information: the batched ceiling)"),
      row(lookup, r.lookup, "Deno echo", r.denoLookup, "≥ 0.9× Deno echo", 0.9),
      row(
        `binder LOOKUP, a line per LOOKUP, ${w}`,
        r.logged,
        "Deno echo",
        r.denoLookup,
        "≥ 0.5× Deno echo (printing)",
        0.5,
      ),
      row(max, r.max, "C udp_echo", r.cMax, "≥ 1.0× C udp_echo", 1.0),
      row(max, r.max, "C udp_echo_mmsg", r.mmsgMax, "(information: the batched ceiling)"),
      row(max, r.max, "Deno echo", r.denoMax, "≥ 0.9× Deno echo", 0.9),
    ];
  } finally {
    for (const srv of servers.reverse()) await srv.stop().catch(() => {});
  }
}

if (import.meta.main) {
  const rounds = Number(Deno.args[0] ?? 5);
  const millis = Number(Deno.args[1] ?? 1000);
  const rows = await run(rounds, millis);
  const cols = ["name", "socklab", "peer", "ratio", "goal", "met"] as const;
  const cells = rows.map((r) =>
    cols.map((c) => c === "met" ? (r.met === false ? "no" : "yes") : r[c])
  );
  const widths = cols.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i].length)));
  console.log(cols.map((c, i) => c.padEnd(widths[i])).join("  "));
  for (const row of cells) console.log(row.map((c, i) => c.padEnd(widths[i])).join("  "));
}
