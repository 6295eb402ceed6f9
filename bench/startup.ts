/**
 * Start-up cost of socklab commands beside Deno's own floor (`deno run` of a
 * one-line hello world), median of N runs each, measured in one run.
 *
 * ```sh
 * deno run -A bench/startup.ts            # --version and a hello world, 20 runs each
 * ```
 * @module
 */
import type { BenchRow } from "./types.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** Median wall time in ms of running `argv` `n` times (stdout discarded). */
export async function medianMs(argv: string[], n = 20): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const out = await new Deno.Command(argv[0], {
      args: argv.slice(1),
      stdout: "null",
      stderr: "null",
      env: { DENO_NO_UPDATE_CHECK: "1" },
    }).output();
    times.push(performance.now() - t0);
    if (!out.success && argv[0] !== "false") throw new Error(`${argv.join(" ")} failed`);
  }
  times.sort((a, b) => a - b);
  return n % 2 ? times[(n - 1) / 2] : (times[n / 2 - 1] + times[n / 2]) / 2;
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

/** `socklab --version` against the hello-world floor. */
export async function run(n = 20): Promise<BenchRow[]> {
  const hello = await helloWorldArgv();
  // One warm-up each so the module cache is filled, as it is for a user.
  await medianMs(hello, 1);
  await medianMs(socklabArgv("--version"), 1);
  const floor = await medianMs(hello, n);
  const version = await medianMs(socklabArgv("--version"), n);
  await Deno.remove(hello[hello.length - 1]);
  const ratio = version / floor;
  return [{
    name: `socklab --version start-up (median of ${n})`,
    socklab: `${version.toFixed(0)} ms`,
    peer: `deno run hello world ${floor.toFixed(0)} ms`,
    ratio: `${ratio.toFixed(2)}×`,
    goal: "≤ 1.3× Deno floor",
    met: ratio <= 1.3,
  }];
}

if (import.meta.main) {
  for (const row of await run()) console.log(row);
}
