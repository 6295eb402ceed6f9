/**
 * Is `socklab bench udp` the bottleneck it measures? Its reply rate beside the
 * lecture's C generator `udp_load` against the same target in the same run,
 * alternating the two (median of ROUNDS each; each round's own ratio is
 * shown too, as the machine is shared), for three targets: the C
 * `udp_echo` (the fastest server there is), the minimal Deno echo, and a real
 * socklab service (rates-server). 64 requests in flight, as in every UDP
 * benchmark.
 *
 * ```sh
 * deno run -A bench/generator.ts
 * ```
 * @module
 */
import {
  type BenchServer,
  formatRate,
  formatRatio,
  IN_FLIGHT,
  median,
  startEcho,
  startSocklab,
  udpLoad,
} from "./udp_harness.ts";
import { socklabArgv } from "../tests/helpers/cli.ts";
import type { BenchRow } from "./types.ts";
import { printRows } from "./table.ts";

const MILLIS = 2000;
const ROUNDS = 3;

/** What one `socklab bench udp` run measured, with what the generator spent. */
export interface GeneratorRun {
  rate: number;
  /** CPU the generator process used, in cores (1 = one core all the time). */
  cores: number;
  /** "batched" or "portable". */
  io: string;
}

/** Replies/s of `socklab bench udp` (the real CLI, as a user runs it) against `port`. */
export async function socklabBenchRate(
  port: number,
  payload = "ping",
  window = IN_FLIGHT,
  millis = MILLIS,
): Promise<GeneratorRun> {
  const [cmd, ...args] = socklabArgv();
  const out = await new Deno.Command(cmd, {
    args: [
      ...args,
      "bench",
      "udp",
      `127.0.0.1:${port}`,
      "--payload",
      payload,
      "--concurrency",
      String(window),
      "--duration",
      String(millis / 1000),
      "--interval",
      "0",
      "--json",
    ],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(`socklab bench udp failed: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
  const doc = JSON.parse(text);
  return { rate: doc.repliesPerSecond, cores: doc.generator.cores, io: doc.generator.io };
}

async function compare(name: string, server: BenchServer, payload = "ping"): Promise<BenchRow> {
  const ours: GeneratorRun[] = [];
  const theirs: number[] = [];
  try {
    for (let i = 0; i < ROUNDS; i++) {
      theirs.push((await udpLoad(server.port, payload, IN_FLIGHT, MILLIS)).rate);
      ours.push(await socklabBenchRate(server.port, payload));
    }
  } finally {
    await server.stop();
  }
  const a = median(ours.map((r) => r.rate));
  const b = median(theirs);
  const ratios = ours.map((r, i) => r.rate / theirs[i]);
  const cores = median(ours.map((r) => r.cores));
  return {
    name: `bench udp generator → ${name}, ${IN_FLIGHT} in flight (median of ${ROUNDS})`,
    socklab: `${formatRate(a)} req/s (${ours[0].io} I/O, generator ${cores.toFixed(2)} cores)`,
    peer: `C udp_load ${formatRate(b)} req/s`,
    ratio: `${formatRatio(a / b)} (rounds ${ratios.map((r) => r.toFixed(2)).join(", ")})`,
    goal: "≥ 0.8× udp_load (not the bottleneck)",
    met: a / b >= 0.8,
  };
}

/** What this module compares, for `--list`. */
export const ABOUT = "socklab bench udp beside the C udp_load on the same targets";

/** Both comparisons, in one run. */
export async function run(): Promise<BenchRow[]> {
  return [
    await compare("C udp_echo", await startEcho("c")),
    await compare("Deno echo", await startEcho("deno")),
    await compare("socklab rates-server (USD)", await startSocklab(["rates-server"]), "USD"),
  ];
}

if (import.meta.main) {
  printRows(await run());
}
