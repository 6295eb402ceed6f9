/**
 * `socklab chat-server`: exercise 4b's chat server, TCP by default, `--udp`
 * for the datagram variant, `--redis URL` to share one room with other
 * instances. The library functions are in tcp_server.ts, udp_server.ts and
 * redis_bus.ts; this is the thin command.
 *
 * ```sh
 * socklab chat-server --port 5600
 * socklab chat-server --udp --port 5600 --max-clients 100
 * socklab chat-server --redis redis://127.0.0.1:6379 --room lab --port 5601
 * ```
 * @module
 */
import type { CommandContext } from "../cli/command.ts";
import { UsageError } from "../cli/errors.ts";
import { intFlag, parseFlags, SERVER_OPTIONS, serverAddress } from "../cli/flags.ts";
import { formatAddr } from "../net/address.ts";
import { listenTcp } from "../net/tcp.ts";
import { bindUdp } from "../net/udp.ts";
import type { RoomBus } from "./bus.ts";
import { DEFAULT_MAX_LINE, DEFAULT_PORT } from "./protocol.ts";
import {
  type ChatServerOptions,
  DEFAULT_MAX_CLIENTS,
  DEFAULT_MAX_QUEUE,
  DEFAULT_SIGNIN_TIMEOUT_MS,
  runTcpChatServer,
} from "./tcp_server.ts";
import { DEFAULT_MEMBER_TTL_MS, runUdpChatServer } from "./udp_server.ts";

/** Default `--room`. */
export const DEFAULT_ROOM = "lab";

const USAGE =
  "usage: socklab chat-server [--port N] [--bind ADDR] [--udp] [--redis URL [--room NAME]]\n" +
  "         [--max-clients N] [--max-per-source N] [--max-queue BYTES] [--max-line BYTES]\n" +
  "         [--signin-timeout S] [--member-ttl S]";
const HELP = `A chat room. Clients send lines (TCP: one per line; UDP: one per datagram):
  signin NAME          join under a unique NAME (letters, digits, _ . -; at most 32)
  chat TEXT            every member gets "Msg NAME says: TEXT", the sender too
  who [NAME]           the reply lists every member: "Users: n1 n2 ..." (NAME is ignored)
  signout [NAME]       leave (NAME, if given, must be your own); you may sign in again
  help                 one line naming the commands
A client that has not signed in is told once how to; nothing it sends but
signin and help reaches the room. Joins, leaves and drops are logged on stdout.
TCP: a client that lags while still reading pauses everyone's input until it
catches up (nobody loses a line); one that takes nothing for 1 s with more than
--max-queue queued is dropped. UDP: a signin is confirmed by sending back the
cookie of the server's CONFIRM line (the address proves it receives); silent
members are signed out (an empty line keeps one in).

  --port N             port (default ${DEFAULT_PORT}; 0 = any free port)
  --bind ADDR          address to bind (default 0.0.0.0; "::" for IPv6)
  --udp                serve over UDP instead of TCP
  --redis URL          share one room with every instance started with the same Redis
                       and room (URL: redis://[[USER]:PASSWORD@]HOST[:PORT][/DB])
  --room NAME          the shared room (default ${DEFAULT_ROOM}; letters, digits, _ . -)
  --max-clients N      most clients at once (default ${DEFAULT_MAX_CLIENTS}; TCP: connections,
                       UDP: members)
  --max-per-source N   most of them from one address (default a quarter of
                       --max-clients, at least 16)
  --max-queue BYTES    TCP: outgoing queue per client (default ${DEFAULT_MAX_QUEUE})
  --max-line BYTES     longest line accepted (default ${DEFAULT_MAX_LINE}); longer: ERR reply
  --signin-timeout S   TCP: close a connection that has not signed in after S seconds
                       (default ${DEFAULT_SIGNIN_TIMEOUT_MS / 1000})
  --member-ttl S       UDP: sign out a member silent for S seconds (default ${
  DEFAULT_MEMBER_TTL_MS / 1000
})

Exit status: 0 after SIGINT/SIGTERM, 1 when the port or Redis cannot be used, 2 usage.`;

const OPTIONS = {
  ...SERVER_OPTIONS,
  udp: { type: "boolean" },
  redis: { type: "string" },
  room: { type: "string" },
  "max-clients": { type: "string" },
  "max-per-source": { type: "string" },
  "max-queue": { type: "string" },
  "max-line": { type: "string" },
  "signin-timeout": { type: "string" },
  "member-ttl": { type: "string" },
} as const;

type Values = ReturnType<typeof parseFlags<typeof OPTIONS>>["values"];

/** CLI entry point. */
export async function main(args: string[], ctx: CommandContext): Promise<number> {
  const { values } = parseFlags(args, {
    usage: USAGE,
    help: HELP,
    maxPositionals: 0,
    options: OPTIONS,
  });
  const { addr, options } = checked(values, ctx.signal);
  const udp = values.udp === true;
  // Redis first: a bad URL or a Redis that does not answer fails before any port is taken.
  const redis = values.redis === undefined ? undefined : await openRedisRoom(values.redis);
  let bus: RoomBus | undefined;
  try {
    const listener = udp ? bindUdp(addr) : listenTcp(addr);
    const bound = formatAddr(listener.addr as Deno.NetAddr);
    if (redis) {
      bus = await redis.join(values.room ?? DEFAULT_ROOM, `${udp ? "udp" : "tcp"}/${bound}`);
    }
    if (udp) await runUdpChatServer(listener as Deno.DatagramConn, { ...options, bus });
    else await runTcpChatServer(listener as Deno.TcpListener, { ...options, bus });
  } finally {
    await bus?.close();
    await redis?.close();
  }
  return 0;
}

/** The options from the flags, checked before any I/O. */
function checked(values: Values, signal: AbortSignal) {
  try {
    const maxClients = intFlag(
      values["max-clients"],
      "max-clients",
      1,
      1_000_000,
      DEFAULT_MAX_CLIENTS,
    );
    const seconds = (name: string, fallbackMs: number) =>
      1000 * intFlag(values[name as keyof Values] as string, name, 1, 86_400, fallbackMs / 1000);
    const options: ChatServerOptions = {
      signal,
      maxClients,
      maxPerSource: values["max-per-source"] === undefined
        ? undefined
        : intFlag(values["max-per-source"], "max-per-source", 1, maxClients),
      maxQueue: intFlag(values["max-queue"], "max-queue", 1024, 1 << 30, DEFAULT_MAX_QUEUE),
      maxLine: intFlag(values["max-line"], "max-line", 16, 65000, DEFAULT_MAX_LINE),
      signinTimeoutMs: seconds("signin-timeout", DEFAULT_SIGNIN_TIMEOUT_MS),
      memberTtlMs: seconds("member-ttl", DEFAULT_MEMBER_TTL_MS),
    };
    conflicts(values);
    return { addr: serverAddress(values, DEFAULT_PORT), options };
  } catch (err) {
    // intFlag's errors carry no usage line: add ours.
    if (err instanceof UsageError && !err.usage) throw new UsageError(err.message, USAGE);
    throw err;
  }
}

function conflicts(values: Values): void {
  const only = (flag: string, given: unknown, udp: boolean, why: string) => {
    if (given !== undefined && (values.udp === true) !== udp) {
      throw new UsageError(`Cannot use --${flag} ${udp ? "without" : "with"} --udp: ${why}`);
    }
  };
  only("max-queue", values["max-queue"], false, "a UDP server queues nothing");
  only("signin-timeout", values["signin-timeout"], false, "UDP strangers hold no connection");
  only("member-ttl", values["member-ttl"], true, "a TCP member leaves when its connection does");
  if (values.room !== undefined && values.redis === undefined) {
    throw new UsageError("Cannot use --room without --redis: a lone server has one room");
  }
  if (values.room !== undefined && !/^[A-Za-z0-9_.-]{1,64}$/.test(values.room)) {
    throw new UsageError(`Cannot use --room "${values.room}": use 1-64 letters, digits, _ . -`);
  }
}

/**
 * A connected Redis that can join a room; loads npm `redis` (only with --redis).
 * `where` in join() names the instance in Redis (`tcp/127.0.0.1:5600`).
 */
export async function openRedisRoom(url: string, log?: (line: string) => void): Promise<{
  join(room: string, where: string): Promise<RoomBus>;
  close(): Promise<void>;
}> {
  const { redisFlag, connectRedis } = await import("../redis/connection.ts");
  const { RedisBus } = await import("./redis_bus.ts");
  const target = redisFlag(url);
  const redis = await connectRedis(target, { prefix: "socklab chat-server", log });
  return {
    join: (room: string, where: string) => {
      const instance = `${where}/${crypto.randomUUID().slice(0, 8)}`;
      return RedisBus.open(redis, { room, instance });
    },
    close: () => redis.close(),
  };
}
