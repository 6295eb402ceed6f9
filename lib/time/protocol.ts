/**
 * Exercise 1, the time service, as pure functions: the text request and its
 * ISO 8601 reply, Cristian's offset, and the SNTPv4 packet (RFC 4330 /
 * RFC 5905) with NTP timestamps and their eras. No sockets, no clock: the
 * caller passes every time in.
 *
 * Wire grammar (one UDP datagram each way):
 * ```text
 * text-request = [ "TIME" ] *( CR / LF / NUL )  ; case-insensitive; an empty datagram asks too
 * text-reply   = YYYY "-" MM "-" DD "T" hh ":" mm ":" ss "." mmm offset
 *                                              ; 2026-11-24T08:02:11.123+02:00
 * offset       = ( "+" / "-" ) hh ":" mm
 * error-reply  = "ERR " reason                  ; other text, or text over 512 bytes
 * sntp-request = 48+ bytes, LI/VN/Mode byte with mode 3 (client) and version 1-4
 * sntp-reply   = 48 bytes, mode 4 (server), version copied, originate = request's transmit
 * ignored      = binary that is not an SNTP client request (other NTP modes, invalid
 *                UTF-8, control bytes), and any datagram starting "ERR" (a reply, never
 *                a request: two servers can never ping-pong errors)
 * ```
 * @module
 */
import { decodeTextRequest } from "../net/udp_text.ts";

/** Default port of the time service (SPEC §7). */
export const DEFAULT_PORT = 1501;
/** Default port of NTP servers, for `time-client --ntp`. */
export const NTP_PORT = 123;
/** Longest text request answered (longer text gets `ERR request too long`). */
export const MAX_TEXT_REQUEST = 512;
/** Size of an SNTP packet without extensions. */
export const NTP_PACKET_SIZE = 48;
/** Seconds from the NTP epoch (1900-01-01) to the Unix epoch (1970-01-01). */
export const NTP_UNIX_OFFSET = 2_208_988_800;
/** Length of one NTP era (2^32 seconds, about 136 years), in milliseconds. */
export const NTP_ERA_MS = 2 ** 32 * 1000;

const TWO_32 = 2 ** 32;

/** What a datagram sent to the time server asks for. */
export type TimeRequest =
  | { kind: "text" }
  | { kind: "ntp"; packet: Uint8Array }
  | { kind: "error"; reason: string }
  | { kind: "ignore" };

/**
 * Classifies one datagram: a text time request, an SNTP client request, text
 * that deserves an `ERR`, or something to ignore silently.
 */
export function classifyRequest(data: Uint8Array): TimeRequest {
  if (isNtpClientRequest(data)) return { kind: "ntp", packet: data };
  const req = decodeTextRequest(data, MAX_TEXT_REQUEST);
  if (req.kind === "ignore") return { kind: "ignore" };
  if (req.kind === "error") return req;
  if (req.text === "" || req.text.toUpperCase() === "TIME") return { kind: "text" };
  return { kind: "error", reason: "unknown request (send TIME, or an SNTP client packet)" };
}

// ---------------------------------------------------------------- ISO 8601 text

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

/**
 * The ISO 8601 text of `unixMs` in the zone `offsetMinutes` east of UTC, with
 * milliseconds: `2026-11-24T08:02:11.123+02:00`.
 */
export function formatIsoTime(unixMs: number, offsetMinutes: number): string {
  const ms = Math.floor(unixMs);
  const d = new Date(ms + offsetMinutes * 60_000);
  const sign = offsetMinutes < 0 ? "-" : "+";
  const abs = Math.abs(offsetMinutes);
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${
    pad(d.getUTCHours())
  }:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}${sign}${
    pad(Math.floor(abs / 60))
  }:${pad(abs % 60)}`;
}

/** The local zone's offset east of UTC at `unixMs`, in minutes (what the server sends). */
export function localOffsetMinutes(unixMs: number): number {
  return -new Date(unixMs).getTimezoneOffset();
}

/** The text up to the minute (`2026-11-24T08:02:`) and the offset of the minute last formatted. */
let minuteCache = { start: NaN, head: "", zone: "" };

/**
 * `formatIsoTime` in this machine's zone. The zone offset and the text up to
 * the minute are computed once per minute (zone offsets change on minute
 * boundaries), which makes a busy server's reply about 3× cheaper.
 */
export function formatLocalIsoTime(unixMs: number): string {
  const ms = Math.floor(unixMs);
  const start = ms - (((ms % 60_000) + 60_000) % 60_000);
  if (start !== minuteCache.start) {
    const full = formatIsoTime(start, localOffsetMinutes(start));
    minuteCache = { start, head: full.slice(0, -12), zone: full.slice(-6) };
  }
  const inMinute = ms - start;
  const seconds = Math.floor(inMinute / 1000);
  const millis = inMinute - seconds * 1000;
  return `${minuteCache.head}${seconds < 10 ? "0" : ""}${seconds}.${
    millis < 10 ? "00" : millis < 100 ? "0" : ""
  }${millis}${minuteCache.zone}`;
}

/** A parsed text reply: the instant and the zone it was written in. */
export interface IsoTime {
  unixMs: number;
  offsetMinutes: number;
}

const ISO_RE =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?(Z|[+-]\d{2}:?\d{2})$/;

/**
 * Parses an ISO 8601 date-time with an offset (`Z` or `±hh:mm`) and an
 * optional fraction. Throws SyntaxError naming the text when it is not one.
 */
export function parseIsoTime(text: string): IsoTime {
  const m = ISO_RE.exec(text.trim());
  const bad = () => new SyntaxError(`Cannot parse time "${text.slice(0, 80)}": not ISO 8601`);
  if (!m) throw bad();
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const fields = [y, mo, d, h, mi, s].map(Number);
  if (
    fields[1] < 1 || fields[1] > 12 || fields[2] < 1 || fields[2] > 31 || fields[3] > 23 ||
    fields[4] > 59 || fields[5] > 60
  ) throw bad();
  let offsetMinutes = 0;
  if (zone !== "Z") {
    const digits = zone.replace(":", "");
    const hours = Number(digits.slice(1, 3));
    const minutes = Number(digits.slice(3, 5));
    if (hours > 23 || minutes > 59) throw bad();
    offsetMinutes = (zone[0] === "-" ? -1 : 1) * (hours * 60 + minutes);
  }
  const fraction = frac ? Number(`0.${frac}`) * 1000 : 0;
  const utc = Date.UTC(fields[0], fields[1] - 1, fields[2], fields[3], fields[4], fields[5]);
  return { unixMs: utc + fraction - offsetMinutes * 60_000, offsetMinutes };
}

/** Result of {@linkcode cristianOffset}. */
export interface CristianEstimate {
  /** Round-trip time, ms. */
  rttMs: number;
  /** Estimated server clock minus local clock, ms. */
  offsetMs: number;
}

/**
 * Cristian's method: the server read its clock about half a round trip before
 * the reply arrived, so offset = server time + RTT/2 − local time at arrival.
 */
export function cristianOffset(
  serverMs: number,
  rttMs: number,
  localArrivalMs: number,
): CristianEstimate {
  return { rttMs, offsetMs: serverMs + rttMs / 2 - localArrivalMs };
}

// ---------------------------------------------------------------- NTP timestamps

/** A raw 64-bit NTP timestamp: seconds and 2^-32 fractions, era not included. */
export interface NtpTimestamp {
  seconds: number;
  fraction: number;
}

/** The NTP timestamp of `unixMs` (era folded away: 2036-02-07 wraps to 0). */
export function unixMsToNtp(unixMs: number): NtpTimestamp {
  const wholeSeconds = Math.floor(unixMs / 1000);
  const fractionMs = unixMs - wholeSeconds * 1000;
  const seconds = (((wholeSeconds + NTP_UNIX_OFFSET) % TWO_32) + TWO_32) % TWO_32;
  const fraction = Math.min(TWO_32 - 1, Math.floor((fractionMs / 1000) * TWO_32));
  return { seconds, fraction };
}

/**
 * The Unix time (ms) of an NTP timestamp, choosing the era that puts it
 * nearest to `pivotMs` (a clock known to be within 68 years), as RFC 5905
 * §6 asks; so 2036's wrap to era 1 is handled on both sides.
 */
export function ntpToUnixMs(ts: NtpTimestamp, pivotMs: number): number {
  const base = (ts.seconds - NTP_UNIX_OFFSET) * 1000 + (ts.fraction / TWO_32) * 1000;
  const eras = Math.round((pivotMs - base) / NTP_ERA_MS);
  return base + eras * NTP_ERA_MS;
}

/** True for the all-zero timestamp ("unknown" in NTP). */
export function isZeroTimestamp(ts: NtpTimestamp): boolean {
  return ts.seconds === 0 && ts.fraction === 0;
}

// ---------------------------------------------------------------- NTP packets

/** Leap indicator 3: the clock is not synchronized. */
export const LEAP_UNSYNCHRONIZED = 3;
/** Mode 3, a client request. */
export const MODE_CLIENT = 3;
/** Mode 4, a server reply. */
export const MODE_SERVER = 4;

/** The fields of an NTP packet's 48-byte header. */
export interface NtpPacket {
  leap: number;
  version: number;
  mode: number;
  stratum: number;
  /** log2 seconds. */
  poll: number;
  /** log2 seconds. */
  precision: number;
  /** Seconds. */
  rootDelay: number;
  /** Seconds. */
  rootDispersion: number;
  /** The 4 reference-id bytes. */
  referenceId: Uint8Array;
  reference: NtpTimestamp;
  originate: NtpTimestamp;
  receive: NtpTimestamp;
  transmit: NtpTimestamp;
}

/** True when `data` is an SNTP/NTP client request (mode 3, version 1–4, 48+ bytes). */
export function isNtpClientRequest(data: Uint8Array): boolean {
  if (data.length < NTP_PACKET_SIZE) return false;
  const version = (data[0] >> 3) & 7;
  return (data[0] & 7) === MODE_CLIENT && version >= 1 && version <= 4;
}

function readTimestamp(view: DataView, at: number): NtpTimestamp {
  return { seconds: view.getUint32(at), fraction: view.getUint32(at + 4) };
}

function writeTimestamp(view: DataView, at: number, ts: NtpTimestamp): void {
  view.setUint32(at, ts.seconds);
  view.setUint32(at + 4, ts.fraction);
}

/** Decodes the 48-byte header. Throws RangeError when `data` is shorter. */
export function decodeNtp(data: Uint8Array): NtpPacket {
  if (data.length < NTP_PACKET_SIZE) {
    throw new RangeError(`NTP packet too short: ${data.length} bytes (need ${NTP_PACKET_SIZE})`);
  }
  const view = new DataView(data.buffer, data.byteOffset, NTP_PACKET_SIZE);
  return {
    leap: data[0] >> 6,
    version: (data[0] >> 3) & 7,
    mode: data[0] & 7,
    stratum: data[1],
    poll: view.getInt8(2),
    precision: view.getInt8(3),
    rootDelay: view.getInt32(4) / 65536,
    rootDispersion: view.getUint32(8) / 65536,
    referenceId: data.slice(12, 16),
    reference: readTimestamp(view, 16),
    originate: readTimestamp(view, 24),
    receive: readTimestamp(view, 32),
    transmit: readTimestamp(view, 40),
  };
}

/** Encodes a 48-byte packet. */
export function encodeNtp(p: NtpPacket): Uint8Array {
  const out = new Uint8Array(NTP_PACKET_SIZE);
  const view = new DataView(out.buffer);
  out[0] = ((p.leap & 3) << 6) | ((p.version & 7) << 3) | (p.mode & 7);
  out[1] = p.stratum;
  view.setInt8(2, p.poll);
  view.setInt8(3, p.precision);
  view.setInt32(4, Math.round(p.rootDelay * 65536));
  view.setUint32(8, Math.round(p.rootDispersion * 65536));
  out.set(p.referenceId.subarray(0, 4), 12);
  writeTimestamp(view, 16, p.reference);
  writeTimestamp(view, 24, p.originate);
  writeTimestamp(view, 32, p.receive);
  writeTimestamp(view, 40, p.transmit);
  return out;
}

/** How the server describes its clock in replies. */
export interface NtpServerClock {
  /** 1–15 (default 10, like chrony's `local stratum`). */
  stratum: number;
  /** The 4-byte reference id (default 127.127.1.1, the local clock). */
  referenceId: Uint8Array;
  /** log2 of the clock's precision in seconds. */
  precision: number;
  /** Seconds. */
  rootDispersion: number;
  /** When the clock was last set, Unix ms. */
  referenceMs: number;
}

/**
 * The server-mode reply to an SNTP client request, or `null` when `data` is
 * not one (RFC 4330 §5: version copied, mode 4, originate = the client's
 * transmit timestamp, receive and transmit stamped by the server).
 */
export function ntpServerReply(
  data: Uint8Array,
  receivedMs: number,
  transmitMs: number,
  clock: NtpServerClock,
): Uint8Array | null {
  if (!isNtpClientRequest(data)) return null;
  const view = new DataView(data.buffer, data.byteOffset, NTP_PACKET_SIZE);
  return encodeNtp({
    leap: 0,
    version: (data[0] >> 3) & 7,
    mode: MODE_SERVER,
    stratum: clock.stratum,
    poll: view.getInt8(2),
    precision: clock.precision,
    rootDelay: 0,
    rootDispersion: clock.rootDispersion,
    referenceId: clock.referenceId,
    reference: unixMsToNtp(clock.referenceMs),
    originate: readTimestamp(view, 40),
    receive: unixMsToNtp(receivedMs),
    transmit: unixMsToNtp(transmitMs),
  });
}

/** A version-4 client request whose transmit timestamp is `transmit`. */
export function ntpClientRequest(transmit: NtpTimestamp, version = 4): Uint8Array {
  return encodeNtp({
    leap: 0,
    version,
    mode: MODE_CLIENT,
    stratum: 0,
    poll: 0,
    precision: 0,
    rootDelay: 0,
    rootDispersion: 0,
    referenceId: new Uint8Array(4),
    reference: { seconds: 0, fraction: 0 },
    originate: { seconds: 0, fraction: 0 },
    receive: { seconds: 0, fraction: 0 },
    transmit,
  });
}

/** What the four timestamps say (RFC 5905 §8). */
export interface NtpEstimate {
  /** Server clock minus local clock, ms: ((T2 − T1) + (T3 − T4)) / 2. */
  offsetMs: number;
  /** Round-trip delay without the server's hold time, ms: (T4 − T1) − (T3 − T2). */
  delayMs: number;
}

/** Offset and delay from T1 (client send), T2 (server receive), T3 (server send), T4 (client receive). */
export function ntpEstimate(t1: number, t2: number, t3: number, t4: number): NtpEstimate {
  return { offsetMs: ((t2 - t1) + (t3 - t4)) / 2, delayMs: (t4 - t1) - (t3 - t2) };
}

/**
 * The reference id as people read it: four ASCII letters for stratum 0–1
 * (`LOCL`, `GPS`, a kiss code), an IPv4 address otherwise.
 */
export function formatReferenceId(id: Uint8Array, stratum: number): string {
  if (stratum <= 1) {
    let text = "";
    for (const b of id) {
      if (b === 0) break;
      text += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : "?";
    }
    return text;
  }
  return Array.from(id).join(".");
}

/** Why a reply to our SNTP request cannot be used, or `null` when it can. */
export function ntpReplyProblem(reply: NtpPacket, sent: NtpTimestamp): string | null {
  if (reply.mode !== MODE_SERVER) return `not a server reply (mode ${reply.mode})`;
  if (reply.originate.seconds !== sent.seconds || reply.originate.fraction !== sent.fraction) {
    return "reply does not match our request (originate timestamp differs)";
  }
  if (reply.stratum === 0) {
    return `kiss-o'-death "${formatReferenceId(reply.referenceId, 0)}" from the server`;
  }
  if (isZeroTimestamp(reply.transmit)) return "server sent a zero transmit timestamp";
  return null;
}
