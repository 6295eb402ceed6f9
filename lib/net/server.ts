/**
 * Server start-up and shutdown shared by every service: the first line names
 * the address and port actually bound (so `--port 0` is scriptable), and an
 * AbortSignal closes the sockets.
 *
 * @example
 * ```ts
 * import { listenLine } from "./server.ts";
 * const line = listenLine("time-server", { transport: "udp", hostname: "0.0.0.0", port: 1501 });
 * console.assert(line === "socklab time-server: listening on UDP 0.0.0.0:1501");
 * ```
 * @module
 */
import { formatHostPort } from "./address.ts";
import { closeQuietly } from "./tcp.ts";

/** Default bind address of every server (SPEC §1). */
export const DEFAULT_BIND = "0.0.0.0";

/** `socklab NAME: listening on UDP|TCP ADDR:PORT` for services without a lecture line. */
export function listenLine(service: string, addr: Deno.NetAddr): string {
  return `socklab ${service}: listening on ${addr.transport.toUpperCase()} ${
    formatHostPort(addr.hostname, addr.port)
  }`;
}

/** Closes every closer once `signal` aborts (immediately if it already has). */
export function closeOnAbort(signal: AbortSignal, ...closers: { close(): void }[]): void {
  const close = () => closers.forEach(closeQuietly);
  if (signal.aborted) close();
  else signal.addEventListener("abort", close, { once: true });
}

/** A promise that resolves when `signal` aborts. */
export function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) =>
    signal.addEventListener("abort", () => resolve(), { once: true })
  );
}
