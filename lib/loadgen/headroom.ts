/**
 * The load generator's own cost, so a reader can tell a slow server from a
 * slow generator: the CPU time this process used during a run (user +
 * system, every thread) and how its busy time splits between sending and
 * handling replies. A generator that used well under one core while the
 * target's rate stayed flat is not what limited the figure.
 *
 * @example
 * ```ts
 * import { Headroom } from "./headroom.ts";
 * const meter = Headroom.start();
 * const t = meter.mark();
 * meter.sent(t); // time since the mark counts as sending
 * const h = meter.finish(1000);
 * console.assert(h.cpuMs >= 0 && h.sendMs >= 0);
 * ```
 * @module
 */
import process from "node:process";

/** What the generator spent during a run. */
export interface HeadroomReport {
  /** CPU time of the whole generator process (user + system, all threads). */
  cpuMs: number;
  /** cpuMs as a share of the run's wall time (1 = one core busy all the time). */
  cores: number;
  /** Wall time inside send calls. */
  sendMs: number;
  /** Wall time handling what arrived (pairing, timing, counting). */
  receiveMs: number;
  /** The rest of the run: waiting for replies (the target's time) and timers. */
  waitMs: number;
  /**
   * CPU share of the busiest thread of the process (1 = a core all the time;
   * Linux only, else NaN). Near 1, that thread (a JavaScript thread or the
   * I/O thread) is what limits the generator.
   */
  busiestThread: number;
}

/** CPU ms of every thread of this process, from /proc/self/task (empty elsewhere). */
export function threadCpuMs(): Map<string, number> {
  const out = new Map<string, number>();
  try {
    for (const t of Deno.readDirSync("/proc/self/task")) {
      try {
        const stat = Deno.readTextFileSync(`/proc/self/task/${t.name}/stat`);
        const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        out.set(t.name, (Number(f[11]) + Number(f[12])) * 10); // clock ticks of 10 ms
      } catch {
        // the thread ended meanwhile
      }
    }
  } catch {
    // no /proc
  }
  return out;
}

/** Accumulates the generator's send and receive time; reads its CPU time at both ends. */
export class Headroom {
  readonly #cpu0: ReturnType<typeof process.cpuUsage>;
  readonly #threads0 = threadCpuMs();
  #sendMs = 0;
  #receiveMs = 0;

  private constructor() {
    this.#cpu0 = process.cpuUsage();
  }

  /** Starts measuring now. */
  static start(): Headroom {
    return new Headroom();
  }

  /** The current time, to pass to {@linkcode sent} or {@linkcode received} later. */
  mark(): number {
    return performance.now();
  }

  /** Counts the time since `from` as sending; returns now. */
  sent(from: number): number {
    const now = performance.now();
    this.#sendMs += now - from;
    return now;
  }

  /** Counts the time since `from` as handling replies; returns now. */
  received(from: number): number {
    const now = performance.now();
    this.#receiveMs += now - from;
    return now;
  }

  /** The report for a run that lasted `elapsedMs`. */
  finish(elapsedMs: number): HeadroomReport {
    const cpu = process.cpuUsage(this.#cpu0);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    let busiest = NaN;
    for (const [tid, ms] of threadCpuMs()) {
      const used = ms - (this.#threads0.get(tid) ?? 0);
      if (!(used <= busiest)) busiest = used;
    }
    return {
      busiestThread: elapsedMs > 0 ? busiest / elapsedMs : NaN,
      cpuMs,
      cores: elapsedMs > 0 ? cpuMs / elapsedMs : 0,
      sendMs: this.#sendMs,
      receiveMs: this.#receiveMs,
      waitMs: Math.max(0, elapsedMs - this.#sendMs - this.#receiveMs),
    };
  }
}
