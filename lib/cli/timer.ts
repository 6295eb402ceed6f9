/**
 * Timers that cost a command nothing at start-up. Deno 2.9's global
 * `setTimeout` is node:timers': its first call loads Deno's Node layer
 * (internal errors, uv, inspect, async hooks), about 13 ms of CPU — a fifth
 * of Deno's whole start-up, and the largest part of what `socklab dns` cost
 * beyond a hello world. `AbortSignal.timeout` runs on Deno's web timers,
 * which are already loaded, and keeps the process alive just the same.
 *
 * @example
 * ```ts
 * import { after, sleep } from "./timer.ts";
 * let fired = false;
 * const cancel = after(10_000, () => fired = true);
 * cancel();
 * await sleep(1);
 * console.assert(!fired);
 * ```
 * @module
 */

/** Calls `fn` once after `ms` milliseconds; the result cancels it. */
export function after(ms: number, fn: () => void): () => void {
  const signal = AbortSignal.timeout(Math.max(0, Math.round(ms)));
  const listener = () => fn();
  signal.addEventListener("abort", listener, { once: true });
  return () => signal.removeEventListener("abort", listener);
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => after(ms, resolve));
}
