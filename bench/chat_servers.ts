/**
 * The processes of the chat benchmarks: socklab's chat-server (alone, or
 * several sharing a room through Redis), `ncat --chat`, a private
 * `redis-server`, each on a free loopback port; their CPU time and memory
 * from /proc; and the load itself, which is always the real
 * `socklab bench chat` command (lib/loadgen) run as a separate process with
 * `--json`, so its work never counts against a server.
 *
 * @example
 * ```ts ignore
 * import { chatLoad, startChatServer } from "./chat_servers.ts";
 * const server = await startChatServer("socklab");
 * const r = await chatLoad([server], { clients: 200, perClient: 20, seconds: 4 });
 * await server.stop();
 * ```
 * @module
 */
import {
  argv,
  type CliProcess,
  freePort,
  portOf,
  spawnCli,
  spawnProgram,
} from "../tests/helpers/cli.ts";
import { rssBytes } from "../tests/helpers/procfs.ts";
import { which } from "../tests/helpers/peers.ts";
import { RedisServer } from "../tests/helpers/redis.ts";

/** Which chat server. */
export type ChatKind = "socklab" | "ncat";

/** A process started for a benchmark, on a free loopback port. */
export interface BenchProcess {
  kind: ChatKind | "redis";
  port: number;
  pid: number;
  stop(): Promise<void>;
}

/** CPU seconds (user + system) a process has used so far, from /proc/PID/stat. */
export function cpuSeconds(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  // The command name (field 2) may hold spaces: count fields after its ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** VmRSS of a process in KiB. */
export function rssKiB(pid: number): number {
  return (rssBytes(pid) ?? NaN) / 1024;
}

function stopper(proc: CliProcess): () => Promise<void> {
  return async () => {
    proc.kill("SIGTERM");
    await proc.exit(5000);
    await proc[Symbol.asyncDispose]();
  };
}

/** Waits until something accepts TCP connections on `port` (bounded). */
async function accepting(port: number, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  throw new Error(`${what} did not accept connections on port ${port}`);
}

/** socklab's chat-server; `redisUrl` makes it one instance of a room shared through Redis. */
export async function startSocklabChat(redisUrl?: string): Promise<BenchProcess> {
  const redis = redisUrl ? ["--redis", redisUrl] : [];
  const proc = spawnCli(
    [
      "chat-server",
      "--bind",
      "127.0.0.1",
      "--port",
      "0",
      "--max-clients",
      "2000",
      // Every client of a benchmark comes from 127.0.0.1: lift the per-source share.
      "--max-per-source",
      "2000",
      ...redis,
    ],
    { stdin: false },
  );
  let line;
  try {
    line = await proc.stdout.waitFor(/listening on TCP/, 15_000);
  } catch (err) {
    await proc[Symbol.asyncDispose]();
    throw new Error(`chat-server did not start: ${proc.stderr.text.trim() || err}`);
  }
  return { kind: "socklab", port: portOf(line), pid: proc.child.pid, stop: stopper(proc) };
}

/** `ncat --chat` on a free port. */
export async function startNcat(): Promise<BenchProcess> {
  const port = freePort();
  const proc = spawnProgram(
    ["ncat", "--chat", "--max-conns", "2000", "-l", "127.0.0.1", String(port)],
    { stdin: false },
  );
  await accepting(port, "ncat --chat");
  return { kind: "ncat", port, pid: proc.child.pid, stop: stopper(proc) };
}

/** Starts the chat server of `kind`. */
export function startChatServer(kind: ChatKind): Promise<BenchProcess> {
  return kind === "socklab" ? startSocklabChat() : startNcat();
}

/** A private redis-server on a free loopback port, without persistence (tests/helpers/redis.ts). */
export async function startRedis(): Promise<BenchProcess> {
  const redis = await RedisServer.start();
  return {
    kind: "redis",
    port: redis.port,
    pid: redis.pid!,
    stop: () => redis[Symbol.asyncDispose](),
  };
}

/**
 * Why the two-instance room cannot be measured here, or undefined when it
 * can: it needs redis-server on PATH and a chat-server that takes --redis.
 */
export async function scaleOutMissing(): Promise<string | undefined> {
  if (!which("redis-server")) return "redis-server is not installed";
  const help = spawnCli(["chat-server", "--help"], { stdin: false });
  await help.exit(15_000);
  await help[Symbol.asyncDispose]();
  if (!help.stdout.text.includes("--redis")) return "chat-server has no --redis option yet";
  return undefined;
}

/** The load of one `socklab bench chat` run. */
export interface ChatLoad {
  clients: number;
  /** Lines per second from each client. */
  perClient: number;
  /**
   * `"spread"` (default): client i sends i/N of a period after client 0, as
   * independent people would; `"burst"`: every client sends on the same tick
   * (the server can coalesce a tick's lines into one write per client).
   */
  shape?: "spread" | "burst";
  seconds: number;
  /** Generator threads (default 2). */
  workers?: number;
}

/** What `socklab bench chat --json` measured, with the processes' CPU added. */
export interface ChatLoadReport {
  deliveries: number;
  expected: number;
  lost: number;
  deliveriesPerSecond: number;
  p50: number;
  p99: number;
  /** CPU seconds each server process used during the run, in the order given. */
  serverCpu: number[];
  /** The generator's busiest thread (share of a core) during the load. */
  generatorBusiest: number;
}

/**
 * Runs `socklab bench chat` against `servers` (clients spread over them)
 * and reads the CPU every process in `watch` (default: the servers) used.
 */
export async function chatLoad(
  servers: BenchProcess[],
  load: ChatLoad,
  watch: BenchProcess[] = servers,
): Promise<ChatLoadReport> {
  const ncat = servers[0].kind === "ncat";
  const before = watch.map((p) => cpuSeconds(p.pid));
  const proc = spawnCli([
    "bench",
    "chat",
    "--servers",
    servers.map((s) => `127.0.0.1:${s.port}`).join(","),
    "--clients",
    String(load.clients),
    ...(load.shape === "burst"
      ? ["--per-client", String(load.perClient)]
      : ["--rate", String(load.perClient * load.clients)]),
    "--duration",
    String(load.seconds),
    "--workers",
    String(load.workers ?? 2),
    "--json",
    ...(ncat ? ["--ncat"] : []),
  ], { stdin: false });
  const status = await proc.exit(load.seconds * 1000 + 120_000);
  await proc[Symbol.asyncDispose]();
  if (!status.success) {
    throw new Error(`socklab bench chat failed: ${proc.stderr.text.trim().split("\n")[0]}`);
  }
  const doc = JSON.parse(proc.stdout.text);
  return {
    deliveries: doc.deliveries,
    expected: doc.expected,
    lost: doc.lost,
    deliveriesPerSecond: doc.deliveriesPerSecond,
    p50: doc.latencyMs?.p50 ?? NaN,
    p99: doc.latencyMs?.p99 ?? NaN,
    serverCpu: watch.map((p, i) => cpuSeconds(p.pid) - before[i]),
    generatorBusiest: doc.generator.busiestThread,
  };
}

/**
 * Holds `clients` idle joined clients on `server` through `socklab bench chat
 * --rate 0`: resolves once every client has joined (its first interval line),
 * with a function that lets them go.
 */
export async function holdIdle(
  server: BenchProcess,
  clients: number,
): Promise<() => Promise<void>> {
  const ncat = server.kind === "ncat" ? ["--ncat"] : [];
  const proc = spawnCli(
    argv`bench chat 127.0.0.1:${server.port} --clients ${clients} --rate 0 --duration 600 --interval 0.2 ${ncat}`,
    { stdin: false },
  );
  try {
    await proc.stdout.waitFor(/ s /, 120_000);
  } catch (err) {
    await proc[Symbol.asyncDispose]();
    throw new Error(`idle clients did not join: ${proc.stderr.text.trim() || err}`);
  }
  return async () => {
    proc.kill("SIGINT");
    await proc.exit(15_000);
    await proc[Symbol.asyncDispose]();
  };
}
