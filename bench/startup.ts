/**
 * Start-up cost of socklab commands beside Deno's own floor (`deno run` of a
 * one-line hello world): the two alternate run by run (so a noisy machine
 * slows both alike), median of N runs each. The look-up commands' rows
 * (getaddrinfo, inet, hostname, dns) come from bench/lookup.ts, measured the
 * same way.
 *
 * ```sh
 * deno run -A bench/startup.ts            # --version and a hello world, 30 runs each
 * ```
 * @module
 */
import type { BenchRow } from "./types.ts";
import { printRows } from "./table.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** Wall time in ms of one run of `argv` (stdout discarded). */
async function timeOnce(argv: string[]): Promise<number> {
  const t0 = performance.now();
  const out = await new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdout: "null",
    stderr: "null",
    env: { DENO_NO_UPDATE_CHECK: "1" },
  }).output();
  if (!out.success && argv[0] !== "false") throw new Error(`${argv.join(" ")} failed`);
  return performance.now() - t0;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/** Median wall times of each argv over `n` rounds that run them in turn (after a warm-up round). */
export async function interleavedMedians(commands: string[][], n: number): Promise<number[]> {
  const times = commands.map(() => [] as number[]);
  for (let round = -1; round < n; round++) {
    for (const [k, argv] of commands.entries()) {
      const ms = await timeOnce(argv);
      if (round >= 0) times[k].push(ms);
    }
  }
  return times.map(median);
}

/** The argv of `deno run` on a one-line hello world (written to a temp file). */
export async function helloWorldArgv(): Promise<string[]> {
  const file = await Deno.makeTempFile({ suffix: ".ts" });
  await Deno.writeTextFile(file, 'console.log("hello world");\n');
  return [Deno.execPath(), "run", "--quiet", file];
}

/** The argv of socklab through `deno run`. */
export function socklabArgv(...args: string[]): string[] {
  return [Deno.execPath(), "run", "-A", "--quiet", MAIN, ...args];
}

/** What this module compares, for `--list`. */
export const ABOUT = "socklab --version start-up beside deno run hello world";

/** `socklab --version` against the hello-world floor. */
export async function run(n = 30): Promise<BenchRow[]> {
  const hello = await helloWorldArgv();
  // The warm-up round fills the module cache, as it is for a user.
  const [floor, version] = await interleavedMedians([hello, socklabArgv("--version")], n);
  await Deno.remove(hello[hello.length - 1]);
  const ratio = version / floor;
  return [{
    name: `socklab --version start-up (median of ${n}, interleaved)`,
    socklab: `${version.toFixed(0)} ms`,
    peer: `deno run hello world ${floor.toFixed(0)} ms`,
    ratio: `${ratio.toFixed(2)}×`,
    goal: "≤ 1.3× Deno floor",
    met: ratio <= 1.3,
  }];
}

if (import.meta.main) {
  printRows(await run());
}
