/**
 * Shared pieces of the UDP benchmarks: start the C `udp_echo` baseline, the
 * minimal Deno echo loop or a real socklab server on a free loopback port, and
 * drive any of them with the lecture's C load generator `udp_load` (never the
 * bottleneck), so every figure comes from the same load in the same run.
 *
 * @example
 * ```ts ignore
 * import { startEcho, udpLoad } from "./udp_harness.ts";
 * const echo = await startEcho("c");
 * console.log(await udpLoad(echo.port, "ping", 64, 1000));
 * await echo.stop();
 * ```
 * @module
 */
import { fileURLToPath } from "node:url";
import { lectureProgram } from "../tests/helpers/peers.ts";
import { argv, type CliProcess, portOf, spawnCli, spawnProgram } from "../tests/helpers/cli.ts";
import type { BenchRow } from "./types.ts";

/** A server started for a benchmark. */
export interface BenchServer {
  /** The UDP port it bound on 127.0.0.1. */
  port: number;
  /** Its process id (for CPU time from /proc). */
  pid?: number;
  /** Stops it (SIGTERM, then SIGKILL) and frees its pipes. */
  stop(): Promise<void>;
}

/** What `udp_load` measured. */
export interface LoadResult {
  /** Replies received in the run. */
  replies: number;
  /** Replies per second. */
  rate: number;
  /** Median round trip, microseconds. */
  p50us: number;
  /** 99th percentile round trip, microseconds. */
  p99us: number;
  /**
   * CPU time udp_load itself used (user + system), microseconds, when the
   * platform tells (Linux): the generator's headroom beside the server's.
   */
  generatorCpuUs?: number;
}

/** Requests in flight in every loaded UDP benchmark (and in `udp_load` runs beside them). */
export const IN_FLIGHT = 64;

const DENO_ECHO = fileURLToPath(new URL("./deno_echo.ts", import.meta.url));
const NODE_ECHO = fileURLToPath(new URL("./node_echo.ts", import.meta.url));
const SERVE_ECHO = fileURLToPath(new URL("./serve_echo.ts", import.meta.url));

function lecture(name: string): string {
  const path = lectureProgram(name);
  if (!path) throw new Error(`cannot build the lecture's ${name} (needs make and cc)`);
  return path;
}

/**
 * Waits (up to 15 s) for a benchmark server's start-up line, the last number
 * on which is its port; stopping it sends SIGTERM, then SIGKILL after 3 s.
 */
export async function whenListening(proc: CliProcess, pattern: RegExp): Promise<BenchServer> {
  let line;
  try {
    line = await proc.stdout.waitFor(pattern, 15_000);
  } catch (err) {
    await proc[Symbol.asyncDispose]();
    throw new Error(`${(err as Error).message}\nstderr:\n${proc.stderr.text}`);
  }
  return {
    port: portOf(line),
    pid: proc.child.pid,
    async stop() {
      proc.kill("SIGTERM");
      await proc.exit(3000);
      await proc[Symbol.asyncDispose]();
    },
  };
}

/** The echo baselines {@linkcode startEcho} knows. */
export type EchoKind = "c" | "mmsg" | "deno" | "node" | "serveUdp";

/**
 * Starts an echo baseline on a free port of 127.0.0.1: `"c"` is the lecture's
 * `udp_echo`, `"mmsg"` its batched `udp_echo_mmsg` (recvmmsg/sendmmsg, the
 * practical ceiling), `"deno"` the minimal Deno loop in bench/deno_echo.ts,
 * `"node"` the same on `node:dgram` (bench/node_echo.ts), `"serveUdp"` an
 * echo on socklab's own serve loop (bench/serve_echo.ts).
 */
export function startEcho(kind: EchoKind): Promise<BenchServer> {
  const script = { deno: DENO_ECHO, node: NODE_ECHO, serveUdp: SERVE_ECHO };
  const command = kind === "c" || kind === "mmsg"
    ? [lecture(kind === "c" ? "udp_echo" : "udp_echo_mmsg"), "0", "127.0.0.1"]
    : [Deno.execPath(), "run", "-A", "--quiet", script[kind], "0", "127.0.0.1"];
  return whenListening(spawnProgram(command, { stdin: false }), /listening on UDP port \d+/);
}

/**
 * Starts an exec server offering MAX, registered with the binder at
 * `binderPort`, and resolves once the binder confirmed the registration.
 */
export async function startExecServer(binderPort: number): Promise<BenchServer> {
  const proc = spawnCli(
    argv`exec-server --binder 127.0.0.1:${binderPort} --bind 127.0.0.1 --commands MAX`,
    { stdin: false },
  );
  const server = await whenListening(proc, /listening on UDP /);
  try {
    await proc.stdout.waitFor(/ registered /, 15_000);
  } catch (err) {
    await server.stop();
    throw err;
  }
  return server;
}

/**
 * Starts the real socklab CLI with `args` plus `--port 0 --bind 127.0.0.1`
 * (SOCKLAB_CMD may name the compiled binary) and reads the bound port from its
 * first line. `env` adds environment variables (e.g. `SOCKLAB_UDP=portable`).
 */
export function startSocklab(
  args: string[],
  env?: Record<string, string>,
): Promise<BenchServer> {
  const proc = spawnCli([...args, "--port", "0", "--bind", "127.0.0.1"], { stdin: false, env });
  return whenListening(proc, /\d+\s*$/);
}

/**
 * Runs `udp_load PORT PAYLOAD WINDOW MILLIS` against 127.0.0.1:PORT: `window`
 * requests kept in flight for `millis` ms. Throws if it fails or prints nothing.
 * On Linux it runs under `sh`, which then prints its own /proc stat: the
 * children's CPU time there is udp_load's (the generator's headroom).
 */
export async function udpLoad(
  port: number,
  payload: string,
  window: number,
  millis: number,
  options: { cpu?: number } = {},
): Promise<LoadResult> {
  const args = [String(port), payload, String(window), String(millis)];
  const linux = Deno.build.os === "linux";
  const pin = options.cpu === undefined ? "" : `taskset -c ${options.cpu} `;
  const script = `${pin}"$0" "$@" && cat /proc/$$/stat`;
  const out = await new Deno.Command(linux ? "sh" : lecture("udp_load"), {
    args: linux ? ["-c", script, lecture("udp_load"), ...args] : args,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const m = text.match(/replies=(\d+) rate=(\d+)\/s p50_us=(\d+) p99_us=(\d+)/);
  if (!out.success || !m) {
    throw new Error(
      `udp_load failed: ${text.trim()} ${new TextDecoder().decode(out.stderr).trim()}`,
    );
  }
  const result = {
    replies: Number(m[1]),
    rate: Number(m[2]),
    p50us: Number(m[3]),
    p99us: Number(m[4]),
  };
  const stat = text.slice(m.index! + m[0].length).trim();
  return stat ? { ...result, generatorCpuUs: childrenCpuMicros(stat) } : result;
}

/** The waited-for children's CPU time in a /proc/PID/stat line (cutime + cstime), µs. */
function childrenCpuMicros(stat: string): number | undefined {
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[13]) + Number(fields[14]); // fields 16 and 17 of proc(5)
  return Number.isFinite(ticks) ? ticks * 1e6 / 100 : undefined; // USER_HZ is 100 on Linux
}

/**
 * The CPUs to keep a server and udp_load on, one each, when the machine has
 * two or more and `taskset` is there (Linux); otherwise `undefined`. Left to
 * the scheduler, the two sometimes share one core, and every server then
 * runs at about half its rate for that round. `SOCKLAB_BENCH_PIN=0` turns it
 * off (on a busy shared machine a pinned process cannot move off a busy core).
 */
export function pinningCpus(): { server: number; generator: number } | undefined {
  if (Deno.build.os !== "linux" || navigator.hardwareConcurrency < 2) return undefined;
  if (Deno.env.get("SOCKLAB_BENCH_PIN") === "0") return undefined;
  try {
    const ok = new Deno.Command("taskset", { args: ["-p", String(Deno.pid)], stdout: "null" })
      .outputSync().success;
    return ok ? { server: 0, generator: 1 } : undefined;
  } catch {
    return undefined;
  }
}

/** Pins every thread of process `pid` to `cpu` (taskset -a); false when it cannot. */
export function pinProcess(pid: number | undefined, cpu: number): boolean {
  if (pid === undefined) return false;
  try {
    return new Deno.Command("taskset", {
      args: ["-a", "-cp", String(cpu), String(pid)],
      stdout: "null",
      stderr: "null",
    }).outputSync().success;
  } catch {
    return false;
  }
}

/**
 * CPU time (user + system, all threads) a process has used so far, in
 * microseconds, from /proc (Linux); `undefined` elsewhere.
 */
export function cpuMicros(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 1e6 / 100; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

/** The median of some numbers (the mean of the middle two for an even count; NaN for none). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/**
 * One summary row: socklab's rate beside a peer's in the same run, held to
 * `ratio ≥ min` (no `min`: a row that only informs).
 */
export function rateRow(
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

/** `1,234,567` */
export function formatRate(rate: number): string {
  return Math.round(rate).toLocaleString("en-US");
}

/** `0.42×` */
export function formatRatio(ratio: number): string {
  return `${ratio.toFixed(2)}×`;
}
