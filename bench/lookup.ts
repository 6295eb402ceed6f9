/**
 * Start-up and round-trip cost of socklab's look-ups beside their peers, all
 * in one run with the commands interleaved (round-robin), so a noisy machine
 * slows every command alike. Median of N runs each, wall and CPU time:
 *
 * - every look-up command (`getaddrinfo localhost`, `inet aton 127.1`,
 *   `hostname`, and `dns` asking a dnsmasq on 127.0.0.1 when installed) vs
 *   `deno run` of a hello world (the Deno floor; goal ≤ 1.2×, issue 18);
 * - the same commands vs their C tools (`getent ahosts`, `hostname`, `dig`),
 *   for information: a C binary has no runtime to start.
 *
 * ```sh
 * deno run -A bench/lookup.ts        # 20 runs each
 * deno run -A bench/lookup.ts 50
 * ```
 * @module
 */
import type { BenchRow } from "./types.ts";
import { printRows } from "./table.ts";
import { socklabArgv } from "../tests/helpers/cli.ts";
import { which } from "../tests/helpers/peers.ts";
import { type Dnsmasq, startDnsmasq } from "../tests/lookup/dnsmasq.ts";

/** Start-up goal against the Deno floor (issue 18). */
const FLOOR_GOAL = 1.2;

function socklab(...args: string[]): string[] {
  return [...socklabArgv(), ...args];
}

/** CPU time (user + system, ms) of terminated children, from getrusage(RUSAGE_CHILDREN). */
function childCpuClock(): (() => number) | null {
  try {
    if (Deno.build.os !== "linux") return null;
    const lib = Deno.dlopen("libc.so.6", {
      getrusage: { parameters: ["i32", "buffer"], result: "i32" },
    });
    const buf = new BigInt64Array(18); // struct rusage: ru_utime, ru_stime (timeval) first
    return () => {
      lib.symbols.getrusage(-1, buf);
      return Number(buf[0]) * 1e3 + Number(buf[1]) / 1e3 + Number(buf[2]) * 1e3 +
        Number(buf[3]) / 1e3;
    };
  } catch {
    return null;
  }
}

const cpuClock = childCpuClock();

async function timeOnce(argv: string[]): Promise<{ wall: number; cpu: number }> {
  const c0 = cpuClock?.() ?? NaN;
  const t0 = performance.now();
  const out = await new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdin: "null",
    stdout: "null",
    stderr: "piped",
    env: { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
  }).output();
  const wall = performance.now() - t0;
  const cpu = (cpuClock?.() ?? NaN) - c0;
  if (!out.success) {
    throw new Error(`${argv.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return { wall, cpu };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/** Median wall and CPU ms of each argv over `n` interleaved rounds (after one warm-up round). */
export async function interleavedMedians(
  commands: string[][],
  n: number,
): Promise<{ wall: number; cpu: number }[]> {
  const times = commands.map(() => ({ wall: [] as number[], cpu: [] as number[] }));
  for (let round = -1; round < n; round++) {
    for (const [k, argv] of commands.entries()) {
      const t = await timeOnce(argv);
      if (round >= 0) {
        times[k].wall.push(t.wall);
        times[k].cpu.push(t.cpu);
      }
    }
  }
  return times.map((t) => ({ wall: median(t.wall), cpu: median(t.cpu) }));
}

/** A look-up command measured against the Deno floor, and its C counterpart. */
interface Lookup {
  name: string;
  argv: string[];
  peer: { name: string; argv: string[] };
}

/** The look-ups of one run; `dnsPort` adds `dns` (a dnsmasq serving the test zone). */
function lookups(dnsPort: number | undefined): Lookup[] {
  const list: Lookup[] = [
    {
      name: "getaddrinfo localhost",
      argv: socklab("getaddrinfo", "localhost"),
      peer: { name: "getent ahosts localhost", argv: ["getent", "ahosts", "localhost"] },
    },
    {
      name: "inet aton 127.1",
      argv: socklab("inet", "aton", "127.1"),
      peer: { name: "getent ahostsv4 127.1", argv: ["getent", "ahostsv4", "127.1"] },
    },
    {
      name: "hostname",
      argv: socklab("hostname"),
      peer: { name: "hostname", argv: ["hostname"] },
    },
  ];
  if (dnsPort !== undefined) {
    list.push({
      name: "dns (an A query to dnsmasq on loopback)",
      argv: socklab("dns", "--server", `127.0.0.1:${dnsPort}`, "a.test"),
      peer: { name: "dig", argv: ["dig", "@127.0.0.1", "-p", String(dnsPort), "a.test"] },
    });
  }
  return list;
}

type Timing = { wall: number; cpu: number };

const ratioText = (r: number) => `${r.toFixed(2)}×`;
const ms = (t: Timing) =>
  `${t.wall.toFixed(t.wall < 20 ? 1 : 0)} ms` +
  (Number.isNaN(t.cpu) ? "" : ` (cpu ${t.cpu.toFixed(0)})`);

/** The two rows of one look-up: against the Deno floor (the goal) and against its C tool. */
function lookupRows(l: Lookup, ours: Timing, floor: Timing, peer: Timing, n: number): BenchRow[] {
  const cpu = Number.isNaN(ours.cpu) ? "" : `; cpu ${ratioText(ours.cpu / floor.cpu)}`;
  return [{
    name: `${l.name} start-up (median of ${n})`,
    socklab: ms(ours),
    peer: `deno run hello world ${ms(floor)}`,
    ratio: ratioText(ours.wall / floor.wall),
    goal: `≤ ${FLOOR_GOAL}× Deno floor (wall${cpu})`,
    met: ours.wall / floor.wall <= FLOOR_GOAL,
  }, {
    name: `${l.name} vs the C tool (median of ${n})`,
    socklab: ms(ours),
    peer: `${l.peer.name} ${ms(peer)}`,
    ratio: ratioText(ours.wall / peer.wall),
    goal: "(information: a C binary has no runtime to start)",
    met: undefined,
  }];
}

/** What this module compares, for `--list`. */
export const ABOUT = "getaddrinfo/inet aton/dns start-up beside the Deno floor, getent and dig";

/** The look-up benchmark rows. */
export async function run(n = 20): Promise<BenchRow[]> {
  const dir = await Deno.makeTempDir();
  const hello = `${dir}/hello.ts`;
  await Deno.writeTextFile(hello, 'console.log("hello world");\n');
  let dns: Dnsmasq | undefined;
  try {
    if (which("dnsmasq") && which("dig")) dns = await startDnsmasq();
    const list = lookups(dns?.port);
    const commands = [
      [Deno.execPath(), "run", "-A", "--quiet", hello],
      ...list.flatMap((l) => [l.argv, l.peer.argv]),
    ];
    const [floor, ...rest] = await interleavedMedians(commands, n);
    return list.flatMap((l, i) => lookupRows(l, rest[2 * i], floor, rest[2 * i + 1], n));
  } finally {
    await dns?.[Symbol.asyncDispose]();
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  const n = Number(Deno.args[0] ?? 20);
  printRows(await run(n));
}
