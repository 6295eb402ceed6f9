/**
 * Start-up and round-trip cost of socklab's look-ups beside their peers, all
 * in one run with the commands interleaved (round-robin), so a noisy machine
 * slows every command alike. Median of N runs each:
 *
 * - `socklab getaddrinfo localhost` vs `deno run` of a hello world (the Deno
 *   floor; goal ≤ 1.3×) and vs `getent ahosts localhost` (the C tool);
 * - `socklab inet aton 127.1` vs the Deno floor;
 * - `socklab dns` vs `dig`, both asking a dnsmasq on 127.0.0.1 (when installed).
 *
 * ```sh
 * deno run -A bench/lookup.ts        # 20 runs each
 * deno run -A bench/lookup.ts 50
 * ```
 * @module
 */
import type { BenchRow } from "./types.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

function socklab(...args: string[]): string[] {
  return [Deno.execPath(), "run", "-A", "--quiet", MAIN, ...args];
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

function which(cmd: string): boolean {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":").concat(["/usr/sbin", "/sbin"])) {
    try {
      if (Deno.statSync(`${dir}/${cmd}`).isFile) return true;
    } catch {
      // not here
    }
  }
  return false;
}

/** A dnsmasq on 127.0.0.1 at a free port answering `a.bench.` (stopped by the returned function). */
async function startDnsmasq(): Promise<{ port: number; stop: () => Promise<void> }> {
  const probe = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  const child = new Deno.Command("dnsmasq", {
    args: [
      "--conf-file=/dev/null",
      "--pid-file=",
      "--no-daemon",
      "--no-resolv",
      "--no-hosts",
      "--log-facility=-",
      "--listen-address=127.0.0.1",
      "--bind-interfaces",
      `--port=${port}`,
      "--local=/bench/",
      "--address=/a.bench/10.0.0.1",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  const deadline = Date.now() + 10_000;
  while (!/started, version/.test(seen)) {
    if (Date.now() > deadline) throw new Error(`dnsmasq did not start: ${seen}`);
    const { value, done } = await reader.read();
    if (done) throw new Error(`dnsmasq exited: ${seen}`);
    seen += value;
  }
  const drain = (async () => {
    while (!(await reader.read()).done) { /* discard the query log */ }
  })();
  return {
    port,
    async stop() {
      child.kill("SIGTERM");
      await child.status;
      await drain;
    },
  };
}

const ratioText = (r: number) => `${r.toFixed(2)}×`;

/** The look-up benchmark rows. */
export async function run(n = 20): Promise<BenchRow[]> {
  const dir = await Deno.makeTempDir();
  const hello = `${dir}/hello.ts`;
  await Deno.writeTextFile(hello, 'console.log("hello world");\n');
  const floorArgv = [Deno.execPath(), "run", "-A", "--quiet", hello];
  const commands = [
    floorArgv,
    socklab("getaddrinfo", "localhost"),
    ["getent", "ahosts", "localhost"],
    socklab("inet", "aton", "127.1"),
  ];
  let dns: { port: number; stop: () => Promise<void> } | undefined;
  if (which("dnsmasq") && which("dig")) {
    dns = await startDnsmasq();
    commands.push(
      socklab("dns", "--server", `127.0.0.1:${dns.port}`, "a.bench"),
      ["dig", "@127.0.0.1", "-p", String(dns.port), "a.bench"],
    );
  }
  let medians: { wall: number; cpu: number }[];
  try {
    medians = await interleavedMedians(commands, n);
  } finally {
    await dns?.stop();
    await Deno.remove(dir, { recursive: true });
  }
  const [floor, gai, getent, aton, dnsQuery, dig] = medians;
  const ms = (t: { wall: number; cpu: number }) =>
    `${t.wall.toFixed(t.wall < 20 ? 1 : 0)} ms` +
    (Number.isNaN(t.cpu) ? "" : ` (cpu ${t.cpu.toFixed(0)})`);
  const cpuRatio = (a: { cpu: number }, b: { cpu: number }) =>
    Number.isNaN(a.cpu) ? "" : `; cpu ${ratioText(a.cpu / b.cpu)}`;
  const rows: BenchRow[] = [
    {
      name: `getaddrinfo localhost start-up (median of ${n})`,
      socklab: ms(gai),
      peer: `deno run hello world ${ms(floor)}`,
      ratio: ratioText(gai.wall / floor.wall),
      goal: `≤ 1.3× Deno floor (wall${cpuRatio(gai, floor)})`,
      met: gai.wall / floor.wall <= 1.3,
    },
    {
      name: `getaddrinfo localhost vs the C tool (median of ${n})`,
      socklab: ms(gai),
      peer: `getent ahosts localhost ${ms(getent)}`,
      ratio: ratioText(gai.wall / getent.wall),
      goal: "report only: a C binary has no runtime to start",
      met: true,
    },
    {
      name: `inet aton 127.1 start-up (median of ${n})`,
      socklab: ms(aton),
      peer: `deno run hello world ${ms(floor)}`,
      ratio: ratioText(aton.wall / floor.wall),
      goal: `≤ 1.3× Deno floor (wall${cpuRatio(aton, floor)})`,
      met: aton.wall / floor.wall <= 1.3,
    },
  ];
  if (dnsQuery !== undefined) {
    rows.push({
      name: `dns A query to dnsmasq on loopback, whole command (median of ${n})`,
      socklab: ms(dnsQuery),
      peer: `dig ${ms(dig)}`,
      ratio: ratioText(dnsQuery.wall / dig.wall),
      goal: `≤ 1.3× Deno floor (${ratioText(dnsQuery.wall / floor.wall)}${
        cpuRatio(dnsQuery, floor)
      })`,
      met: dnsQuery.wall / floor.wall <= 1.3,
    });
  }
  return rows;
}

if (import.meta.main) {
  const n = Number(Deno.args[0] ?? 20);
  const rows = await run(n);
  const header = ["benchmark", "socklab", "peer", "ratio", "goal", "met"];
  const table = [
    header,
    ...rows.map((r) => [r.name, r.socklab, r.peer, r.ratio, r.goal, r.met ? "yes" : "NO"]),
  ];
  const widths = header.map((_, c) => Math.max(...table.map((row) => row[c].length)));
  for (const row of table) {
    console.log(row.map((cell, c) => cell.padEnd(widths[c])).join("  ").trimEnd());
  }
}
