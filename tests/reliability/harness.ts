/**
 * Runs one server of the table (servers.ts) under seeded hostile input:
 * batches of hostile datagrams or TCP sessions, each followed by well-behaved
 * probes; RSS sampled from /proc after every batch; the output scanned for
 * stack traces; SIGTERM at the end must exit 0 and free the port. The result
 * becomes one summary line, e.g.
 * `binder: 5,000 hostile datagrams, 0 crashes, 100/100 probes answered, RSS +3 MB`.
 * @module
 */
import { ROOT, socklabArgv } from "../helpers/cli.ts";
import { rssBytes, socketsOnPort } from "../helpers/procfs.ts";
import {
  deriveSeed,
  hostileMessage,
  type HostileSession,
  hostileSession,
  HUGE_LINE_BYTES,
  Rng,
} from "./fuzz.ts";
import {
  amplificationRequests,
  type AmplificationResult,
  checkAmplification,
  fillTables,
} from "./amplification.ts";
import { ProbeError, type Prober, type ProbeTarget } from "./probes.ts";
import type { ServerEntry } from "./servers.ts";
import { WatchedProcess } from "./watched.ts";

/** Hostile datagrams per UDP server: `FUZZ_COUNT`, default 5,000. */
export function fuzzCount(): number {
  const text = Deno.env.get("FUZZ_COUNT");
  const n = text ? Number(text) : 5000;
  if (!Number.isSafeInteger(n) || n < 100) {
    throw new RangeError(`Cannot use FUZZ_COUNT "${text}": must be a whole number of at least 100`);
  }
  return n;
}

/** How much hostile input one run sends, derived from FUZZ_COUNT. */
export interface FuzzBudget {
  /** Hostile datagrams per UDP server. */
  datagrams: number;
  /** Hostile sessions per TCP server (FUZZ_COUNT / 50). */
  sessions: number;
  /** Batches (each followed by probes). */
  batches: number;
  /** Probes after each batch. */
  probesPerBatch: number;
  /** Most idle connections one idle session opens. */
  idleMax: number;
}

/** The budget for a FUZZ_COUNT. */
export function budget(count = fuzzCount()): FuzzBudget {
  return {
    datagrams: count,
    sessions: Math.max(20, Math.round(count / 50)),
    batches: 20,
    probesPerBatch: 5,
    idleMax: 200,
  };
}

/** A server of the table, started. */
export interface RunningServer extends ProbeTarget, AsyncDisposable {
  entry: ServerEntry;
  /** Companions started for it (the binder for exec-server). */
  companions: WatchedProcess[];
  /** `HOST:PORT` of its binder, when it needs one. */
  binder?: string;
}

/** Options of {@linkcode startServer}. */
export interface StartOptions {
  /** Address to bind (default 127.0.0.1). */
  host?: string;
  /** Argv prefix, e.g. `ip netns exec NS` (default none). */
  wrap?: string[];
  /** Extra socklab arguments (e.g. `--ttl 2` for a binder). */
  extra?: string[];
  /** Port to bind (default 0: any free port). */
  port?: number;
  /** Keep feeding `stdinLine` to stdin (default true; false: an operator who never types). */
  feed?: boolean;
}

/** Starts `entry` (and its companion), waits for its start-up line, returns where it listens. */
export async function startServer(
  entry: ServerEntry,
  options: StartOptions = {},
): Promise<RunningServer> {
  const host = options.host ?? "127.0.0.1";
  const wrap = options.wrap ?? [];
  const companions: WatchedProcess[] = [];
  const extra = [...(options.extra ?? [])];
  let binderAddr: string | undefined;
  const cleanup = async () => {
    for (const c of companions) await c[Symbol.asyncDispose]();
  };
  try {
    if (entry.needs === "binder") {
      binderAddr = await startBinder(host, wrap, companions);
      extra.push("--binder", binderAddr);
    }
    const listen = entry.listen?.(host, options.port ?? 0) ??
      ["--port", String(options.port ?? 0), "--bind", host];
    const proc = new WatchedProcess(
      [...wrap, ...socklabArgv(), ...entry.args, ...listen, ...extra],
      {
        stdin: entry.stdinLine !== undefined,
      },
    );
    let line: string;
    try {
      line = await proc[entry.readyOn ?? "stdout"].waitFor(entry.ready, 20_000, true);
    } catch (err) {
      await proc[Symbol.asyncDispose]();
      throw new Error(`${entry.name} did not start: ${(err as Error).message}\n${proc.describe()}`);
    }
    const feeding = entry.stdinLine !== undefined && options.feed !== false
      ? feed(proc, `${entry.stdinLine}\n`)
      : undefined;
    return {
      entry,
      host,
      port: lastNumber(line),
      proc,
      companions,
      binder: binderAddr,
      async [Symbol.asyncDispose]() {
        await proc[Symbol.asyncDispose]();
        await feeding;
        await cleanup();
      },
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** Starts a quiet binder on `host` (added to `companions`); resolves with its `HOST:PORT`. */
async function startBinder(
  host: string,
  wrap: string[],
  companions: WatchedProcess[],
): Promise<string> {
  const argv = [...wrap, ...socklabArgv(), "binder", "--quiet", "--port", "0", "--bind", host];
  const binder = new WatchedProcess(argv);
  companions.push(binder);
  const line = await binder.stdout.waitFor(
    /^socklab binder: listening on UDP \S+:\d+$/,
    20_000,
    true,
  );
  return `${host}:${lastNumber(line)}`;
}

/** Keeps a server's stdin supplied with `line` for as long as it reads (back-pressure bounds it). */
async function feed(proc: WatchedProcess, line: string): Promise<void> {
  const block = line.repeat(Math.max(1, Math.floor(4096 / line.length)));
  try {
    while (proc.exited === undefined) await proc.write(block);
  } catch {
    // stdin closed: the server is gone
  }
}

function lastNumber(line: string): number {
  const m = line.match(/(\d+)\D*$/);
  if (!m) throw new Error(`no port in line: ${line}`);
  return Number(m[1]);
}

/** What one fuzzing run found. */
export interface FuzzResult {
  name: string;
  transport: "udp" | "tcp";
  seed: number;
  /** Hostile datagrams sent, or hostile TCP sessions run. */
  hostile: number;
  /** Hostile bytes sent. */
  bytes: number;
  /** Hostile TCP connections opened (sessions plus idle ones). */
  connections: number;
  /** Exits or stack traces seen (0 or 1: a crash ends the run). */
  crashes: number;
  probesAnswered: number;
  probesTotal: number;
  rssStart: number;
  rssMax: number;
  /** Datagrams the kernel dropped on the server's socket (receive buffer full). */
  kernelDrops?: number;
  /** Distinct addresses the hostile datagrams came from. */
  senders: number;
  /** Replies the fuzzer's sockets got, by first word. */
  replies: Map<string, number>;
  /**
   * Replies over the anti-amplification limit: max(3x the largest datagram that
   * socket had sent, 512). The fuzzer never echoes a cookie, so no reply to it
   * may be larger (issue 17); `worst` is the largest factor seen.
   */
  amplification: { over: number; worst?: { bytes: number; limit: number } };
  /**
   * The fresh-socket check after the batches and the entry's fill (UDP):
   * each request from a socket of its own, so every reply is matched to it.
   */
  freshAmplification?: AmplificationResult;
  /** SIGTERM at the end: exit code, and whether the port was free afterwards. */
  sigterm?: { code: number; portFree: boolean; ms: number };
  seconds: number;
  /** The first failure, with what to replay. */
  failure?: string;
}

const MB = 1024 * 1024;

/** `binder: 5,000 hostile datagrams, 0 crashes, 100/100 probes answered, RSS +3 MB` */
export function summaryLine(r: FuzzResult): string {
  const n = (x: number) => x.toLocaleString("en-US");
  const what = r.transport === "udp"
    ? `${n(r.hostile)} hostile datagrams`
    : `${n(r.hostile)} hostile sessions (${n(r.connections)} connections, ${
      Math.round(r.bytes / MB)
    } MB)`;
  const growth = Math.max(0, r.rssMax - r.rssStart);
  return `${r.name}: ${what}, ${r.crashes} crash${r.crashes === 1 ? "" : "es"}, ${
    n(r.probesAnswered)
  }/${n(r.probesTotal)} probes answered, RSS +${Math.round(growth / MB)} MB`;
}

/** The fuzzer's replies by first word: `4,210 replies (ERR 4,100, USERS 110)`. */
export function repliesText(r: FuzzResult): string {
  const n = (x: number) => x.toLocaleString("en-US");
  const total = [...r.replies.values()].reduce((a, b) => a + b, 0);
  const top = [...r.replies].sort((a, b) => b[1] - a[1]).slice(0, 4)
    .map(([w, c]) => `${JSON.stringify(w).slice(1, -1)} ${n(c)}`);
  return `from ${n(r.senders)} addresses, ${n(total)} replies${
    top.length ? ` (${top.join(", ")})` : ""
  }`;
}

/** One row of the README's reliability table. */
export function tableRow(r: FuzzResult): string {
  const n = (x: number) => x.toLocaleString("en-US");
  const input = r.transport === "udp"
    ? `${n(r.hostile)} datagrams`
    : `${n(r.hostile)} sessions, ${n(r.connections)} connections, ${Math.round(r.bytes / MB)} MB`;
  return `| ${r.name} | ${input} | ${r.crashes} | ${n(r.probesAnswered)}/${n(r.probesTotal)} | +${
    Math.round(Math.max(0, r.rssMax - r.rssStart) / MB)
  } MB (${Math.round(r.rssMax / MB)} MB peak) | ${
    r.sigterm
      ? `exit ${r.sigterm.code}${r.sigterm.portFree ? ", port free" : ", PORT STILL OPEN"}`
      : "-"
  } |`;
}

/** A fresh result for `entry`, every count at zero. */
function emptyResult(entry: ServerEntry, baseSeed: number): FuzzResult {
  return {
    name: entry.name,
    transport: entry.transport,
    seed: baseSeed,
    hostile: 0,
    bytes: 0,
    connections: 0,
    crashes: 0,
    probesAnswered: 0,
    probesTotal: 0,
    rssStart: 0,
    rssMax: 0,
    replies: new Map(),
    amplification: { over: 0 },
    senders: 0,
    seconds: 0,
  };
}

/** Fuzzes one server: the whole run, from start to SIGTERM. Never throws; see `failure`. */
export async function fuzzServer(
  entry: ServerEntry,
  baseSeed: number,
  b = budget(),
): Promise<FuzzResult> {
  const started = performance.now();
  const result = emptyResult(entry, baseSeed);
  await using server = await startServer(entry);
  const run = new FuzzRun(server, new Rng(deriveSeed(baseSeed, entry.name)), b, result);
  try {
    await run.attack();
    await run.terminate();
  } catch (err) {
    result.failure = await run.failure(err, baseSeed);
  } finally {
    await run.close();
    result.seconds = (performance.now() - started) / 1000;
  }
  return result;
}

/** One fuzzing run's steps: warm-up, hostile batches with probes, amplification, SIGTERM. */
class FuzzRun {
  readonly server: RunningServer;
  readonly rng: Rng;
  readonly budget: FuzzBudget;
  readonly result: FuzzResult;
  prober: Prober | undefined;
  state: FuzzState | undefined;

  constructor(server: RunningServer, rng: Rng, b: FuzzBudget, result: FuzzResult) {
    this.server = server;
    this.rng = rng;
    this.budget = b;
    this.result = result;
  }

  /** Why the server is no longer fit to probe (an exit or a stack trace), if it is not. */
  crashed(): string | undefined {
    const { proc } = this.server;
    if (proc.exited) return `the server exited with code ${proc.exited.code}`;
    const trace = proc.stdout.crash ?? proc.stderr.crash;
    return trace ? `a stack trace appeared (${trace})` : undefined;
  }

  /** Warm-up, then every hostile batch followed by probes, then the amplification check. */
  async attack(): Promise<void> {
    const { server, result, budget: b } = this;
    const prober = this.prober = await server.entry.probe(server);
    // Warm up (JIT, first allocations) before the RSS baseline.
    await this.#probeBatch(0);
    result.rssStart = result.rssMax = rssBytes(server.proc.pid) ?? 0;
    const state = this.state = await FuzzState.open(server, this.rng, b, result);
    state.prober = prober;
    try {
      for (let batch = 0; batch < b.batches; batch++) await this.#batch(batch);
      await this.#amplification();
    } finally {
      await state.close();
    }
  }

  /** One hostile batch, then its probes and an RSS sample. */
  async #batch(batch: number): Promise<void> {
    const fuzzBatch = this.server.entry.transport === "udp" ? udpBatch : tcpBatch;
    await fuzzBatch(this.state!, batch);
    const why = this.crashed();
    if (why) throw new Error(why);
    try {
      await this.#probeBatch((batch + 1) * this.budget.probesPerBatch);
    } finally {
      await this.state!.closeIdle();
    }
    const rss = rssBytes(this.server.proc.pid);
    if (rss !== undefined) this.result.rssMax = Math.max(this.result.rssMax, rss);
    const after = this.crashed();
    if (after) throw new Error(after);
  }

  async #probeBatch(first: number): Promise<void> {
    for (let i = first; i < first + this.budget.probesPerBatch; i++) {
      this.result.probesTotal++;
      await this.prober!.ask(i);
      this.result.probesAnswered++;
    }
  }

  /** Issue 17's check on UDP servers (amplification.ts), once their tables have grown. */
  async #amplification(): Promise<void> {
    const { server } = this;
    if (server.entry.transport !== "udp") return;
    if (server.entry.fill) await fillTables(server, server.entry.fill);
    const requests = amplificationRequests(server.entry.words, this.rng);
    this.result.freshAmplification = await checkAmplification(
      server,
      this.prober!,
      requests,
      2e6,
    );
  }

  /** The end: SIGTERM must close everything and exit 0. */
  async terminate(): Promise<void> {
    const { server, result } = this;
    const { proc, entry } = server;
    if (entry.transport === "udp") result.kernelDrops = udpDrops(server.port);
    const t0 = performance.now();
    proc.kill("SIGTERM");
    const status = await proc.exit(10_000);
    result.sigterm = {
      code: status.timedOut ? -1 : status.code,
      portFree: socketsOnPort(server.port, entry.transport).length === 0,
      ms: Math.round(performance.now() - t0),
    };
    if (status.timedOut) throw new Error("SIGTERM: still running after 10 s (killed)");
    if (status.code !== 0) throw new Error(`SIGTERM: exit code ${status.code}, expected 0`);
    if (!result.sigterm.portFree) throw new Error(`SIGTERM: port ${server.port} still has sockets`);
    const trace = proc.stdout.crash ?? proc.stderr.crash;
    if (trace) throw new Error(`a stack trace appeared (${trace})`);
  }

  /** The failure report for `err`: what happened, how to replay it, the last inputs. */
  async failure(err: unknown, baseSeed: number): Promise<string> {
    const { entry, proc } = this.server;
    const why = this.crashed();
    if (why) this.result.crashes = 1;
    const what = err instanceof ProbeError
      ? `probe failed: ${err.message}`
      : (err as Error).message;
    const recent = this.state?.recent ?? [];
    const dumped = await dumpRecent(entry, baseSeed, recent);
    return `${entry.name}: ${what}${why && !what.includes(why) ? ` (${why})` : ""}\n` +
      `replay: SEED=${baseSeed} deno test -A tests/reliability/fuzz_test.ts --filter "${entry.name} survives"\n` +
      (dumped ? `the last ${recent.length} hostile inputs are in ${dumped}\n` : "") +
      proc.describe();
  }

  async close(): Promise<void> {
    await this.prober?.close();
  }
}

/** One of the fuzzer's UDP sockets, and the largest datagram it has sent. */
interface Sender {
  conn: Deno.DatagramConn;
  maxSent: number;
  receiving: Promise<void>;
}

/** The fuzzer's sockets and the connections held open across one batch. */
class FuzzState {
  readonly server: RunningServer;
  readonly rng: Rng;
  readonly budget: FuzzBudget;
  readonly result: FuzzResult;
  prober: Prober | undefined;
  /** The last hostile inputs sent (datagrams, or each session's first write), oldest first. */
  recent: { kind: string; data: Uint8Array }[] = [];
  /** The fuzzer's UDP sockets: hostile datagrams come from several addresses. */
  senders: Sender[] = [];
  idle: Deno.TcpConn[] = [];
  /** Idle connections promised to the idle sessions running now (at most budget.idleMax). */
  idleReserved = 0;

  private constructor(server: RunningServer, rng: Rng, b: FuzzBudget, result: FuzzResult) {
    this.server = server;
    this.rng = rng;
    this.budget = b;
    this.result = result;
  }

  static open(
    server: RunningServer,
    rng: Rng,
    b: FuzzBudget,
    result: FuzzResult,
  ): Promise<FuzzState> {
    const s = new FuzzState(server, rng, b, result);
    if (server.entry.transport === "udp") {
      for (let i = 0; i < UDP_SENDERS; i++) s.#openSender();
    }
    return Promise.resolve(s);
  }

  #openSender(): Sender {
    const conn = Deno.listenDatagram({ transport: "udp", hostname: this.server.host, port: 0 });
    const sender: Sender = { conn, maxSent: 0, receiving: Promise.resolve() };
    sender.receiving = this.#countReplies(sender);
    this.senders.push(sender);
    this.result.senders++;
    return sender;
  }

  /**
   * A socket to send the next hostile datagram from; now and then a fresh one,
   * so per-sender state (sign-ins, retry memory, registrations) keeps growing
   * the way a class of students' clients would make it.
   */
  async sender(): Promise<Sender> {
    const i = this.rng.int(this.senders.length);
    if (this.rng.chance(1 / 40)) {
      const [old] = this.senders.splice(i, 1);
      old.conn.close();
      await old.receiving;
      return this.#openSender();
    }
    return this.senders[i];
  }

  async #countReplies(sender: Sender): Promise<void> {
    const buf = new Uint8Array(65536);
    const decoder = new TextDecoder();
    const amp = this.result.amplification;
    try {
      while (true) {
        const [data] = await sender.conn.receive(buf);
        const limit = Math.max(3 * sender.maxSent, 512);
        if (data.length > limit) {
          amp.over++;
          if (!amp.worst || data.length / limit > amp.worst.bytes / amp.worst.limit) {
            amp.worst = { bytes: data.length, limit };
          }
        }
        const word = decoder.decode(data.subarray(0, 16)).split(/[ \n]/)[0].slice(0, 12) ||
          "(empty)";
        this.result.replies.set(word, (this.result.replies.get(word) ?? 0) + 1);
      }
    } catch {
      // closed
    }
  }

  /** Remembers an input for the dump a failure leaves behind. */
  remember(kind: string, data: Uint8Array): void {
    this.recent.push({ kind, data });
    if (this.recent.length > KEEP_RECENT) this.recent.shift();
  }

  async closeIdle(): Promise<void> {
    for (const c of this.idle) {
      try {
        c.close();
      } catch {
        // already closed
      }
    }
    this.idle = [];
    this.idleReserved = 0;
    await Promise.resolve();
  }

  async close(): Promise<void> {
    await this.closeIdle();
    for (const { conn, receiving } of this.senders) {
      conn.close();
      await receiving;
    }
    this.senders = [];
  }
}

/** Hostile inputs kept for the dump a failure leaves behind. */
const KEEP_RECENT = 64;

/**
 * Writes `recent` to .cache/reliability/NAME-SEED/ (one file per input, oldest
 * first: `NNN-KIND.bin`) so a crash can be narrowed down by hand; returns the folder.
 */
async function dumpRecent(
  entry: ServerEntry,
  seed: number,
  recent: { kind: string; data: Uint8Array }[],
): Promise<string | undefined> {
  if (recent.length === 0) return undefined;
  const dir = `${ROOT}.cache/reliability/${entry.name.replace(/\W+/g, "-")}-${seed}`;
  try {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    await Deno.mkdir(dir, { recursive: true });
    for (const [i, r] of recent.entries()) {
      await Deno.writeFile(`${dir}/${String(i).padStart(3, "0")}-${r.kind}.bin`, r.data);
    }
    return dir;
  } catch {
    return undefined;
  }
}

/** UDP sockets the fuzzer sends from at once. */
const UDP_SENDERS = 4;

/** Bytes in flight before the UDP fuzzer waits for the server to catch up (a probe). */
const UDP_WINDOW_BYTES = 96 * 1024;

async function udpBatch(state: FuzzState, batch: number): Promise<void> {
  const { server, rng, budget: b, result } = state;
  const to: Deno.NetAddr = { transport: "udp", hostname: server.host, port: server.port };
  const count = Math.floor(b.datagrams / b.batches) + (batch < b.datagrams % b.batches ? 1 : 0);
  const words = server.entry.words;
  let window = 0;
  let syncs = 0;
  for (let i = 0; i < count; i++) {
    const m = hostileMessage(rng, words, 65507);
    // Keep the server's receive buffer from overflowing, so hostile input is
    // read rather than dropped by the kernel: wait for the server to answer
    // a well-behaved request before the next window.
    if (window + m.data.length > UDP_WINDOW_BYTES && window > 0) {
      await syncProbe(state, batch, syncs++);
      window = 0;
    }
    try {
      const sender = await state.sender();
      // Counted before the send: its reply may come back before the send resolves.
      sender.maxSent = Math.max(sender.maxSent, m.data.length);
      await sender.conn.send(m.data, to);
    } catch {
      // loopback send errors (ENOBUFS) are the fuzzer's problem, not the server's
      continue;
    }
    window += m.data.length + 64;
    state.remember(m.kind, m.data);
    result.hostile++;
    result.bytes += m.data.length;
  }
}

/** A probe used as a sync point inside a batch (counted like any other). */
async function syncProbe(state: FuzzState, batch: number, n: number): Promise<void> {
  // Sync probes use indices far from the batch probes', so replies never mix.
  const i = 1_000_000 + batch * 10_000 + n;
  state.result.probesTotal++;
  await state.prober!.ask(i);
  state.result.probesAnswered++;
}

async function tcpBatch(state: FuzzState, batch: number): Promise<void> {
  const { server, rng, budget: b, result } = state;
  const count = Math.floor(b.sessions / b.batches) + (batch < b.sessions % b.batches ? 1 : 0);
  const sessions = Array.from(
    { length: count },
    () => hostileSession(rng, server.entry.words, b.idleMax),
  );
  const run = async (s: HostileSession) => {
    result.hostile++;
    state.remember(s.kind, s.writes[0]?.subarray(0, 65536) ?? new Uint8Array(0));
    if (s.kind === "idle") {
      // At most idleMax idle connections at once, well under any server's
      // client limit: a server full of idle sockets refuses the probe too.
      // Reserved before any await: idle sessions of one batch run at once.
      const room = Math.max(0, Math.min(s.idle!, b.idleMax - state.idleReserved));
      state.idleReserved += room;
      for (let i = 0; i < room; i++) {
        try {
          state.idle.push(await Deno.connect({ hostname: server.host, port: server.port }));
          result.connections++;
        } catch {
          break;
        }
      }
      if (server.entry.oneAtATime) await state.closeIdle();
      return;
    }
    result.connections++;
    result.bytes += await runSession(server, s);
  };
  if (server.entry.oneAtATime) {
    for (const s of sessions) await run(s);
  } else {
    await Promise.all(sessions.map(run));
  }
}

const SESSION_DEADLINE_MS = 3000;

/** One hostile TCP session; resolves with the bytes sent. Never throws. */
async function runSession(server: RunningServer, s: HostileSession): Promise<number> {
  let conn: Deno.TcpConn;
  try {
    conn = await Deno.connect({ hostname: server.host, port: server.port });
  } catch {
    return 0;
  }
  conn.setNoDelay(true);
  const deadline = performance.now() + SESSION_DEADLINE_MS;
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    try {
      conn.close();
    } catch {
      // already closed
    }
  };
  // Read whatever the server says, so its replies never pile up in our buffer.
  const reading = (async () => {
    const buf = new Uint8Array(65536);
    try {
      while ((await conn.read(buf)) !== null) { /* discard */ }
    } catch {
      // reset or closed by us
    }
  })();
  const timer = setTimeout(close, SESSION_DEADLINE_MS + 2000);
  let sent = 0;
  try {
    const write = async (bytes: Uint8Array) => {
      let off = 0;
      while (off < bytes.length) off += await conn.write(bytes.subarray(off));
      sent += bytes.length;
    };
    if (s.kind === "byte-at-a-time") {
      for (const b of s.writes[0]) await write(new Uint8Array([b]));
    } else if (s.kind === "huge-line") {
      const chunk = new Uint8Array(64 * 1024).fill(0x78);
      while (sent < HUGE_LINE_BYTES && performance.now() < deadline) await write(chunk);
    } else {
      for (const w of s.writes) await write(w);
    }
    if (s.ending === "half-close") {
      await conn.closeWrite();
      await reading; // the server closes once it has read everything
    }
  } catch {
    // the server hung up on us: allowed
  } finally {
    clearTimeout(timer);
    close();
    await reading;
  }
  return sent;
}

function udpDrops(port: number): number | undefined {
  const rows = socketsOnPort(port, "udp");
  return rows.length ? rows.reduce((n, r) => n + (r.drops ?? 0), 0) : undefined;
}
