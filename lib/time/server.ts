/**
 * `socklab time-server`: exercise 1's time service. Answers a text request
 * (`TIME`, or an empty datagram) with ISO 8601 local time to the millisecond,
 * and an SNTPv4 client packet with a server-mode packet, so `chronyd`,
 * `rdate -n` or `ntpdate -q` can query it as well as `socklab time-client`.
 *
 * ```sh
 * socklab time-server --port 1501
 * ```
 * @module
 */
import type { CommandContext } from "../cli/command.ts";
import { intFlag, parseServerFlags, serverHelp } from "../cli/flags.ts";
import type { ServiceMonitor } from "../net/monitor.ts";
import { bindUdp } from "../net/udp.ts";
import type { UdpHandler } from "../net/udp_serve.ts";
import { runUdpService } from "../net/udp_service.ts";
import { LastExchange } from "../net/udp_text.ts";
import { wallClock } from "./clock.ts";
import {
  classifyRequest,
  DEFAULT_PORT,
  formatLocalIsoTime,
  type NtpServerClock,
  ntpServerReply,
} from "./protocol.ts";

const USAGE = "usage: socklab time-server [--port N] [--bind ADDR] [--stratum N]";
const HELP = `Answers "TIME" (or an empty datagram) with the time in ISO 8601, e.g.
2026-11-24T08:02:11.123+02:00, and SNTPv4 client packets with server replies.

${serverHelp(DEFAULT_PORT)}
  --stratum N  stratum in SNTP replies, 1-15 (default 10: a local clock, as
               chrony's "local stratum 10")

Exit status: 0 after SIGINT or SIGTERM, 1 cannot bind, 2 usage.`;

/** Default stratum: a local clock that other servers rank below real references. */
export const DEFAULT_STRATUM = 10;

/** The local-clock reference id 127.127.1.1 (as chrony and ntpd use for `local`). */
const LOCAL_REFERENCE_ID = new Uint8Array([127, 127, 1, 1]);

/** Options of {@linkcode timeHandler}. */
export interface TimeHandlerOptions {
  /** Reads the wall clock, Unix ms (default: the sub-millisecond system clock). */
  now?: () => number;
  /** Stratum in SNTP replies (default {@linkcode DEFAULT_STRATUM}). */
  stratum?: number;
}

/** The time service as a datagram handler (text, SNTP, ERR or silence). */
export function timeHandler(options: TimeHandlerOptions = {}): UdpHandler {
  const now = options.now ?? (() => wallClock.now());
  // The text reply has millisecond resolution: the coarse clock is enough, and
  // half the cost of the sub-millisecond one (which SNTP replies need).
  const millis = options.now ?? Date.now;
  const started = now();
  const clock: NtpServerClock = {
    stratum: options.stratum ?? DEFAULT_STRATUM,
    referenceId: LOCAL_REFERENCE_ID,
    precision: -20, // about a microsecond: the resolution of the clock we read
    rootDispersion: 0.001,
    referenceMs: started,
  };
  const text = new MillisecondReply();
  // A client repeating its text request (`TIME`) is known by its bytes.
  const lastText = new LastExchange<true>();
  return (data) => {
    if (lastText.reply(data)) return text.at(millis());
    const request = classifyRequest(data);
    switch (request.kind) {
      case "text":
        lastText.remember(data, true);
        return text.at(millis());
      case "ntp": {
        const received = now();
        // "Last set" must not lag the reply by more than a poll interval or clients
        // grow their dispersion estimate; the system clock is read on every request.
        clock.referenceMs = Math.floor(received / 1000) * 1000;
        return ntpServerReply(request.packet, received, now(), clock);
      }
      case "error":
        return `ERR ${request.reason}`;
      default:
        return null;
    }
  };
}

const encoder = new TextEncoder();

/** The text reply of one millisecond, encoded once: a busy server sends it hundreds of times. */
class MillisecondReply {
  #ms = NaN;
  #bytes = new Uint8Array(0);

  /** The reply for the millisecond `unixMs` falls in. */
  at(unixMs: number): Uint8Array {
    const ms = Math.floor(unixMs);
    if (ms !== this.#ms) {
      this.#ms = ms;
      this.#bytes = encoder.encode(formatLocalIsoTime(ms));
    }
    return this.#bytes;
  }
}

/** Options of {@linkcode runTimeServer}. */
export interface TimeServerOptions extends TimeHandlerOptions {
  signal: AbortSignal;
  /** Where the start-up line and errors go (default console.log). */
  log?: (line: string) => void;
  /** Told about every request answered (the lab console). */
  monitor?: ServiceMonitor;
}

/** Serves the time on an already bound socket until the signal aborts. */
export async function runTimeServer(
  conn: Deno.DatagramConn,
  options: TimeServerOptions,
): Promise<void> {
  const { signal, monitor, log } = options;
  await runUdpService("time-server", conn, timeHandler(options), { signal, monitor, log });
}

/** CLI entry point. */
export async function main(args: string[], ctx: CommandContext): Promise<number> {
  const { values, address } = parseServerFlags(args, {
    usage: USAGE,
    help: HELP,
    defaultPort: DEFAULT_PORT,
    options: { stratum: { type: "string" } },
  });
  const stratum = intFlag(values.stratum, "stratum", 1, 15, DEFAULT_STRATUM);
  await runTimeServer(bindUdp(address), { signal: ctx.signal, stratum });
  return 0;
}
