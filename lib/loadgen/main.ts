/**
 * `socklab bench`: load generators for the lab's services, like iperf3 for
 * this lab. Each mode runs for a bounded time, prints a report line per
 * interval (stdout, piped or not), shows a live status line on a terminal
 * (stderr), then prints a summary table, or one JSON document with `--json`.
 * One file per mode: udp_command.ts, tcp_command.ts, chat_command.ts.
 *
 * ```sh
 * socklab bench udp 127.0.0.1:1502 --payload USD --concurrency 64 --duration 5
 * socklab bench tcp 127.0.0.1:9000 --bytes 1G -P 4
 * socklab bench chat 127.0.0.1:5600 --clients 200 --per-client 20 --duration 5
 * ```
 * @module
 */
import type { CommandContext } from "../cli/command.ts";
import { UsageError } from "../cli/errors.ts";
import { parseFlags } from "../cli/flags.ts";
import { benchChat, CHAT_HELP, CHAT_USAGE } from "./chat_command.ts";
import { benchTcp, TCP_HELP, TCP_USAGE } from "./tcp_command.ts";
import { benchUdp, UDP_HELP, UDP_USAGE } from "./udp_command.ts";

const USAGE = [UDP_USAGE, TCP_USAGE, CHAT_USAGE].join("\n").replaceAll("\nusage:", "\n      ");

const HELP = `Load generators for the lab's services. Each runs for a bounded time, prints a
line per interval, shows a live status line on a terminal (stderr), then prints
a summary (--json: one JSON document). Run "socklab bench MODE --help" for one
mode's options.

  udp   request/reply rate, latency percentiles and histogram, losses of a UDP service
  tcp   throughput to or from a TCP peer (nc, socat, socklab nc), several streams
  chat  fan-out deliveries per second and delivery latency of chat servers`;

/** One mode of `socklab bench`. */
interface Mode {
  usage: string;
  help: string;
  run(args: string[], ctx: CommandContext): Promise<number>;
}

/** Every mode, by name. */
export const MODES: Record<string, Mode> = {
  udp: { usage: UDP_USAGE, help: UDP_HELP, run: benchUdp },
  tcp: { usage: TCP_USAGE, help: TCP_HELP, run: benchTcp },
  chat: { usage: CHAT_USAGE, help: CHAT_HELP, run: benchChat },
};

/** CLI entry point. */
export function main(args: string[], ctx: CommandContext): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name.startsWith("-")) {
    parseFlags(args, { usage: USAGE, help: HELP, options: {}, maxPositionals: 0 });
    throw new UsageError("Missing mode (udp, tcp or chat)", USAGE);
  }
  if (!Object.hasOwn(MODES, name)) {
    throw new UsageError(`Unknown mode "${name}" (use udp, tcp or chat)`, USAGE);
  }
  return MODES[name].run(rest, ctx);
}
