/**
 * The console's HTTP server for a test: `hub` served on a free loopback port,
 * stopped (every event stream ended, the server finished) when disposed.
 *
 * @example
 * ```ts ignore
 * await using server = await serveConsole(new ConsoleHub({}));
 * const res = await fetch(`${server.url}metrics`);
 * ```
 * @module
 */
import type { ConsoleHub } from "../../lib/console/hub.ts";
import { type ConsoleServer, startConsoleServer } from "../../lib/console/server.ts";

/** Serves `hub` on 127.0.0.1 and a free port until disposed. */
export async function serveConsole(hub: ConsoleHub): Promise<ConsoleServer & AsyncDisposable> {
  const stop = new AbortController();
  const server = await startConsoleServer(hub, {
    hostname: "127.0.0.1",
    port: 0,
    signal: stop.signal,
  });
  return {
    ...server,
    async [Symbol.asyncDispose]() {
      stop.abort();
      await server.finished;
    },
  };
}
