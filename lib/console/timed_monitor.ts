/**
 * The monitor the lab console hands each service: a ServiceMonitor (the same
 * three methods servers call) that also adds up the service time, which the
 * Prometheus histogram's `_sum` needs. Servers see a plain ServiceMonitor.
 *
 * @example
 * ```ts
 * import { TimedMonitor } from "./timed_monitor.ts";
 * const m = new TimedMonitor("rates-server");
 * m.served(0.5, false);
 * m.served(1.5, true, "127.0.0.1:4000", "ERR unknown currency XYZ");
 * console.assert(m.requests === 2 && m.totalMs === 2);
 * ```
 * @module
 */
import { ServiceMonitor } from "../net/monitor.ts";

/** A ServiceMonitor that keeps the total service time as well. */
export class TimedMonitor extends ServiceMonitor {
  /** Sum of every served request's service time, in ms. */
  totalMs = 0;

  override served(serviceMs: number, error: boolean, peer?: string, reason?: string): void {
    if (serviceMs > 0) this.totalMs += serviceMs;
    super.served(serviceMs, error, peer, reason);
  }
}
