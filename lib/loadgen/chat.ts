/**
 * The chat fan-out load generator behind `socklab bench chat` and
 * bench/chat.ts: N TCP clients join one chat server or several (client i
 * talks to server i mod S), then send `rate` messages per second between them
 * (round-robin) for a while, or each client `perClientRate` lines per second;
 * every copy the servers deliver is counted and timed from its send. Each
 * message carries its send time (chat_lines.ts), so no per-message state is
 * kept and memory stays bounded.
 *
 * The clients run in this thread, or split over worker threads
 * (`workers`, chat_worker.ts) so that reading the copies is not what limits
 * the figure; every thread's clock is the run's clock (wall time since the
 * run began), so a copy sent in one thread is timed in another.
 *
 * @example
 * ```ts ignore
 * import { runChatLoad } from "./chat.ts";
 * const r = await runChatLoad({ hostname: "127.0.0.1", port: 5600 }, {
 *   clients: 200, rate: 100, durationMs: 5000, workers: 2,
 * });
 * console.log(r.deliveries / (r.elapsedMs / 1000), r.latency.percentile(99));
 * ```
 * @module
 */
import { FailError } from "../cli/errors.ts";
import type { HostPort } from "../net/address.ts";
import type { ChatDialect } from "./chat_lines.ts";
import {
  ChatLoadPart,
  delay,
  type PartCounters,
  type PartReport,
  type PartSpec,
  type Schedule,
} from "./chat_part.ts";
import { LatencyHistogram } from "./stats.ts";

/** Default message text size in bytes. */
export const DEFAULT_MESSAGE_SIZE = 64;
/** Default wait for late deliveries after the last send. */
export const DEFAULT_DRAIN_MS = 2000;
/** Most worker threads a run may use. */
export const MAX_WORKERS = 16;
/**
 * Default limit on connecting and signing in every client: 15 s, or 100 ms per
 * client when more (ncat --chat takes about 80 ms to accept each one).
 */
export function defaultReadyTimeoutMs(clients: number): number {
  return Math.max(15_000, clients * 100);
}

/** Options of {@linkcode runChatLoad}. */
export interface ChatLoadOptions {
  /** Clients to connect (each signs in as NAME-PREFIX + index). */
  clients: number;
  /** Chat messages per second, all clients together (0: the clients stay idle). */
  rate: number;
  /**
   * Instead of `rate`: lines per second EACH client sends, all clients on the
   * same ticks (bursts of one line per client), each client's first line at once.
   */
  perClientRate?: number;
  /** How long to send. */
  durationMs: number;
  /** The server's protocol (default `"socklab"`). */
  dialect?: ChatDialect;
  /** Bytes of text per message (default {@linkcode DEFAULT_MESSAGE_SIZE}; at least the marker). */
  size?: number;
  /** Client names are this plus an index (default `"bench"`). */
  namePrefix?: string;
  /** Wait for late deliveries after the last send (default {@linkcode DEFAULT_DRAIN_MS}). */
  drainMs?: number;
  /** Limit on connecting and signing in every client (default {@linkcode defaultReadyTimeoutMs}). */
  readyTimeoutMs?: number;
  /**
   * Threads that run the clients (default 1: in this thread). Each worker
   * thread reads its share of the copies, so the generator can use more
   * than one core.
   */
  workers?: number;
  /** Ends the run early (Ctrl-C). */
  signal?: AbortSignal;
  /** Called once every client is connected and has seen a probe (before any load). */
  onReady?: () => void | Promise<void>;
}

/** Counters of a run, readable while it goes. */
export interface ChatLoadCounters {
  /** Clients connected (and signed in). */
  connected: number;
  /** Messages sent. */
  messages: number;
  /** Copies received by the clients. */
  deliveries: number;
}

/** What a run measured. */
export interface ChatLoadResult extends ChatLoadCounters {
  /** Deliveries each message should make (clients, or clients − 1 for ncat). */
  fanout: number;
  /** messages × fanout. */
  expected: number;
  /** Copies never received within the drain wait. */
  lost: number;
  /** Time to connect and sign in every client. */
  readyMs: number;
  /** From the first send to the last delivery (or the end of sending). */
  elapsedMs: number;
  /** Delivery latency in µs, from the send to the arrival of each copy. */
  latency: LatencyHistogram;
  /** Whether the signal cut the run short. */
  interrupted: boolean;
  /** `Date.now()` when the measurement ended, before the clients left. */
  endedAt: number;
  /** Threads that ran the clients. */
  workers: number;
}

/** The clients of one thread, as the coordinator sees them (in this thread or a worker). */
interface PartHandle {
  readonly spec: PartSpec;
  live(): PartCounters;
  join(): Promise<void>;
  probe(): Promise<void>;
  send(schedule: Schedule): Promise<number>;
  drain(expected: number, untilUs: number): Promise<void>;
  report(): Promise<PartReport>;
  close(): Promise<void>;
  abort(): void;
}

/** A part in this thread. */
class LocalPart implements PartHandle {
  readonly #part: ChatLoadPart;

  constructor(readonly spec: PartSpec) {
    this.#part = new ChatLoadPart(spec);
  }

  live = () => this.#part.live();
  join = () => this.#part.join();
  probe = () => this.#part.probe();
  send = (s: Schedule) => this.#part.send(s);
  drain = (expected: number, untilUs: number) => this.#part.drain(expected, untilUs);
  report = () => Promise.resolve(this.#part.report());
  close = () => this.#part.close();
  abort = () => this.#part.abort();
}

const WORKER_URL = new URL("./chat_worker.ts", import.meta.url);

/**
 * Throws FailError when worker threads cannot start here: a bundle has no
 * chat_worker.ts beside it (Deno would report a missing module from inside
 * the worker, after the run began).
 */
function checkWorkerModule(): void {
  if (WORKER_URL.protocol !== "file:") return;
  try {
    Deno.statSync(WORKER_URL);
  } catch {
    throw new FailError(
      `cannot start worker threads: ${WORKER_URL.pathname} is not here (a bundle runs the clients in one thread: leave out --workers)`,
    );
  }
}

/** A part in a worker thread, driven by messages (chat_worker.ts). */
class WorkerPart implements PartHandle {
  readonly #worker: Worker;
  readonly #calls = new Map<number, { resolve(v: unknown): void; reject(e: unknown): void }>();
  #id = 0;
  #live: PartCounters = { connected: 0, messages: 0, deliveries: 0 };

  constructor(readonly spec: PartSpec) {
    this.#worker = new Worker(new URL("./chat_worker.ts", import.meta.url).href, {
      type: "module",
    });
    this.#worker.onmessage = (e: MessageEvent) => this.#receive(e.data);
    this.#worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      for (const c of this.#calls.values()) c.reject(new Error(`chat worker failed: ${e.message}`));
      this.#calls.clear();
    };
    // A failed init shows in the next call's answer.
    this.#call("init", spec).catch(() => {});
  }

  #receive(
    data: {
      id?: number;
      result?: unknown;
      error?: { message: string; fail: boolean };
      live?: PartCounters;
    },
  ) {
    if (data.live) {
      this.#live = data.live;
      return;
    }
    const call = this.#calls.get(data.id!);
    this.#calls.delete(data.id!);
    if (!call) return;
    if (!data.error) call.resolve(data.result);
    else {call.reject(
        data.error.fail ? new FailError(data.error.message) : new Error(data.error.message),
      );}
  }

  #call<T>(method: string, ...args: unknown[]): Promise<T> {
    const id = ++this.#id;
    return new Promise<T>((resolve, reject) => {
      this.#calls.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.#worker.postMessage({ id, method, args });
    });
  }

  live = () => this.#live;
  join = () => this.#call<void>("join");
  probe = () => this.#call<void>("probe");
  send = (s: Schedule) => this.#call<number>("send", s);
  drain = (expected: number, untilUs: number) => this.#call<void>("drain", expected, untilUs);
  report = () => this.#call<PartReport>("report");
  abort = () => this.#worker.postMessage({ method: "abort" });
  close = async () => {
    try {
      await this.#call<void>("close");
    } finally {
      this.#worker.terminate();
    }
  };
}

/** The parts of a run: `workers` threads (1: this one), clients split evenly, in order. */
function planParts(
  targets: readonly HostPort[],
  options: ChatLoadOptions,
  epochMs: number,
): PartSpec[] {
  const clients = options.clients;
  const threads = Math.max(1, Math.min(options.workers ?? 1, MAX_WORKERS, clients));
  const readyByUs = (options.readyTimeoutMs ?? defaultReadyTimeoutMs(clients)) * 1000;
  return Array.from({ length: threads }, (_, t) => {
    const first = Math.floor((clients * t) / threads);
    return {
      targets: [...targets],
      first,
      count: Math.floor((clients * (t + 1)) / threads) - first,
      totalClients: clients,
      dialect: options.dialect ?? "socklab",
      size: options.size ?? DEFAULT_MESSAGE_SIZE,
      namePrefix: options.namePrefix ?? "bench",
      epochMs,
      readyByUs,
    };
  });
}

/** Copies each part's clients should get when the run sent `total` messages. */
function expectedFor(spec: PartSpec, total: number, ownMessages: number): number {
  return spec.dialect === "socklab" ? total * spec.count : total * spec.count - ownMessages;
}

/**
 * Runs the load against `target` (or several servers). Throws FailError when
 * a client cannot connect or sign in, or the clients do not all hear each
 * other in time.
 */
export async function runChatLoad(
  target: HostPort | readonly HostPort[],
  options: ChatLoadOptions,
  counters: ChatLoadCounters = { connected: 0, messages: 0, deliveries: 0 },
): Promise<ChatLoadResult> {
  const targets = Array.isArray(target) ? target : [target as HostPort];
  const epochMs = performance.timeOrigin + performance.now();
  const specs = planParts(targets, options, epochMs);
  if (specs.length > 1) checkWorkerModule();
  const parts: PartHandle[] = specs.map((s) =>
    specs.length > 1 ? new WorkerPart(s) : new LocalPart(s)
  );
  const sum = () => {
    const all = parts.map((p) => p.live());
    counters.connected = all.reduce((a, c) => a + c.connected, 0);
    counters.messages = all.reduce((a, c) => a + c.messages, 0);
    counters.deliveries = all.reduce((a, c) => a + c.deliveries, 0);
  };
  const ticker = setInterval(sum, 100);
  const onAbort = () => parts.forEach((p) => p.abort());
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) onAbort();
  const run = new ChatRun(parts, options, epochMs);
  try {
    const result = await run.measure();
    sum();
    return result;
  } finally {
    clearInterval(ticker);
    options.signal?.removeEventListener("abort", onAbort);
    await Promise.allSettled(parts.map((p) => p.close()));
  }
}

/** The steps of one run over its parts: join, probe, send, drain, report. */
class ChatRun {
  constructor(
    readonly parts: PartHandle[],
    readonly options: ChatLoadOptions,
    readonly epochMs: number,
  ) {}

  /** The run's clock in µs (0 when it began). */
  now(): number {
    return (performance.timeOrigin + performance.now() - this.epochMs) * 1000;
  }

  get aborted(): boolean {
    return this.options.signal?.aborted ?? false;
  }

  async measure(): Promise<ChatLoadResult> {
    await Promise.all(this.parts.map((p) => p.join()));
    if (!this.aborted) await Promise.all(this.parts.map((p) => p.probe()));
    const readyMs = this.now() / 1000;
    await this.options.onReady?.();
    const offered = this.options.perClientRate ?? this.options.rate;
    let window: { startUs: number; endUs: number };
    if (offered > 0 && !this.aborted) {
      window = await this.#load();
    } else {
      const startUs = this.now();
      if (!this.aborted) await delay(this.options.durationMs, this.options.signal);
      window = { startUs, endUs: this.now() };
    }
    const reports = await Promise.all(this.parts.map((p) => p.report()));
    return this.#result(reports, readyMs, window);
  }

  /** Sends on one schedule in every part, then waits for the copies still due. */
  async #load(): Promise<{ startUs: number; endUs: number }> {
    const startUs = this.now() + 20_000; // every thread hears the schedule before it starts
    const schedule: Schedule = {
      startAtUs: startUs,
      durationMs: this.options.durationMs,
      rate: this.options.rate,
      perClientRate: this.options.perClientRate,
    };
    const sent = await Promise.all(this.parts.map((p) => p.send(schedule)));
    const total = sent.reduce((a, n) => a + n, 0);
    const endUs = this.now();
    const drainUs = endUs + (this.options.drainMs ?? DEFAULT_DRAIN_MS) * 1000;
    await Promise.all(
      this.parts.map((p, i) => p.drain(expectedFor(p.spec, total, sent[i]), drainUs)),
    );
    return { startUs, endUs };
  }

  #result(
    reports: PartReport[],
    readyMs: number,
    window: { startUs: number; endUs: number },
  ): ChatLoadResult {
    const latency = new LatencyHistogram();
    for (const r of reports) latency.merge(LatencyHistogram.from(r.latency));
    const messages = reports.reduce((a, r) => a + r.messages, 0);
    const deliveries = reports.reduce((a, r) => a + r.deliveries, 0);
    const clients = this.parts.reduce((a, p) => a + p.spec.count, 0);
    const fanout = (this.options.dialect ?? "socklab") === "socklab" ? clients : clients - 1;
    const lastUs = Math.max(window.endUs, ...reports.map((r) => r.lastAtUs));
    return {
      endedAt: Date.now(),
      connected: reports.reduce((a, r) => a + r.connected, 0),
      messages,
      deliveries,
      fanout,
      expected: messages * fanout,
      lost: Math.max(0, messages * fanout - deliveries),
      readyMs,
      elapsedMs: (lastUs - window.startUs) / 1000,
      latency,
      interrupted: this.aborted,
      workers: this.parts.length,
    };
  }
}
