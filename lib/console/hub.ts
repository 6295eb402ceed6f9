/**
 * The lab console's state: every service's monitor, read once per tick into
 * rates and sparklines, the last events, and the browsers that listen. Each
 * message is encoded once and queued to every browser (bounded per browser,
 * see sse.ts); a new browser first gets a snapshot of everything, so one that
 * reconnects after its stream was cut catches up by itself.
 *
 * Messages (SSE event name → JSON data):
 * ```text
 * snapshot  {tickMs, points, services: [service + series], states, events}
 * tick      {services: [service + point], states}          ; every tickMs
 * events    {events (newest first), suppressed, states}    ; within flushMs of an event
 * ```
 *
 * @example
 * ```ts
 * import { ConsoleHub } from "./hub.ts";
 * import { TimedMonitor } from "./timed_monitor.ts";
 * const hub = new ConsoleHub();
 * const monitor = new TimedMonitor("rates-server");
 * hub.add({ label: "rates-server", transport: "udp", address: "127.0.0.1:1502", monitor });
 * monitor.served(0.1, false);
 * hub.tick();
 * console.assert(hub.snapshot().services[0].requests === 1);
 * hub.close();
 * ```
 * @module
 */
import { LATENCY_BOUNDS_MS, type ServiceEvent, type ServiceState } from "../net/monitor.ts";
import { labMetrics, type ServiceTotals } from "./lab_metrics.ts";
import type { MetricFamily } from "./metrics.ts";
import { sseFrame, sseRetry, SseStream } from "./sse.ts";
import { type Point, ServiceHistory } from "./stats.ts";
import type { TimedMonitor } from "./timed_monitor.ts";
import { type EventView, eventView, round, type StateView, stateView } from "./view.ts";

/** A service the console shows. */
export interface ConsoleService {
  /** Unique name on the page, e.g. `exec-server 2`. */
  label: string;
  transport: "udp" | "tcp";
  /** `HOST:PORT` it bound. */
  address: string;
  monitor: TimedMonitor;
}

/** Options of {@linkcode ConsoleHub}; every field has a default. */
export interface HubOptions {
  /** Sampling period (default 1000 ms). */
  tickMs?: number;
  /** Points per sparkline (default 180: three minutes at one a second). */
  points?: number;
  /** Ticks over which the shown p50/p99 are computed (default 10). */
  windowTicks?: number;
  /** Events kept for a new browser (default 100). */
  maxEvents?: number;
  /** Browsers at once (default 16); more get a 503 until one leaves. */
  maxClients?: number;
  /** Bytes queued per browser before it is dropped (default 256 KiB). */
  maxQueuedBytes?: number;
  /** Longest delay before an event reaches the browsers (default 200 ms). */
  flushMs?: number;
  /** Monotonic clock in ms (default performance.now). */
  now?: () => number;
}

/** One service's row as sent to the page. */
export interface ServiceView extends ServiceTotals {
  rate: number;
  errorRate: number;
  /** ms over the last window; null when nothing was served in it. */
  p50: number | null;
  p99: number | null;
}

interface Tracked {
  info: ConsoleService;
  history: ServiceHistory;
  up: boolean;
  last: Point;
  lineRate: number;
  unsubscribe: () => void;
}

const encoder = new TextEncoder();
const ZERO: Point = { rate: 0, errorRate: 0, p50: null, p99: null, lineRate: null };

/** Services, events and listening browsers of one console. */
export class ConsoleHub {
  readonly options: Required<HubOptions>;
  /** Browsers dropped because their queue was full. */
  droppedClients = 0;
  readonly #services: Tracked[] = [];
  readonly #events: EventView[] = [];
  #pending: EventView[] = [];
  #suppressed = 0;
  readonly #clients = new Set<SseStream>();
  #tickTimer?: ReturnType<typeof setInterval>;
  #flushTimer?: ReturnType<typeof setTimeout>;

  constructor(options: HubOptions = {}) {
    this.options = {
      tickMs: options.tickMs ?? 1000,
      points: options.points ?? 180,
      windowTicks: options.windowTicks ?? 10,
      maxEvents: options.maxEvents ?? 100,
      maxClients: options.maxClients ?? 16,
      maxQueuedBytes: options.maxQueuedBytes ?? 256 * 1024,
      flushMs: options.flushMs ?? 200,
      now: options.now ?? (() => performance.now()),
    };
  }

  /** Adds a service (shown in the order added) and listens to its events. */
  add(info: ConsoleService): void {
    if (this.#services.some((s) => s.info.label === info.label)) {
      throw new RangeError(`Cannot add service "${info.label}" twice`);
    }
    const history = new ServiceHistory(this.options.points, this.options.windowTicks);
    const tracked: Tracked = {
      info,
      history,
      up: true,
      last: ZERO,
      lineRate: 0,
      unsubscribe: info.monitor.subscribe((e) => this.#onEvent(e)),
    };
    tracked.last = history.record(this.#sample(tracked, readState(tracked)), LATENCY_BOUNDS_MS);
    this.#services.push(tracked);
  }

  /** Marks a service up or down (a service whose run settled is down). */
  setUp(label: string, up: boolean): void {
    const s = this.#services.find((t) => t.info.label === label);
    if (s) s.up = up;
  }

  /** Starts ticking every `tickMs` until {@linkcode close}. */
  start(): void {
    this.#tickTimer ??= setInterval(() => this.tick(), this.options.tickMs);
  }

  /** Number of browsers listening. */
  get clientCount(): number {
    return this.#clients.size;
  }

  /** Reads every monitor, appends a point to each sparkline and tells the browsers. */
  tick(): void {
    const states: StateView[] = [];
    for (const s of this.#services) {
      const state = readState(s);
      s.last = s.history.record(this.#sample(s, state), LATENCY_BOUNDS_MS);
      if (s.last.lineRate !== null) s.lineRate = s.last.lineRate;
      if (state) states.push(stateView(s.info.label, state, s.lineRate));
    }
    if (this.#clients.size === 0) return;
    const services = this.#services.map((s) => ({ ...this.#view(s), point: pointView(s.last) }));
    this.#broadcast("tick", { services, states });
  }

  /**
   * A new browser's stream, starting with the snapshot; undefined when
   * `maxClients` browsers already listen.
   */
  connect(): SseStream | undefined {
    if (this.#clients.size >= this.options.maxClients) return undefined;
    const stream = new SseStream(this.options.maxQueuedBytes, (why) => {
      this.#clients.delete(stream);
      if (why === "full") this.droppedClients++;
    });
    this.#clients.add(stream);
    const first = sseRetry(1000) + sseFrame("snapshot", JSON.stringify(this.snapshot()));
    stream.send(encoder.encode(first));
    return stream;
  }

  /** Everything a new browser needs. */
  snapshot() {
    return {
      tickMs: this.options.tickMs,
      points: this.options.points,
      services: this.#services.map((s) => ({ ...this.#view(s), series: seriesView(s.history) })),
      states: this.states(),
      events: [...this.#events].reverse(),
    };
  }

  /** The chat, binder and registry panels, in service order. */
  states(): StateView[] {
    return this.#services.flatMap((s) => {
      const state = readState(s);
      return state ? [stateView(s.info.label, state, s.lineRate)] : [];
    });
  }

  /** Ends every browser's stream (each reconnects and gets a new snapshot). */
  disconnectAll(): void {
    for (const c of [...this.#clients]) c.close();
  }

  /** Stops ticking, ends every stream and stops listening to the monitors. */
  close(): void {
    clearInterval(this.#tickTimer);
    clearTimeout(this.#flushTimer);
    this.#tickTimer = this.#flushTimer = undefined;
    this.disconnectAll();
    for (const s of this.#services) s.unsubscribe();
  }

  /** The counters as Prometheus metric families (see metrics.ts). */
  metricFamilies(): MetricFamily[] {
    const services = this.#services.map((s) => {
      const { latency, totalMs } = s.info.monitor;
      return { ...this.#totals(s), latency, totalMs };
    });
    return labMetrics(services, this.states(), {
      listening: this.#clients.size,
      dropped: this.droppedClients,
    });
  }

  #sample(s: Tracked, state: ServiceState | undefined) {
    const m = s.info.monitor;
    const lines = state?.kind === "chat" ? state.lines : undefined;
    return {
      atMs: this.options.now(),
      requests: m.requests,
      errors: m.errors,
      latency: m.latency,
      lines,
    };
  }

  #totals(s: Tracked): ServiceTotals {
    const { label, transport, address, monitor } = s.info;
    return {
      label,
      transport,
      address,
      up: s.up,
      requests: monitor.requests,
      errors: monitor.errors,
    };
  }

  #view(s: Tracked): ServiceView {
    const q = s.history.windowQuantiles(LATENCY_BOUNDS_MS);
    return {
      ...this.#totals(s),
      rate: round(s.last.rate, 2),
      errorRate: round(s.last.errorRate, 2),
      p50: q.p50 === null ? null : round(q.p50, 4),
      p99: q.p99 === null ? null : round(q.p99, 4),
    };
  }

  #onEvent(e: ServiceEvent): void {
    const view = eventView(e);
    this.#events.push(view);
    if (this.#events.length > this.options.maxEvents) this.#events.shift();
    if (this.#clients.size === 0) return;
    // A storm of events (an attacker's bad requests) sends at most maxEvents per flush.
    if (this.#pending.length >= this.options.maxEvents) this.#suppressed++;
    else this.#pending.push(view);
    this.#flushTimer ??= setTimeout(() => this.#flush(), this.options.flushMs);
  }

  #flush(): void {
    this.#flushTimer = undefined;
    const events = this.#pending.reverse();
    const suppressed = this.#suppressed;
    this.#pending = [];
    this.#suppressed = 0;
    if (events.length > 0) this.#broadcast("events", { events, suppressed, states: this.states() });
  }

  #broadcast(event: string, data: unknown): void {
    const bytes = encoder.encode(sseFrame(event, JSON.stringify(data)));
    for (const c of [...this.#clients]) c.send(bytes);
  }
}

/** A service's state; a provider that throws (a server's bug) shows as no state, never stops the console. */
function readState(s: Tracked): ServiceState | undefined {
  try {
    return s.info.monitor.state();
  } catch {
    return undefined;
  }
}

function pointView(p: Point) {
  return {
    rate: round(p.rate, 2),
    errorRate: round(p.errorRate, 2),
    p50: p.p50 === null ? null : round(p.p50, 4),
    p99: p.p99 === null ? null : round(p.p99, 4),
  };
}

function seriesView(h: ServiceHistory) {
  const r = (digits: number) => (v: number | null) => v === null ? null : round(v, digits);
  return {
    rate: h.rate.values().map(r(2)),
    errorRate: h.errorRate.values().map(r(2)),
    p50: h.p50.values().map(r(4)),
    p99: h.p99.values().map(r(4)),
  };
}
