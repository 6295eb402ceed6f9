/**
 * What the generator's end-to-end tests aim at, each on a free loopback port
 * (dispose to stop it): the lecture's C `udp_echo`, and socklab's chat-server.
 * @module
 */
import { argv, spawnProgram } from "../helpers/cli.ts";
import { peerPath } from "../helpers/peers.ts";
import { type RunningServer, startServer, whenStarted } from "../helpers/server.ts";

/** Starts `udp_echo 0 127.0.0.1` and reads the port it bound. */
export function startUdpEcho(): Promise<RunningServer> {
  const proc = spawnProgram([peerPath("lecture:udp_echo"), "0", "127.0.0.1"], { stdin: false });
  return whenStarted(proc, /listening on UDP port \d+/);
}

/** Starts `socklab chat-server` on 127.0.0.1 (TCP). */
export function startChatServer(): Promise<RunningServer> {
  return startServer(argv`chat-server --port 0 --bind 127.0.0.1`, /listening on TCP/, {
    stdin: false,
  });
}
