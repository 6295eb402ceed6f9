/**
 * Test helpers for exercise 4a: start a real binder and exec servers as
 * subprocesses on loopback with free ports, and talk to them over a raw socket.
 * @module
 */
import { assertEquals } from "../helpers/assert.ts";
import { argv } from "../helpers/cli.ts";
import { type RunningServer, startServer } from "../helpers/server.ts";
import { UdpSocket } from "../../lib/net/udp.ts";

export type { RunningServer };

/** Starts `socklab binder` on 127.0.0.1 with a free port. */
export function startBinder(extra: string[] = []): Promise<RunningServer> {
  return startServer(
    argv`binder --bind 127.0.0.1 --port 0 ${extra}`,
    /^socklab binder: listening on UDP /,
  );
}

/**
 * Starts `socklab exec-server` against the binder (a port on 127.0.0.1, or a
 * `--binder` value such as `127.0.0.1:A,127.0.0.1:B`); resolves once it has registered.
 */
export async function startExecServer(
  binder: number | string,
  extra: string[] = [],
): Promise<RunningServer> {
  const at = typeof binder === "number" ? `127.0.0.1:${binder}` : binder;
  const server = await startServer(
    argv`exec-server --binder ${at} --bind 127.0.0.1 ${extra}`,
    /^socklab exec-server: listening on UDP /,
  );
  try {
    await server.proc.stdout.waitFor(/^socklab exec-server: registered /);
  } catch (err) {
    await server[Symbol.asyncDispose]();
    throw err;
  }
  return server;
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

/**
 * The LIST reply of a table that holds MAX and MIN, both served from
 * 127.0.0.1:`port` with a TTL of 30 s (29 once a second went by).
 */
export function listOfMaxMin(port: number): RegExp {
  const record = (name: string) => `${name} 127\\.0\\.0\\.1 ${port} (30|29)`;
  return new RegExp(`^OK LIST 2\n${record("MAX")}\n${record("MIN")}$`);
}

/**
 * `sock` sends `request` (a REGISTER of `names` into an empty table) to
 * `binder`: the reply is `OK REGISTER NAMES`, and the binder logs the new
 * records with their source address and the table's new size.
 */
export async function registerInto(
  binder: RunningServer,
  sock: UdpSocket,
  request: string,
  names: string,
): Promise<void> {
  assertEquals(await ask(sock, binder.port, request), `OK REGISTER ${names}`);
  const n = names.split(" ").length;
  await binder.proc.stdout.waitFor(
    new RegExp(`REGISTER ${names} from 127\\.0\\.0\\.1:\\d+ \\(${n} new\\); table has ${n}`),
  );
}
