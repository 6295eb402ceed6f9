/**
 * The lab's counters as Prometheus metric families (pure: counters in,
 * families out; metrics.ts writes them as text). Every series is labelled
 * with the service's name as the console shows it (`exec-server 2`).
 *
 * ```text
 * socklab_service_info{service,transport,address} 1     gauge
 * socklab_service_up{service}                           gauge 1/0
 * socklab_requests_total{service}                       counter
 * socklab_error_replies_total{service}                  counter
 * socklab_service_time_seconds{service}                 histogram (_bucket{le}, _sum, _count)
 * socklab_chat_members{service}                         gauge
 * socklab_chat_lines_total{service}                     counter
 * socklab_chat_dropped_total{service,reason=slow|dead}  counter
 * socklab_binder_records{service}                       gauge
 * socklab_registry_names{service}                       gauge
 * socklab_console_browsers                              gauge
 * socklab_console_browsers_dropped_total                counter
 * ```
 *
 * @example
 * ```ts
 * import { labMetrics } from "./lab_metrics.ts";
 * import { formatMetrics } from "./metrics.ts";
 * const text = formatMetrics(labMetrics([], [], { listening: 0, dropped: 0 }));
 * console.assert(text.includes("# TYPE socklab_requests_total counter\n"));
 * ```
 * @module
 */
import { LATENCY_BOUNDS_MS } from "../net/monitor.ts";
import { histogramSamples, type MetricFamily, type MetricSample } from "./metrics.ts";
import type { StateView } from "./view.ts";

/** What the page and /metrics both show of a service: its name, address, state and counts. */
export interface ServiceTotals {
  label: string;
  transport: "udp" | "tcp";
  address: string;
  up: boolean;
  requests: number;
  errors: number;
}

/** One service's counters at scrape time. */
export interface ServiceCounters extends ServiceTotals {
  /** Counts per LATENCY_BOUNDS_MS bucket, plus one for "above". */
  latency: readonly number[];
  totalMs: number;
}

/** The console's own browsers. */
export interface BrowserCounters {
  listening: number;
  dropped: number;
}

const BOUNDS_S = LATENCY_BOUNDS_MS.map((ms) => ms / 1000);

function family(
  name: string,
  type: MetricFamily["type"],
  help: string,
  samples: MetricSample[],
): MetricFamily {
  return { name, help, type, samples };
}

/** The per-service families: info, up, requests, errors, service time. */
function serviceFamilies(services: readonly ServiceCounters[]): MetricFamily[] {
  const per = (value: (s: ServiceCounters) => number) =>
    services.map((s) => ({ labels: { service: s.label }, value: value(s) }));
  return [
    family(
      "socklab_service_info",
      "gauge",
      "A lab service, with its transport and the address it bound.",
      services.map((s) => ({
        labels: { service: s.label, transport: s.transport, address: s.address },
        value: 1,
      })),
    ),
    family(
      "socklab_service_up",
      "gauge",
      "1 while the service runs, 0 once it stopped.",
      per((s) => s.up ? 1 : 0),
    ),
    family(
      "socklab_requests_total",
      "counter",
      "Requests served, error replies included.",
      per((s) => s.requests),
    ),
    family(
      "socklab_error_replies_total",
      "counter",
      "Requests answered with an error reply.",
      per((s) => s.errors),
    ),
    family(
      "socklab_service_time_seconds",
      "histogram",
      "Time from a request's arrival to its reply.",
      services.flatMap((s) =>
        histogramSamples({ service: s.label }, BOUNDS_S, s.latency, s.totalMs / 1000)
      ),
    ),
  ];
}

/** The families read from the services' states: chat, binder, registry. */
function stateFamilies(states: readonly StateView[]): MetricFamily[] {
  const chats = states.flatMap((v) => v.kind === "chat" ? [v] : []);
  const count = (kind: StateView["kind"]) =>
    states.filter((v) => v.kind === kind).map((v) => ({
      labels: { service: v.service },
      value: v.count,
    }));
  return [
    family("socklab_chat_members", "gauge", "Members signed in to the chat.", count("chat")),
    family(
      "socklab_chat_lines_total",
      "counter",
      "Chat lines relayed to the room.",
      chats.map((v) => ({ labels: { service: v.service }, value: v.lines })),
    ),
    family(
      "socklab_chat_dropped_total",
      "counter",
      "Chat members dropped, by reason: a reader too slow, or a dead connection.",
      chats.flatMap((v) => [
        { labels: { service: v.service, reason: "slow" }, value: v.droppedSlow },
        { labels: { service: v.service, reason: "dead" }, value: v.droppedDead },
      ]),
    ),
    family("socklab_binder_records", "gauge", "Records in the binder's table.", count("binder")),
    family("socklab_registry_names", "gauge", "Names registered.", count("registry")),
  ];
}

/** Every family of the lab console's `/metrics`. */
export function labMetrics(
  services: readonly ServiceCounters[],
  states: readonly StateView[],
  browsers: BrowserCounters,
): MetricFamily[] {
  return [
    ...serviceFamilies(services),
    ...stateFamilies(states),
    family(
      "socklab_console_browsers",
      "gauge",
      "Browsers listening to the console's event stream.",
      [
        { value: browsers.listening },
      ],
    ),
    family(
      "socklab_console_browsers_dropped_total",
      "counter",
      "Browsers whose event stream was cut because they read too slowly.",
      [{ value: browsers.dropped }],
    ),
  ];
}
