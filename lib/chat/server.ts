/**
 * `socklab chat-server`: exercise 4b's chat server, TCP by default, `--udp`
 * for the datagram variant. The library functions are in tcp_server.ts and
 * udp_server.ts; this is the thin command.
 *
 * ```sh
 * socklab chat-server --port 5600
 * socklab chat-server --udp --port 5600 --max-clients 100
 * ```
 * @module
 */
import type { CommandContext } from "../cli/command.ts";
import { UsageError } from "../cli/errors.ts";
import { intFlag, parseFlags, SERVER_OPTIONS, serverAddress, serverHelp } from "../cli/flags.ts";
import { listenTcp } from "../net/tcp.ts";
import { bindUdp } from "../net/udp.ts";
import { DEFAULT_MAX_LINE, DEFAULT_PORT } from "./protocol.ts";
import {
  type ChatServerOptions,
  DEFAULT_MAX_CLIENTS,
  DEFAULT_MAX_QUEUE,
  DEFAULT_SIGNIN_TIMEOUT_MS,
  runTcpChatServer,
} from "./tcp_server.ts";
import { runUdpChatServer } from "./udp_server.ts";

const USAGE =
  "usage: socklab chat-server [--port N] [--bind ADDR] [--udp] [--max-clients N] [--max-queue BYTES] [--max-line BYTES] [--signin-timeout S]";
const HELP = `A chat room. Clients send lines (TCP: one per line; UDP: one per datagram):
  signin NAME    join under a unique NAME (letters, digits, _ . -; at most 32)
  chat TEXT      every member gets "Msg NAME says: TEXT", the sender too
  who            the reply lists every member: "Users: n1 n2 ..."
  signout        leave
Lines from clients that have not signed in are ignored. Joins, leaves and
drops are logged on stdout. A TCP client that stops reading is disconnected
once its outgoing queue is full; the others never wait for it.

${serverHelp(DEFAULT_PORT)}
  --udp              serve over UDP instead of TCP
  --max-clients N    most clients at once (default ${DEFAULT_MAX_CLIENTS}; TCP: connections,
                     UDP: members)
  --max-queue BYTES  outgoing queue per TCP client (default ${DEFAULT_MAX_QUEUE})
  --max-line BYTES   longest line accepted (default ${DEFAULT_MAX_LINE}); longer: ERR reply
  --signin-timeout S TCP: close a connection that has not signed in after S seconds
                     (default ${
  DEFAULT_SIGNIN_TIMEOUT_MS / 1000
}), so idle strangers cannot fill the slots`;

/** CLI entry point. */
export async function main(args: string[], ctx: CommandContext): Promise<number> {
  const { values } = parseFlags(args, {
    usage: USAGE,
    help: HELP,
    maxPositionals: 0,
    options: {
      ...SERVER_OPTIONS,
      udp: { type: "boolean" },
      "max-clients": { type: "string" },
      "max-queue": { type: "string" },
      "max-line": { type: "string" },
      "signin-timeout": { type: "string" },
    },
  });
  let addr, options: ChatServerOptions;
  try {
    addr = serverAddress(values, DEFAULT_PORT);
    options = {
      signal: ctx.signal,
      maxClients: intFlag(values["max-clients"], "max-clients", 1, 1_000_000, DEFAULT_MAX_CLIENTS),
      maxQueue: intFlag(values["max-queue"], "max-queue", 1024, 1 << 30, DEFAULT_MAX_QUEUE),
      maxLine: intFlag(values["max-line"], "max-line", 16, 65000, DEFAULT_MAX_LINE),
      signinTimeoutMs: 1000 *
        intFlag(
          values["signin-timeout"],
          "signin-timeout",
          1,
          86_400,
          DEFAULT_SIGNIN_TIMEOUT_MS / 1000,
        ),
    };
  } catch (err) {
    // intFlag's errors carry no usage line: add ours.
    if (err instanceof UsageError && !err.usage) throw new UsageError(err.message, USAGE);
    throw err;
  }
  if (values.udp) {
    if (values["max-queue"] !== undefined) {
      throw new UsageError("Cannot use --max-queue with --udp: a UDP server queues nothing", USAGE);
    }
    await runUdpChatServer(bindUdp(addr), options);
  } else {
    await runTcpChatServer(listenTcp(addr), options);
  }
  return 0;
}
