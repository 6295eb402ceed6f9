/**
 * Pure IPv4/IPv6 text ↔ number conversions with the C library's exact rules:
 * `inet_aton`/`inet_addr` (glibc's lenient form), `inet_pton` (strict), and
 * `inet_ntop` for IPv6 in RFC 5952 form. No sockets, no globals.
 *
 * ```text
 * inet_aton  := part ( "." part ){0,3} [ white-space anything ]
 * part       := "0x" hex+ | "0X" hex+ | "0" octal* | [1-9] decimal*
 *               (strtoul base 0; the part must start with a digit)
 * 4 parts a.b.c.d : each 0–255
 * 3 parts a.b.c   : a, b 0–255; c 0–65535 fills the last 2 bytes
 * 2 parts a.b     : a 0–255; b 0–16777215 fills the last 3 bytes
 * 1 part  a       : 0–4294967295, the whole address
 * inet_pton IPv4  := d.d.d.d, each 1–3 decimal digits 0–255, no leading zero
 * inet_pton IPv6  := RFC 4291 text: 1–4 hex digits per group, one "::",
 *                    an optional dotted IPv4 tail, no zone
 * ```
 *
 * @example
 * ```ts
 * import { formatIPv6, inetAton } from "./inet.ts";
 * const r = inetAton("0x7f.1");
 * console.assert(r.valid && r.address === "127.0.0.1" && r.value === 0x7f000001);
 * console.assert(formatIPv6(new Uint8Array(16).fill(0, 0, 15).fill(1, 15)) === "::1");
 * ```
 * @module
 */

/** A string `inet_aton` accepts. */
export interface AtonValid {
  valid: true;
  input: string;
  /** Canonical dotted quad. */
  address: string;
  /** The 32-bit value in host order (what `ntohl(addr.s_addr)` gives). */
  value: number;
  /** How many parts the text had (1–4). */
  parts: number;
  /** Text after the first white space, which inet_aton ignores (absent if none). */
  ignored?: string;
}

/** A string `inet_aton` rejects, with the reason. */
export interface AtonInvalid {
  valid: false;
  input: string;
  reason: string;
}

/** Result of {@linkcode inetAton}. */
export type AtonResult = AtonValid | AtonInvalid;

/** Largest value of the last part, by number of parts before it. */
const LAST_PART_MAX = [0xffffffff, 0xffffff, 0xffff, 0xff];

/** C `isspace` in the C locale. */
function isCSpace(c: string): boolean {
  return c === " " || c === "\t" || c === "\n" || c === "\v" || c === "\f" || c === "\r";
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= "0" && c <= "9";
}

function hexValue(c: string | undefined): number {
  if (c === undefined) return -1;
  const code = c.charCodeAt(0);
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 102) return code - 87;
  if (code >= 65 && code <= 70) return code - 55;
  return -1;
}

/** `strtoul(text + at, &end, 0)` for text that starts with a digit at `at`. */
function strtoul0(text: string, at: number): { value: number; end: number; overflow: boolean } {
  let base = 10;
  let i = at;
  if (text[i] === "0") {
    if ((text[i + 1] === "x" || text[i + 1] === "X") && hexValue(text[i + 2]) >= 0) {
      base = 16;
      i += 2;
    } else {
      base = 8;
    }
  }
  let value = 0;
  let overflow = false;
  for (;; i++) {
    const d = hexValue(text[i]);
    if (d < 0 || d >= base) break;
    value = value * base + d;
    // Past 32 bits the part is out of range whatever follows; stop the number growing.
    if (value > 0xffffffff) {
      overflow = true;
      value = 0x100000000;
    }
  }
  return { value, end: i, overflow };
}

/**
 * Parses `text` exactly as glibc's `inet_aton` does. A NUL character ends the
 * text (as in C); the first white-space character after the last part ends
 * it too, and whatever follows is ignored (reported as `ignored`).
 */
export function inetAton(input: string): AtonResult {
  const nul = input.indexOf("\0");
  const text = nul >= 0 ? input.slice(0, nul) : input;
  const bad = (reason: string): AtonInvalid => ({ valid: false, input, reason });
  if (text === "") return bad("empty");
  const bytes: number[] = [];
  let i = 0;
  let value: number;
  for (;;) {
    const part = bytes.length + 1;
    if (!isDigit(text[i])) {
      if (i >= text.length) return bad(`part ${part} is empty`);
      return bad(`part ${part} does not start with a digit (${describeChar(text[i])})`);
    }
    const n = strtoul0(text, i);
    const partText = text.slice(i, n.end);
    if (n.overflow) return bad(`part ${part} "${partText}" is larger than 32 bits`);
    value = n.value;
    i = n.end;
    if (text[i] !== ".") break;
    if (bytes.length === 3) return bad("more than 4 parts");
    if (value > 0xff) return bad(`part ${part} "${partText}" is over 255`);
    bytes.push(value);
    i++;
  }
  let ignored: string | undefined;
  if (i < text.length) {
    if (!isCSpace(text[i])) {
      return bad(`unexpected ${describeChar(text[i])} after part ${bytes.length + 1}`);
    }
    ignored = text.slice(i + 1);
  }
  const max = LAST_PART_MAX[bytes.length];
  if (value > max) {
    return bad(
      `last part ${value} is over ${max} (0x${max.toString(16)}) for ${bytes.length + 1} parts`,
    );
  }
  let word = 0;
  bytes.forEach((b, k) => word += b * 2 ** (24 - 8 * k));
  word += value;
  const result: AtonValid = {
    valid: true,
    input,
    address: ntoa(word),
    value: word,
    parts: bytes.length + 1,
  };
  if (ignored !== undefined) result.ignored = ignored;
  return result;
}

function describeChar(c: string): string {
  const code = c.codePointAt(0) ?? 0;
  if (code < 0x20 || code === 0x7f) return `control character 0x${code.toString(16)}`;
  return `"${c}"`;
}

/** The dotted quad of a 32-bit value (0–4294967295). */
export function ntoa(value: number): string {
  return [value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff].join(".");
}

/** `0x` and eight lower-case hex digits. */
export function hex32(value: number): string {
  return "0x" + value.toString(16).padStart(8, "0");
}

/**
 * Parses a 32-bit value given as decimal or `0x` hex (for `inet ntoa`).
 * Throws SyntaxError for other text and RangeError above 4294967295.
 */
export function parseU32(text: string): number {
  const t = text.trim();
  let value: bigint;
  if (/^0[xX][0-9a-fA-F]+$/.test(t)) value = BigInt(t);
  else if (/^[0-9]+$/.test(t)) value = BigInt(t);
  else throw new SyntaxError(`Cannot parse "${text}": not a decimal or 0x hex number`);
  if (value > 0xffffffffn) {
    throw new RangeError(`Cannot parse "${text}": must be between 0 and 4294967295`);
  }
  return Number(value);
}

/** `inet_pton(AF_INET)`: 4 bytes, or `null` when glibc rejects the text. */
export function ptonIPv4(text: string): Uint8Array | null {
  const out = new Uint8Array(4);
  let octets = 0;
  let sawDigit = false;
  let k = 0;
  for (const ch of text) {
    if (ch >= "0" && ch <= "9") {
      const next = out[k] * 10 + (ch.charCodeAt(0) - 48);
      if (sawDigit && out[k] === 0) return null; // a leading zero
      if (next > 255) return null;
      out[k] = next;
      if (!sawDigit) {
        if (++octets > 4) return null;
        sawDigit = true;
      }
    } else if (ch === "." && sawDigit) {
      if (octets === 4) return null;
      k++;
      sawDigit = false;
    } else {
      return null;
    }
  }
  return octets < 4 ? null : out;
}

/** `inet_pton(AF_INET6)`: 16 bytes, or `null` when glibc rejects the text. */
export function ptonIPv6(text: string): Uint8Array | null {
  const out = new Uint8Array(16);
  let i = 0;
  if (text.length === 0) return null;
  if (text[0] === ":") {
    if (text[1] !== ":") return null;
    i = 1;
  }
  let tp = 0;
  let colonAt = -1;
  let token = i;
  let digits = 0;
  let val = 0;
  while (i < text.length) {
    const ch = text[i++];
    const d = hexValue(ch);
    if (d >= 0) {
      if (digits === 4) return null;
      val = (val << 4) | d;
      digits++;
      continue;
    }
    if (ch === ":") {
      token = i;
      if (digits === 0) {
        if (colonAt >= 0) return null;
        colonAt = tp;
        continue;
      }
      if (i === text.length) return null;
      if (tp + 2 > 16) return null;
      out[tp++] = val >> 8;
      out[tp++] = val & 0xff;
      digits = 0;
      val = 0;
      continue;
    }
    if (ch === "." && tp + 4 <= 16) {
      const v4 = ptonIPv4(text.slice(token));
      if (v4 === null) return null;
      out.set(v4, tp);
      tp += 4;
      digits = 0;
      break;
    }
    return null;
  }
  if (digits > 0) {
    if (tp + 2 > 16) return null;
    out[tp++] = val >> 8;
    out[tp++] = val & 0xff;
  }
  if (colonAt >= 0) return expandGap(out, colonAt, tp);
  return tp === 16 ? out : null;
}

/**
 * Fills the "::" of an IPv6 address whose groups after it were written at
 * `colonAt`..`end`: they move to the end and zeros take their place. Null
 * when nothing is left for "::" to stand for.
 */
function expandGap(out: Uint8Array, colonAt: number, end: number): Uint8Array | null {
  if (end === 16) return null;
  const n = end - colonAt;
  out.copyWithin(16 - n, colonAt, end);
  out.fill(0, colonAt, 16 - n);
  return out;
}

/** Result of {@linkcode pton}. */
export interface PtonResult {
  family: 4 | 6;
  bytes: Uint8Array;
}

/** `inet_pton` with the family chosen by the text (":" means IPv6); `null` if invalid. */
export function pton(text: string): PtonResult | null {
  if (text.includes(":")) {
    const bytes = ptonIPv6(text);
    return bytes ? { family: 6, bytes } : null;
  }
  const bytes = ptonIPv4(text);
  return bytes ? { family: 4, bytes } : null;
}

/**
 * IPv6 bytes in RFC 5952 form: lower case, no leading zeros, the longest run
 * (the first on a tie) of two or more zero groups as "::", and the IPv4-mapped
 * prefix `::ffff:0:0/96` with a dotted-quad tail.
 */
export function formatIPv6(bytes: Uint8Array): string {
  if (bytes.length !== 16) {
    throw new RangeError(`An IPv6 address has 16 bytes, not ${bytes.length}`);
  }
  const words: number[] = [];
  for (let k = 0; k < 16; k += 2) words.push((bytes[k] << 8) | bytes[k + 1]);
  const mapped = words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff;
  if (mapped) return `::ffff:${bytes.subarray(12).join(".")}`;
  let bestAt = -1;
  let bestLen = 0;
  for (let k = 0; k < 8;) {
    if (words[k] !== 0) {
      k++;
      continue;
    }
    let end = k;
    while (end < 8 && words[end] === 0) end++;
    if (end - k > bestLen) {
      bestAt = k;
      bestLen = end - k;
    }
    k = end;
  }
  const hex = words.map((w) => w.toString(16));
  if (bestLen < 2) return hex.join(":");
  return `${hex.slice(0, bestAt).join(":")}::${hex.slice(bestAt + bestLen).join(":")}`;
}

/** Address bytes (4 or 16) as text: dotted quad or RFC 5952. */
export function ntop(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join(".");
  return formatIPv6(bytes);
}

/** Lower-case hex of `bytes`, no separators. */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Parses the bytes of an address given as hex for `inet ntop`: 8 hex digits
 * (IPv4) or 32 (IPv6); an optional `0x` prefix and `:`/`-`/space separators
 * between bytes are allowed. Throws SyntaxError otherwise.
 */
export function parseAddressHex(text: string): Uint8Array {
  const t = text.trim().replace(/^0[xX]/, "");
  const clean = t.replace(/[:\- ]/g, "");
  if (!/^[0-9a-fA-F]*$/.test(clean) || (clean.length !== 8 && clean.length !== 32)) {
    throw new SyntaxError(
      `Cannot parse "${text}": expected 8 hex digits (IPv4) or 32 (IPv6)`,
    );
  }
  const out = new Uint8Array(clean.length / 2);
  for (let k = 0; k < out.length; k++) out[k] = parseInt(clean.slice(2 * k, 2 * k + 2), 16);
  return out;
}

/** `INADDR_NONE`, what `inet_addr` returns for invalid text (and for 255.255.255.255). */
export const INADDR_NONE = 0xffffffff;

/** Result of {@linkcode inetAddr}. */
export interface AddrResult {
  input: string;
  /** What `inet_addr` returns, as the 32-bit network-order value's bytes read in host order. */
  inAddrT: number;
  /** The network-order bytes as hex, e.g. "7f000001". */
  networkBytes: string;
  /** True when the result is INADDR_NONE: an error or the broadcast address, which inet_addr cannot tell apart. */
  none: boolean;
  /** Whether inet_aton accepts the text (false: inet_addr's INADDR_NONE is an error). */
  valid: boolean;
  /** Why the text is invalid (when `valid` is false). */
  reason?: string;
}

/**
 * `inet_addr(text)` as the C library computes it: the network-order value,
 * shown as the `in_addr_t` a program on a host of `endian` byte order sees.
 */
export function inetAddr(input: string, endian: "little" | "big" = "little"): AddrResult {
  const r = inetAton(input);
  const value = r.valid ? r.value : INADDR_NONE;
  const be = [value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff];
  const inAddrT = endian === "little"
    ? ((be[3] << 24) | (be[2] << 16) | (be[1] << 8) | be[0]) >>> 0
    : value;
  const out: AddrResult = {
    input,
    inAddrT,
    networkBytes: toHex(new Uint8Array(be)),
    none: value === INADDR_NONE,
    valid: r.valid,
  };
  if (!r.valid) out.reason = r.reason;
  return out;
}

/** The host's byte order (for `inet addr`). */
export function hostEndian(): "little" | "big" {
  return new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? "little" : "big";
}
