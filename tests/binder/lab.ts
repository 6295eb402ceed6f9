/**
 * Test helpers for exercise 4a: start a real binder and exec servers as
 * subprocesses on loopback with free ports, and talk to them over a raw socket.
 * @module
 */
import { type CliProcess, portOf, spawnCli } from "../helpers/cli.ts";
import { UdpSocket } from "../../lib/net/udp.ts";

/** A running binder subprocess and its port. */
export interface RunningServer {
  proc: CliProcess;
  port: number;
}

/** Starts `socklab binder` on 127.0.0.1 with a free port. */
export async function startBinder(extra: string[] = []): Promise<RunningServer> {
  const proc = spawnCli(["binder", "--bind", "127.0.0.1", "--port", "0", ...extra]);
  const port = portOf(await proc.stdout.waitFor(/^socklab binder: listening on UDP /));
  return { proc, port };
}

/**
 * Starts `socklab exec-server` against the binder (a port on 127.0.0.1, or a
 * `--binder` value such as `127.0.0.1:A,127.0.0.1:B`); resolves once it has registered.
 */
export async function startExecServer(
  binder: number | string,
  extra: string[] = [],
): Promise<RunningServer> {
  const proc = spawnCli([
    "exec-server",
    "--binder",
    typeof binder === "number" ? `127.0.0.1:${binder}` : binder,
    "--bind",
    "127.0.0.1",
    ...extra,
  ]);
  const port = portOf(await proc.stdout.waitFor(/^socklab exec-server: listening on UDP /));
  await proc.stdout.waitFor(/^socklab exec-server: registered /);
  return { proc, port };
}

const decoder = new TextDecoder();

/** Sends `text` to 127.0.0.1:`port` from `sock` and returns the reply text. */
export async function ask(
  sock: UdpSocket,
  port: number,
  text: string | Uint8Array,
): Promise<string> {
  const r = await sock.request(text, { hostname: "127.0.0.1", port }, { timeoutMs: 2000 });
  return decoder.decode(r.data);
}

/** A raw client socket on 127.0.0.1. */
export function rawSocket(): UdpSocket {
  return UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
}
