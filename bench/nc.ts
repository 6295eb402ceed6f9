/**
 * Bulk throughput of `socklab nc` beside socat and OpenBSD nc, under one
 * harness in one run: each tool moves the same file (1 GiB by default) over
 * loopback from a sender (`< file`) to a listening receiver (`> file`), and
 * the harness times from starting the sender until both have exited, then
 * checks the received size. The receiver is started first and timed only
 * once it listens (read from /proc/net/tcp), so its start-up is not counted;
 * the sender's start-up is (Deno starts in ~0.1 s, socat and nc in ~2 ms).
 * Rounds alternate between the tools so background load hits them alike.
 *
 * ```sh
 * deno run -A bench/nc.ts                     # 1 GiB, 3 rounds
 * deno run -A bench/nc.ts --mib 256 --rounds 5
 * deno run -A bench/nc.ts --pipe              # receivers write into a pipe
 * ```
 * @module
 */
import { parseArgs } from "node:util";
import { readSocketTables } from "../lib/sys/sockets.ts";
import type { BenchRow } from "./types.ts";
import { printRows } from "./table.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const MIB = 1 << 20;

/** A tool under test: how to start its receiver and its sender on `port`. */
interface Tool {
  name: string;
  receiver(port: number): string[];
  sender(port: number): string[];
}

function socklabArgv(): string[] {
  const custom = Deno.env.get("SOCKLAB_CMD");
  return custom
    ? custom.split(" ").filter(Boolean)
    : [Deno.execPath(), "run", "-A", "--quiet", MAIN];
}

const TOOLS: Tool[] = [
  {
    name: "socklab nc",
    receiver: (port) => [...socklabArgv(), "nc", "-l", "-p", String(port), "127.0.0.1"],
    sender: (port) => [...socklabArgv(), "nc", "127.0.0.1", String(port)],
  },
  {
    name: "socat -b 131072",
    receiver: (port) => [
      "socat",
      "-b",
      "131072",
      "-u",
      `TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr`,
      "STDOUT",
    ],
    sender: (port) => ["socat", "-b", "131072", "-u", "STDIN", `TCP:127.0.0.1:${port}`],
  },
  {
    name: "nc.openbsd",
    receiver: (port) => ["nc.openbsd", "-l", "127.0.0.1", String(port)],
    sender: (port) => ["nc.openbsd", "-N", "127.0.0.1", String(port)],
  },
];

function shellQuote(args: string[]): string {
  return args.map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(" ");
}

/** A free loopback port (bound and released: a small race a benchmark can live with). */
function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

function listening(port: number): boolean {
  return readSocketTables({ protos: ["tcp"] }).some((r) =>
    r.state === "LISTEN" && r.local.port === port
  );
}

async function waitListening(port: number, child: Deno.ChildProcess): Promise<void> {
  const deadline = performance.now() + 10_000;
  let exited = false;
  child.status.then(() => exited = true);
  while (!listening(port)) {
    if (exited) throw new Error("the receiver exited before listening");
    if (performance.now() > deadline) throw new Error(`nothing listens on port ${port} after 10 s`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Makes `bytes` of random data (a 16 MiB random block repeated) in `path`. */
function makeSource(path: string, bytes: number): void {
  const block = new Uint8Array(16 * MIB);
  for (let k = 0; k < block.length; k += 65536) {
    crypto.getRandomValues(block.subarray(k, k + 65536));
  }
  using f = Deno.openSync(path, { write: true, create: true, truncate: true });
  for (let done = 0; done < bytes; done += block.length) {
    const part = block.subarray(0, Math.min(block.length, bytes - done));
    let off = 0;
    while (off < part.length) off += f.writeSync(part.subarray(off));
  }
}

/**
 * A shell line that runs `command` and then prints the CPU seconds its
 * children used (cutime + cstime from /proc/$$/stat) as `CPU TICKS` on stderr.
 */
function withCpu(command: string): string {
  return `${command}; s=$?; read -r st < /proc/$$/stat; set -- $st; ` +
    `echo "CPU $(( \${16} + \${17} ))" >&2; exit $s`;
}

function cpuSeconds(stderr: string): number {
  const m = /CPU (\d+)\s*$/.exec(stderr);
  return m ? Number(m[1]) / CLOCK_TICKS : NaN;
}

const CLOCK_TICKS = 100; // USER_HZ on Linux

/** What one transfer measured. */
interface Transfer {
  /** 10^6 bytes per second, wall clock. */
  mbs: number;
  /** CPU seconds the sender and the receiver used. */
  senderCpu: number;
  receiverCpu: number;
}

/** One transfer. */
async function transfer(
  tool: Tool,
  src: string,
  dst: string,
  bytes: number,
  pipe: boolean,
): Promise<Transfer> {
  const port = freePort();
  const into = pipe ? `| cat > '${dst}'` : `> '${dst}'`;
  const receiver = new Deno.Command("sh", {
    args: ["-c", withCpu(`${shellQuote(tool.receiver(port))} < /dev/null ${into}`)],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const receiverErr = new Response(receiver.stderr).text();
  const timer = setTimeout(() => receiver.kill("SIGKILL"), 120_000);
  try {
    await waitListening(port, receiver);
    const start = performance.now();
    const sender = new Deno.Command("sh", {
      args: ["-c", withCpu(`${shellQuote(tool.sender(port))} < '${src}'`)],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const senderTimer = setTimeout(() => sender.kill("SIGKILL"), 120_000);
    const [s, r] = await Promise.all([sender.output(), receiver.status]);
    clearTimeout(senderTimer);
    const seconds = (performance.now() - start) / 1000;
    const senderErr = new TextDecoder().decode(s.stderr);
    if (!s.success || !r.success) {
      const why = senderErr.trim() || (await receiverErr).trim();
      throw new Error(`${tool.name}: sender exit ${s.code}, receiver exit ${r.code}: ${why}`);
    }
    const got = Deno.statSync(dst).size;
    if (got !== bytes) throw new Error(`${tool.name}: received ${got} bytes, not ${bytes}`);
    return {
      mbs: bytes / 1e6 / seconds,
      senderCpu: cpuSeconds(senderErr),
      receiverCpu: cpuSeconds(await receiverErr),
    };
  } finally {
    clearTimeout(timer);
    try {
      receiver.kill("SIGKILL");
    } catch {
      // exited
    }
    await receiver.status;
    await receiverErr;
  }
}

/** Options of {@linkcode run}. */
export interface NcBenchOptions {
  /** MiB to move per transfer (default 1024). */
  mib?: number;
  /** Transfers per tool (default 3). */
  rounds?: number;
  /** Receivers write into a pipe (`| cat > file`) instead of straight into the file. */
  pipe?: boolean;
  /** Print each transfer as it finishes. */
  log?: (line: string) => void;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const fmt = (x: number) => `${Math.round(x).toLocaleString("en-US")} MB/s`;

/** What this module compares, for `--list`. */
export const ABOUT = "socklab nc MB/s over 256 MiB and 1 GiB beside socat and OpenBSD nc";

/** The rows of `deno task bench`: 256 MiB (best of 5) and 1 GiB (best of 3). */
export async function run(): Promise<BenchRow[]> {
  return [...await transfers({ mib: 256, rounds: 5 }), ...await transfers({ mib: 1024 })];
}

/** One size; one row per comparison (vs socat's best, vs nc's best). */
export async function transfers(options: NcBenchOptions = {}): Promise<BenchRow[]> {
  const bytes = (options.mib ?? 1024) * MIB;
  const rounds = options.rounds ?? 3;
  const log = options.log ?? (() => {});
  let dir: string;
  try {
    dir = Deno.makeTempDirSync({ dir: "/dev/shm", prefix: "socklab-nc-bench-" });
  } catch {
    dir = Deno.makeTempDirSync({ prefix: "socklab-nc-bench-" });
  }
  const src = `${dir}/source.bin`;
  const dst = `${dir}/received.bin`;
  const results = new Map<string, number[]>(TOOLS.map((t) => [t.name, []]));
  const cpu = new Map<string, number[]>(TOOLS.map((t) => [t.name, []]));
  try {
    makeSource(src, bytes);
    for (let round = 1; round <= rounds; round++) {
      for (const tool of TOOLS) {
        const t = await transfer(tool, src, dst, bytes, options.pipe ?? false);
        results.get(tool.name)!.push(t.mbs);
        cpu.get(tool.name)!.push(t.senderCpu + t.receiverCpu);
        Deno.removeSync(dst);
        log(
          `round ${round}: ${tool.name.padEnd(16)} ${fmt(t.mbs).padStart(12)}   CPU s: sender ${
            t.senderCpu.toFixed(2)
          }, receiver ${t.receiverCpu.toFixed(2)}`,
        );
      }
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
  const best = (name: string) => Math.max(...results.get(name)!);
  const ours = best("socklab nc");
  const how = `${options.mib ?? 1024} MiB over loopback${
    options.pipe ? " into a pipe" : ""
  }, best of ${rounds}`;
  const socat = best("socat -b 131072");
  const nc = best("nc.openbsd");
  const summary = (name: string) =>
    `${fmt(best(name))} (median ${fmt(median(results.get(name)!))}, CPU ${
      median(cpu.get(name)!).toFixed(2)
    } s)`;
  return [
    {
      name: `nc throughput, ${how}`,
      socklab: summary("socklab nc"),
      peer: `socat -b 131072 ${summary("socat -b 131072")}`,
      ratio: `${(ours / socat).toFixed(2)}×`,
      goal: "≥ 1.0× socat (sender's start-up counted)",
      met: ours >= socat,
    },
    {
      name: `nc throughput, ${how}`,
      socklab: summary("socklab nc"),
      peer: `nc.openbsd ${summary("nc.openbsd")}`,
      ratio: `${(ours / nc).toFixed(2)}×`,
      goal: "> 1× nc.openbsd",
      met: ours > nc,
    },
  ];
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      mib: { type: "string" },
      rounds: { type: "string" },
      pipe: { type: "boolean" },
    },
  });
  const rows = await transfers({
    mib: values.mib ? Number(values.mib) : undefined,
    rounds: values.rounds ? Number(values.rounds) : undefined,
    pipe: values.pipe,
    log: (line) => console.log(line),
  });
  console.log("");
  printRows(rows);
}
