/**
 * Exercises 1-3 under the lecture's C load generator: the request rate of
 * time-server (`TIME`), rates-server (`USD`) and registry-server (`who x`)
 * with 1 and with 64 requests in flight, beside the C `udp_echo`, the
 * minimal Deno echo loop (bench/deno_echo.ts), a `node:dgram` echo, an echo
 * on socklab's own serve loop and rates-server on the portable loop, all in
 * the same run. Rounds
 * are interleaved and medians reported, because the machine is shared; the
 * server's CPU time per reply (from /proc) is printed too, as it is steadier
 * than the rate when other work competes for the cores.
 *
 * ```sh
 * deno run -A bench/udp_services.ts          # 3 rounds, 1 s per figure
 * deno run -A bench/udp_services.ts 5 2000   # 5 rounds of 2 s
 * ```
 * @module
 */
import type { BenchRow } from "./types.ts";
import {
  type BenchServer,
  cpuMicros,
  formatRate,
  formatRatio,
  median,
  rateRow,
  startEcho,
  startSocklab,
  udpLoad,
} from "./udp_harness.ts";

/** Requests in flight of the two load levels measured. */
export const WINDOWS = [1, 64] as const;

interface Target {
  name: string;
  payload: string;
  start: () => Promise<BenchServer>;
}

const TARGETS: Target[] = [
  { name: "C udp_echo", payload: "TIME", start: () => startEcho("c") },
  { name: "Deno echo", payload: "TIME", start: () => startEcho("deno") },
  { name: "node:dgram echo", payload: "TIME", start: () => startEcho("node") },
  { name: "serveUdp echo", payload: "TIME", start: () => startEcho("serveUdp") },
  { name: "time-server", payload: "TIME", start: () => startSocklab(["time-server"]) },
  { name: "rates-server", payload: "USD", start: () => startSocklab(["rates-server"]) },
  { name: "registry-server", payload: "who x", start: () => startSocklab(["registry-server"]) },
  {
    name: "rates, portable",
    payload: "USD",
    start: () => startSocklab(["rates-server"], { SOCKLAB_UDP: "portable" }),
  },
];

/** Per target and window: rates, p50/p99 and CPU µs per reply of each round. */
type Samples = Map<string, { rate: number[]; p50: number[]; p99: number[]; cpu: number[] }>;

/** Measures every target; rounds interleave the targets so drift hits all alike. */
export async function measure(rounds = 3, millis = 1000): Promise<Samples> {
  const samples: Samples = new Map();
  const servers: BenchServer[] = [];
  try {
    for (const t of TARGETS) servers.push(await t.start());
    // Warm-up: let each server's JIT settle before anything is recorded.
    for (let i = 0; i < TARGETS.length; i++) {
      await udpLoad(servers[i].port, TARGETS[i].payload, 64, 300);
    }
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < TARGETS.length; i++) {
        for (const window of WINDOWS) {
          const before = cpuMicros(servers[i].pid);
          const r = await udpLoad(servers[i].port, TARGETS[i].payload, window, millis);
          const after = cpuMicros(servers[i].pid);
          const key = `${TARGETS[i].name}/${window}`;
          const s = samples.get(key) ?? { rate: [], p50: [], p99: [], cpu: [] };
          s.rate.push(r.rate);
          s.p50.push(r.p50us);
          s.p99.push(r.p99us);
          if (before !== undefined && after !== undefined && r.replies > 0) {
            s.cpu.push((after - before) / r.replies);
          }
          samples.set(key, s);
        }
      }
    }
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
  return samples;
}

/** The medians of one target at one window. */
interface Figures {
  rate: number;
  p50: number;
  p99: number;
  cpu: number;
}

/** What a target's rows compare it with: the C and Deno echoes, and rates-server's fast path. */
interface Baselines {
  m: Figures;
  c: Figures;
  deno: Figures;
  fast: () => Figures;
}

/** The summary rows of target `t` at `window` requests in flight. */
function targetRows(t: Target, window: number, { m, c, deno, fast }: Baselines): BenchRow[] {
  const w = `${window} in flight`;
  const info = (row: BenchRow): BenchRow => ({ ...row, met: true }); // a reference: no goal
  switch (t.name) {
    case "C udp_echo":
      return [];
    case "Deno echo":
    case "node:dgram echo": {
      const name = `${t.name === "Deno echo" ? "minimal Deno echo" : t.name}, ${w}`;
      const goal = "reference: what a minimal Deno loop gets";
      return [info(rateRow(name, m.rate, "C udp_echo", c.rate, goal))];
    }
    case "serveUdp echo": {
      const goal = "reference: the mechanism without a protocol";
      return [
        info(rateRow(`echo on socklab's serve loop, ${w}`, m.rate, "C udp_echo", c.rate, goal)),
      ];
    }
    case "rates, portable": {
      const name = `rates-server fast path vs portable loop, ${w}`;
      const goal = "what lib/net/udp_fast.ts adds";
      return [info(rateRow(name, fast().rate, "portable loop", m.rate, goal))];
    }
  }
  const name = `${t.name} "${t.payload}", ${w}`;
  const rows = [rateRow(name, m.rate, "Deno echo", deno.rate, "≥ 0.9× minimal Deno echo", 0.9)];
  if (window === 64) {
    const goal = "≥ 0.5× C udp_echo";
    rows.push(rateRow(`${name} (moonshot)`, m.rate, "C udp_echo", c.rate, goal, 0.5));
  }
  return rows;
}

/** Runs the comparison and prints the full table; returns the ratio rows. */
export async function run(rounds = 3, millis = 1000): Promise<BenchRow[]> {
  const samples = await measure(rounds, millis);
  const get = (name: string, window: number): Figures => {
    const s = samples.get(`${name}/${window}`)!;
    return {
      rate: median(s.rate),
      p50: median(s.p50),
      p99: median(s.p99),
      cpu: s.cpu.length ? median(s.cpu) : NaN,
    };
  };
  console.log(
    `UDP request/reply under udp_load, medians of ${rounds} interleaved rounds of ${millis} ms`,
  );
  console.log(
    "server            in flight   replies/s   p50 µs   p99 µs   CPU µs/reply   vs Deno echo   vs C",
  );
  const rows: BenchRow[] = [];
  for (const window of WINDOWS) {
    const c = get("C udp_echo", window);
    const deno = get("Deno echo", window);
    for (const t of TARGETS) {
      const m = get(t.name, window);
      console.log(
        `${t.name.padEnd(17)} ${String(window).padStart(9)} ${formatRate(m.rate).padStart(11)} ${
          String(m.p50).padStart(8)
        } ${String(m.p99).padStart(8)} ${m.cpu.toFixed(1).padStart(14)} ${
          formatRatio(m.rate / deno.rate).padStart(14)
        } ${formatRatio(m.rate / c.rate).padStart(6)}`,
      );
      rows.push(...targetRows(t, window, { m, c, deno, fast: () => get("rates-server", window) }));
    }
  }
  console.log("");
  for (const r of rows) {
    console.log(
      `${
        r.met ? "met " : "MISS"
      }  ${r.name}: ${r.socklab} vs ${r.peer} = ${r.ratio} (goal ${r.goal})`,
    );
  }
  return rows;
}

if (import.meta.main) {
  const [rounds, millis] = Deno.args.map(Number);
  await run(rounds || 3, millis || 1000);
}
