/**
 * What a running service tells an observer (the lab console of
 * `socklab demo --serve --web`): requests served and how long each took,
 * error replies with the peer, notable events, and a snapshot of its state.
 * Servers take an optional monitor; without one they pay nothing.
 *
 * The API servers call is three methods and stays small on purpose:
 * {@linkcode ServiceMonitor.served}, {@linkcode ServiceMonitor.event},
 * {@linkcode ServiceMonitor.setState}. Readers (the console) read the counters
 * and subscribe to events.
 *
 * @example
 * ```ts
 * import { ServiceMonitor } from "./monitor.ts";
 * const m = new ServiceMonitor("registry-server");
 * m.served(0.012, false);
 * m.served(0.020, true, "127.0.0.1:40000", "ERR bad name");
 * m.setState(() => ({ kind: "registry", names: ["alice"] }));
 * console.assert(m.requests === 2 && m.errors === 1);
 * ```
 * @module
 */

/** Kinds of event shown in the console's event list. */
export type EventKind =
  | "signin"
  | "signout"
  | "register"
  | "unregister"
  | "expiry"
  | "error"
  | "drop"
  | "info";

/** One event as the console shows it. */
export interface ServiceEvent {
  /** ms since the epoch. */
  time: number;
  service: string;
  kind: EventKind;
  /** Free text; may hold network-supplied bytes, so readers must show it as text. */
  text: string;
  /** `HOST:PORT` of the peer it concerns, when there is one. */
  peer?: string;
}

/** A chat member as the console lists it. */
export interface MemberState {
  name: string;
  peer: string;
  /** The instance it is connected to, when the room is shared through Redis. */
  instance?: string;
}

/** A binder record as the console lists it. */
export interface RecordState {
  command: string;
  host: string;
  port: number;
  /** ms until it expires unless re-registered. */
  expiresInMs: number;
}

/** A service's state for the console. */
export type ServiceState =
  | {
    kind: "chat";
    members: MemberState[];
    lines: number;
    droppedSlow: number;
    droppedDead: number;
  }
  | { kind: "binder"; records: RecordState[] }
  | { kind: "registry"; names: string[] };

/** Upper bounds (ms) of the service-time buckets; the last bucket is open. */
export const LATENCY_BOUNDS_MS: readonly number[] = [
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  25,
  50,
  100,
  250,
  500,
  1000,
];

/** Counters and events of one service. */
export class ServiceMonitor {
  readonly service: string;
  /** Requests served (including those answered with an error). */
  requests = 0;
  /** Requests answered with an error reply. */
  errors = 0;
  /** Counts per {@linkcode LATENCY_BOUNDS_MS} bucket (one more for "above"). */
  readonly latency: number[] = Array(LATENCY_BOUNDS_MS.length + 1).fill(0);
  #state?: () => ServiceState;
  readonly #listeners = new Set<(e: ServiceEvent) => void>();

  constructor(service: string) {
    this.service = service;
  }

  /** One request served in `serviceMs`; an error reply names the peer and the reason. */
  served(serviceMs: number, error: boolean, peer?: string, reason?: string): void {
    this.requests++;
    let i = 0;
    while (i < LATENCY_BOUNDS_MS.length && serviceMs > LATENCY_BOUNDS_MS[i]) i++;
    this.latency[i]++;
    if (error) {
      this.errors++;
      if (this.#listeners.size > 0) this.event("error", reason ?? "error reply", peer);
    }
  }

  /** Something worth showing: a sign-in, a registration, an expiry, a drop. */
  event(kind: EventKind, text: string, peer?: string): void {
    if (this.#listeners.size === 0) return;
    const e: ServiceEvent = { time: Date.now(), service: this.service, kind, text, peer };
    for (const listen of this.#listeners) listen(e);
  }

  /** Registers the function that returns the service's current state. */
  setState(provider: () => ServiceState): void {
    this.#state = provider;
  }

  /** The service's current state, if it reports one. */
  state(): ServiceState | undefined {
    return this.#state?.();
  }

  /** Calls `listen` for every event until the returned function is called. */
  subscribe(listen: (e: ServiceEvent) => void): () => void {
    this.#listeners.add(listen);
    return () => this.#listeners.delete(listen);
  }
}
