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
import { printRows } from "./table.ts";
import {
  type BenchServer,
  IN_FLIGHT,
  median,
  rateRow,
  startEcho,
  startExecServer,
  startSocklab,
  udpLoad,
} from "./udp_harness.ts";

const LOOKUP = "LOOKUP MAX";
const CALL = "MAX 1 2 3 4";

/** Every server of the comparison, started in order (stopped last-first by the caller). */
async function startAll(servers: BenchServer[]) {
  const add = async (s: Promise<BenchServer>) => (servers.push(await s), servers.at(-1)!);
  const c = await add(startEcho("c"));
  const mmsg = await add(startEcho("mmsg"));
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
      const r = (await udpLoad(port, payload, IN_FLIGHT, millis)).rate;
      rates.set(name, [...(rates.get(name) ?? []), r]);
    }
  }
  return Object.fromEntries([...rates].map(([k, v]) => [k, median(v)])) as Record<K, number>;
}

/** What this module compares, for `--list`. */
export const ABOUT =
  "binder LOOKUP and exec MAX req/s under udp_load beside C udp_echo and Deno echo";

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
    const w = `${IN_FLIGHT} in flight`;
    const lookup = `binder LOOKUP --quiet, ${w}`;
    const max = `exec-server "${CALL}", ${w}`;
    return [
      rateRow(lookup, r.lookup, "C udp_echo", r.cLookup, "≥ 1.0× C udp_echo", 1.0),
      rateRow(
        lookup,
        r.lookup,
        "C udp_echo_mmsg",
        r.mmsgLookup,
        "(information: the batched ceiling)",
      ),
      rateRow(lookup, r.lookup, "Deno echo", r.denoLookup, "≥ 0.9× Deno echo", 0.9),
      rateRow(
        `binder LOOKUP, a line per LOOKUP, ${w}`,
        r.logged,
        "Deno echo",
        r.denoLookup,
        "≥ 0.5× Deno echo (printing)",
        0.5,
      ),
      rateRow(max, r.max, "C udp_echo", r.cMax, "≥ 1.0× C udp_echo", 1.0),
      rateRow(max, r.max, "C udp_echo_mmsg", r.mmsgMax, "(information: the batched ceiling)"),
      rateRow(max, r.max, "Deno echo", r.denoMax, "≥ 0.9× Deno echo", 0.9),
    ];
  } finally {
    for (const srv of servers.reverse()) await srv.stop().catch(() => {});
  }
}

if (import.meta.main) {
  const rounds = Number(Deno.args[0] ?? 5);
  const millis = Number(Deno.args[1] ?? 1000);
  printRows(await run(rounds, millis));
}
