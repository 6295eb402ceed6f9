/**
 * The lecture's C `udp_echo` on a free loopback port, for the generator's
 * end-to-end tests (dispose to stop it).
 * @module
 */
import { type CliProcess, portOf, spawnProgram } from "../helpers/cli.ts";
import { peerPath } from "../helpers/peers.ts";

/** A running C udp_echo and its port. */
export interface UdpEcho extends AsyncDisposable {
  port: number;
  proc: CliProcess;
}

/** Starts `udp_echo 0 127.0.0.1` and reads the port it bound. */
export async function startUdpEcho(): Promise<UdpEcho> {
  const proc = spawnProgram([peerPath("lecture:udp_echo"), "0", "127.0.0.1"], { stdin: false });
  const port = portOf(await proc.stdout.waitFor(/listening on UDP port \d+/));
  return { port, proc, [Symbol.asyncDispose]: () => proc[Symbol.asyncDispose]() };
}
