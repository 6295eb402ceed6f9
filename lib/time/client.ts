/**
 * `socklab time-client`: asks a time server for the time and estimates the
 * clock offset. Text mode sends `TIME` and applies Cristian's method; `--ntp`
 * sends an SNTPv4 request to any NTP server (port 123 by default) and uses
 * the four timestamps.
 *
 * ```sh
 * socklab time-client localhost --port 1501
 * socklab time-client pool.example --ntp
 * ```
 * @module
 */
import type { CommandContext } from "../cli/command.ts";
import { FailError } from "../cli/errors.ts";
import {
  intFlag,
  parseFlags,
  UDP_CLIENT_HELP,
  UDP_CLIENT_OPTIONS,
  udpClientOptions,
} from "../cli/flags.ts";
import { formatJson } from "../cli/output.ts";
import type { RequestOptions } from "../net/udp.ts";
import { UdpSocket } from "../net/udp.ts";
import { resolveTarget, serverTarget, textRequest, type UdpTarget } from "../net/udp_client.ts";
import { wallClock } from "./clock.ts";
import {
  cristianOffset,
  decodeNtp,
  DEFAULT_PORT,
  formatLocalIsoTime,
  formatReferenceId,
  LEAP_UNSYNCHRONIZED,
  NTP_PACKET_SIZE,
  NTP_PORT,
  ntpClientRequest,
  ntpEstimate,
  ntpReplyProblem,
  type NtpTimestamp,
  ntpToUnixMs,
  parseIsoTime,
  unixMsToNtp,
} from "./protocol.ts";

/** Samples taken by default: the first exchange of a process is slow, the best of 4 is not. */
export const DEFAULT_SAMPLES = 4;

const USAGE =
  "usage: socklab time-client SERVER[:PORT] [--port N] [--ntp] [--samples N] [--json] [--timeout MS] [--retries N]";
const HELP = `Asks SERVER for the time; prints the server's time, the round trip and the
clock offset (server minus local).

  --port N      server port (default ${DEFAULT_PORT}; ${NTP_PORT} with --ntp)
  --ntp         send an SNTPv4 request (any NTP server) and use its four timestamps
  --samples N   ask N times, one after the other, and keep the sample with the
                shortest round trip, the least distorted one (default ${DEFAULT_SAMPLES})
  --json        print one JSON document
${UDP_CLIENT_HELP}

Exit status: 0 the server answered, 1 no reply, refused or a bad reply, 2 usage.`;

/** What a text query found. */
export interface TextTimeResult {
  mode: "text";
  server: string;
  /** The reply exactly as sent. */
  serverTime: string;
  rttMs: number;
  offsetMs: number;
  tries: number;
  /** How many samples were taken (this is the one with the shortest round trip). */
  samples: number;
}

/** What an SNTP query found. */
export interface NtpTimeResult {
  mode: "ntp";
  server: string;
  /** The server's transmit time in this machine's zone. */
  serverTime: string;
  version: number;
  stratum: number;
  leap: number;
  referenceId: string;
  delayMs: number;
  offsetMs: number;
  tries: number;
  /** How many samples were taken (this is the one with the shortest delay). */
  samples: number;
}

/** Sends `TIME` and applies Cristian's method to the reply. */
export async function queryTextTime(
  target: UdpTarget,
  options: RequestOptions = {},
  now: () => number = () => wallClock.now(),
): Promise<TextTimeResult> {
  const reply = await textRequest(target, "TIME", options);
  const arrival = now();
  if (reply.text.startsWith("ERR")) throw new FailError(`server replied: ${reply.text}`);
  let serverMs;
  try {
    serverMs = parseIsoTime(reply.text).unixMs;
  } catch {
    throw new FailError(`server sent something that is not a time: "${reply.text.slice(0, 80)}"`);
  }
  const { offsetMs } = cristianOffset(serverMs, reply.rttMs, arrival);
  return {
    mode: "text",
    server: target.label,
    serverTime: reply.text,
    rttMs: reply.rttMs,
    offsetMs,
    tries: reply.tries,
    samples: 1,
  };
}

const stampKey = (ts: NtpTimestamp) => `${ts.seconds}.${ts.fraction}`;

/**
 * Sends an SNTPv4 client request (a fresh transmit timestamp on every try)
 * and computes offset and delay from T1..T4 of the reply that matches one.
 */
export async function queryNtpTime(
  target: UdpTarget,
  options: RequestOptions = {},
  now: () => number = () => wallClock.now(),
): Promise<NtpTimeResult> {
  const sent = new Map<string, { stamp: NtpTimestamp; t1: number }>();
  await using sock = UdpSocket.forTarget(target.hostname);
  const reply = await sock.request(
    (attempt) => {
      let t1 = now();
      let stamp = unixMsToNtp(t1);
      // Two tries in the same 2^-32 s cannot happen, but keep the keys distinct anyway.
      while (sent.has(stampKey(stamp))) stamp = unixMsToNtp(t1 += 1e-6 * attempt);
      sent.set(stampKey(stamp), { stamp, t1 });
      return ntpClientRequest(stamp);
    },
    target,
    {
      label: target.label,
      ...options,
      accept: (data, from) =>
        from.port === target.port && data.length >= NTP_PACKET_SIZE &&
        sent.has(stampKey(decodeNtp(data).originate)),
    },
  );
  const t4 = now();
  const packet = decodeNtp(reply.data);
  const ours = sent.get(stampKey(packet.originate))!;
  const problem = ntpReplyProblem(packet, ours.stamp);
  if (problem) throw new FailError(`unusable SNTP reply from ${target.label}: ${problem}`);
  const t2 = ntpToUnixMs(packet.receive, t4);
  const t3 = ntpToUnixMs(packet.transmit, t4);
  const { offsetMs, delayMs } = ntpEstimate(ours.t1, t2, t3, t4);
  return {
    mode: "ntp",
    server: target.label,
    serverTime: formatLocalIsoTime(t3),
    version: packet.version,
    stratum: packet.stratum,
    leap: packet.leap,
    referenceId: formatReferenceId(packet.referenceId, packet.stratum),
    delayMs,
    offsetMs,
    tries: reply.tries,
    samples: 1,
  };
}

/**
 * Takes `samples` results one after the other and keeps the one with the
 * shortest round trip: the exchange least distorted by queueing (NTP's clock
 * filter does the same). A sample that gets no reply (after its retries) is
 * skipped once another has answered; only when none answers is it an error.
 */
export async function bestSample<T extends TextTimeResult | NtpTimeResult>(
  samples: number,
  take: () => Promise<T>,
): Promise<T> {
  const rtt = (r: T) => r.mode === "text" ? r.rttMs : r.delayMs;
  let best: T | undefined;
  let taken = 0;
  let lastError: unknown;
  for (let i = 0; i < samples; i++) {
    let next: T;
    try {
      next = await take();
    } catch (err) {
      if (!(err instanceof FailError)) throw err;
      lastError = err;
      continue;
    }
    taken++;
    if (best === undefined || rtt(next) < rtt(best)) best = next;
  }
  if (best === undefined) throw lastError;
  return { ...best, samples: taken };
}

function ms(value: number, signed = false): string {
  const text = `${value.toFixed(3)} ms`;
  return signed && value >= 0 ? `+${text}` : text;
}

function of(samples: number): string {
  return samples > 1 ? `, best of ${samples}` : "";
}

/** The lines `time-client` prints for a result. */
export function formatTimeResult(r: TextTimeResult | NtpTimeResult): string[] {
  if (r.mode === "text") {
    return [
      `server time   ${r.serverTime}`,
      `round trip    ${ms(r.rttMs)}`,
      `clock offset  ${ms(r.offsetMs, true)} (server - local, Cristian's method${of(r.samples)})`,
    ];
  }
  const leap = r.leap === LEAP_UNSYNCHRONIZED ? ", clock NOT synchronized" : "";
  return [
    `server time   ${r.serverTime}`,
    `server        NTPv${r.version}, stratum ${r.stratum}, reference ${r.referenceId}${leap}`,
    `delay         ${ms(r.delayMs)}`,
    `clock offset  ${ms(r.offsetMs, true)} (server - local, SNTP timestamps${of(r.samples)})`,
  ];
}

/** CLI entry point. */
export async function main(args: string[], ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    usage: USAGE,
    help: HELP,
    minPositionals: 1,
    maxPositionals: 1,
    options: {
      port: { type: "string" },
      ntp: { type: "boolean" },
      json: { type: "boolean" },
      samples: { type: "string" },
      ...UDP_CLIENT_OPTIONS,
    },
  });
  const samples = intFlag(values.samples, "samples", 1, 100, DEFAULT_SAMPLES);
  const hostPort = serverTarget(
    positionals[0],
    values.port,
    values.ntp ? NTP_PORT : DEFAULT_PORT,
    USAGE,
  );
  const request = { ...udpClientOptions(values), signal: ctx.signal };
  const target = await resolveTarget(hostPort);
  const result = values.ntp
    ? await bestSample(samples, () => queryNtpTime(target, request))
    : await bestSample(samples, () => queryTextTime(target, request));
  console.log(values.json ? formatJson(result) : formatTimeResult(result).join("\n"));
  return 0;
}
