/**
 * Seeded hostile input for the reliability suite: a small PRNG (sfc32, no
 * dependency) and generators of the messages and TCP sessions a careless or
 * malicious student throws at a lab server. The same seed always gives the
 * same input, so a failure prints its seed and `SEED=N` replays it.
 *
 * @example
 * ```ts
 * import { hostileMessage, Rng } from "./fuzz.ts";
 * const a = hostileMessage(new Rng(42), ["USD"], 65507);
 * const b = hostileMessage(new Rng(42), ["USD"], 65507);
 * console.assert(a.kind === b.kind && a.data.length === b.data.length);
 * ```
 * @module
 */

/** sfc32: a fast 32-bit PRNG with a 128-bit state, seeded from one number. */
export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  constructor(seed: number) {
    this.#a = 0x9e3779b9;
    this.#b = 0x243f6a88;
    this.#c = 0xb7e15162;
    this.#d = seed >>> 0;
    for (let i = 0; i < 15; i++) this.next();
  }

  /** A uniform 32-bit unsigned integer. */
  next(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }

  /** A number in [0, 1). */
  float(): number {
    return this.next() / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  /** One element of `items`. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** `n` random bytes. */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 4) {
      const v = this.next();
      out[i] = v;
      if (i + 1 < n) out[i + 1] = v >>> 8;
      if (i + 2 < n) out[i + 2] = v >>> 16;
      if (i + 3 < n) out[i + 3] = v >>> 24;
    }
    return out;
  }
}

/** A 32-bit seed: `SEED` from the environment (to replay a failure), else a fresh one. */
export function baseSeed(): number {
  const text = Deno.env.get("SEED");
  if (text !== undefined && text.trim() !== "") {
    const n = Number(text.trim());
    if (!Number.isSafeInteger(n) || n < 0 || n > 0xffffffff) {
      throw new RangeError(`Cannot use SEED "${text}": must be a whole number below 2^32`);
    }
    return n;
  }
  return crypto.getRandomValues(new Uint32Array(1))[0];
}

/** A seed for one server derived from the run's seed, so one SEED replays every server. */
export function deriveSeed(seed: number, label: string): number {
  let h = (seed ^ 0x811c9dc5) >>> 0; // FNV-1a over the label, starting from the seed
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** The kinds of hostile message, each a test of one way a server can break. */
export const MESSAGE_KINDS = [
  "random-bytes",
  "empty",
  "max-size",
  "nul-bytes",
  "invalid-utf8",
  "huge-number",
  "many-arguments",
  "format-string",
  "control-chars",
  "half-formed",
  "valid-looking",
] as const;
/** One kind of {@linkcode MESSAGE_KINDS}. */
export type MessageKind = typeof MESSAGE_KINDS[number];

/** A generated message and what kind of hostility it carries. */
export interface HostileMessage {
  kind: MessageKind;
  data: Uint8Array;
}

const encoder = new TextEncoder();

const INVALID_UTF8: readonly number[][] = [
  [0xff],
  [0xfe, 0xff],
  [0xc0, 0xaf], // overlong "/"
  [0xe0, 0x80, 0xaf], // overlong
  [0xed, 0xa0, 0x80], // a UTF-16 surrogate
  [0xf4, 0x90, 0x80, 0x80], // beyond U+10FFFF
  [0x80], // a lone continuation byte
  [0xc3], // a truncated sequence
  [0xf0, 0x9f, 0x98], // a truncated emoji
];

const FORMAT_STRINGS = [
  "%s%s%s%s%s%n",
  "%x%x%x%x%x%x",
  "%99999999d",
  "%.1000000f",
  "%p%p%p%p",
  "${7*7}",
  "{{7*7}}",
  "$(reboot)",
  "`id`",
  "'; DROP TABLE users; --",
  "../../../../etc/passwd",
  "\\x00\\n\\r",
  "%00%0a%0d",
  "__proto__",
  "constructor",
  "toString",
];

const HUGE_NUMBERS = [
  "1e308",
  "1e309",
  "-1e309",
  "NaN",
  "Infinity",
  "-Infinity",
  "0x7fffffffffffffff",
  "18446744073709551616",
  "-9223372036854775809",
  "9007199254740993",
  "-0",
  "+0",
  "00000000000000000000001",
  "1.7976931348623157e+308",
  "5e-324",
  "1_000",
  "١٢٣", // Arabic-Indic digits
];

/** Words any protocol might react to, mixed into every server's own vocabulary. */
const COMMON_WORDS = ["OK", "ERR", "help", "quit", "q", "Q", "\u0000", "GET / HTTP/1.0"];

function text(s: string): Uint8Array {
  return encoder.encode(s);
}

function join(...parts: (Uint8Array | string)[]): Uint8Array {
  const bytes = parts.map((p) => typeof p === "string" ? text(p) : p);
  const out = new Uint8Array(bytes.reduce((n, b) => n + b.length, 0));
  let off = 0;
  for (const b of bytes) {
    out.set(b, off);
    off += b.length;
  }
  return out;
}

/** A plausible argument: a fuzz name (always starting with `f`), a number, a code. */
function plausibleArgument(rng: Rng): string {
  switch (rng.int(5)) {
    case 0:
      return `f${rng.next().toString(36).slice(0, rng.range(1, 7))}`;
    case 1:
      return String(rng.range(-1000, 1000));
    case 2:
      return rng.pick(["USD", "GBP", "CAD", "EUR", "AUD", "XYZ", "usd", ""]);
    case 3:
      return rng.pick(["0", "1", "-1", "+1", "007"]);
    default:
      return "f".repeat(rng.range(30, 40)); // around name-length limits
  }
}

function digits(rng: Rng, n: number): string {
  let s = String(rng.range(1, 9));
  while (s.length < n) s += String(rng.next()).padStart(10, "0");
  return s.slice(0, n);
}

/** What each kind of hostile message is made from. */
interface Maker {
  rng: Rng;
  /** A word of the server's protocol, or one any protocol might react to. */
  word: () => string;
  /** The server's own words (the vocabulary when it has none). */
  words: readonly string[];
  maxBytes: number;
}

/** Control characters and escapes a terminal could misread. */
const CONTROLS = [
  "\x1b[2J",
  "\x1b]0;owned\x07",
  "\x08\x08\x08",
  "\r",
  "\x7f",
  "\x1b[31m",
  "\f",
  "\v",
];

/** How each kind of hostile message is made (a table: one entry per kind). */
const MAKE: Record<MessageKind, (m: Maker) => Uint8Array> = {
  "random-bytes": ({ rng, maxBytes }) => {
    const r = rng.float();
    const n = r < 0.5
      ? rng.range(1, 64)
      : r < 0.9
      ? rng.range(65, 1500)
      : rng.range(1501, maxBytes);
    // 48 bytes is an SNTP packet: give the time server its share of those.
    return rng.bytes(rng.chance(0.1) ? 48 : n);
  },
  "empty": () => new Uint8Array(0),
  "max-size": ({ rng, word, maxBytes }) => {
    const fill = rng.int(3);
    if (fill === 0) return rng.bytes(maxBytes);
    if (fill === 1) return new Uint8Array(maxBytes).fill(0x41);
    const out = new Uint8Array(maxBytes).fill(0x78);
    out.set(text(`${word()} `).subarray(0, maxBytes));
    return out;
  },
  "nul-bytes": ({ rng, word }) => {
    const n = rng.range(1, 512);
    switch (rng.int(3)) {
      case 0:
        return new Uint8Array(n);
      case 1:
        return join(`${word()} ${plausibleArgument(rng)}`, new Uint8Array(n));
      default:
        return join(word(), new Uint8Array([0]), ` ${plausibleArgument(rng)}`);
    }
  },
  "invalid-utf8": ({ rng, word }) => {
    const bad = new Uint8Array(rng.pick(INVALID_UTF8));
    return rng.chance(0.5) ? join(`${word()} `, bad) : join(bad, ` ${word()}`);
  },
  "huge-number": ({ rng, word }) => {
    const n = rng.chance(0.5)
      ? rng.pick(HUGE_NUMBERS)
      : `${rng.chance(0.3) ? "-" : ""}${digits(rng, rng.range(20, 30_000))}`;
    const args = rng.chance(0.5) ? `${n} ${plausibleArgument(rng)}` : n;
    return text(`${word()} ${args}`);
  },
  "many-arguments": ({ rng, word, maxBytes }) => {
    // 100,000 one-character arguments: 200,000 bytes, cut to what fits
    // (about 32,750 arguments in one UDP datagram).
    const arg = rng.pick(["1", "a", "-", "9"]);
    const count = Math.min(100_000, Math.floor((maxBytes - 16) / 2));
    return text(`${word()}${` ${arg}`.repeat(count)}`);
  },
  "format-string": ({ rng, word }) => {
    const f = rng.pick(FORMAT_STRINGS);
    return text(rng.chance(0.5) ? `${word()} ${f}` : f);
  },
  "control-chars": ({ rng, word }) => {
    const noise = new Uint8Array(rng.range(1, 32)).map(() => rng.pick([...Array(32).keys(), 0x7f]));
    return join(`${word()} ${rng.pick(CONTROLS)}`, noise, ` ${plausibleArgument(rng)}`);
  },
  "half-formed": ({ rng, word }) => {
    const w = word();
    const arg = () => plausibleArgument(rng);
    const forms = [
      w,
      `${w} `,
      `  ${w}`,
      `\t${w}\t`,
      w.slice(0, Math.max(1, rng.int(w.length))),
      `${w}${w}`,
      w.toLowerCase(),
      w.toUpperCase(),
      `${w} ${arg()} ${arg()} ${arg()}`,
      `${w}\r\n${w}`,
      "\n",
      "\r\n",
      " ",
    ];
    return text(rng.pick(forms));
  },
  "valid-looking": ({ rng, words }) => {
    // Well-formed enough to reach the server's state (sign-ins, registrations).
    const n = rng.range(1, 4);
    const args = Array.from({ length: n }, () => plausibleArgument(rng)).join(" ");
    return text(`${rng.pick(words)} ${args}`);
  },
};

/**
 * One hostile message for a server whose protocol words are `words`, at most
 * `maxBytes` long (65,507 for UDP; more for TCP lines, to cross line limits).
 */
export function hostileMessage(
  rng: Rng,
  words: readonly string[],
  maxBytes: number,
): HostileMessage {
  const vocabulary = [...words, ...COMMON_WORDS];
  const kind = rng.pick(MESSAGE_KINDS);
  const maker = {
    rng,
    word: () => rng.pick(vocabulary),
    words: words.length ? words : vocabulary,
    maxBytes,
  };
  const data = MAKE[kind](maker);
  return { kind, data: data.length > maxBytes ? data.subarray(0, maxBytes) : data };
}

/** How a hostile TCP client behaves on one connection. */
export type SessionKind =
  | "lines" // a burst of hostile lines, then half-close and read to EOF
  | "byte-at-a-time" // a line written one byte per write
  | "huge-line" // 10 MB without a newline, then an abrupt close
  | "many-arguments" // one line with 100,000 arguments
  | "drop-mid-message" // half a line, then close
  | "connect-close" // connect and close at once
  | "idle"; // many connections that never send a byte

/** One planned hostile TCP session. */
export interface HostileSession {
  kind: SessionKind;
  /** Bytes to send, in order (each element one write unless byte-at-a-time). */
  writes: Uint8Array[];
  /** How the client leaves: half-close and read to EOF, or close at once. */
  ending: "half-close" | "abort";
  /** For `idle`: how many connections to hold open. */
  idle?: number;
}

/** Size of the line sent without a newline: 10 MB. */
export const HUGE_LINE_BYTES = 10 * 1024 * 1024;

/** One hostile TCP session for a line-based server whose words are `words`. */
export function hostileSession(
  rng: Rng,
  words: readonly string[],
  idleMax: number,
): HostileSession {
  const kind = rng.pick<SessionKind>([
    "lines",
    "lines",
    "lines",
    "byte-at-a-time",
    "huge-line",
    "many-arguments",
    "drop-mid-message",
    "connect-close",
    "idle",
  ]);
  const nl = () => rng.pick(["\n", "\r\n", "\n\n"]);
  switch (kind) {
    case "lines": {
      const count = rng.range(1, 20);
      const writes = Array.from({ length: count }, () => {
        const m = hostileMessage(rng, words, rng.chance(0.1) ? 70_000 : 2048);
        return join(m.data, nl());
      });
      return { kind, writes, ending: rng.chance(0.7) ? "half-close" : "abort" };
    }
    case "byte-at-a-time": {
      const m = hostileMessage(rng, words, 200);
      return { kind, writes: [join(m.data, "\n")], ending: "half-close" };
    }
    case "huge-line":
      return { kind, writes: [], ending: "abort" };
    case "many-arguments":
      return {
        kind,
        writes: [text(`${rng.pick(words.length ? words : COMMON_WORDS)}${" 1".repeat(100_000)}\n`)],
        ending: "half-close",
      };
    case "drop-mid-message": {
      const m = hostileMessage(rng, words, 4096);
      return { kind, writes: [m.data.subarray(0, Math.ceil(m.data.length / 2))], ending: "abort" };
    }
    case "connect-close":
      return { kind, writes: [], ending: "abort" };
    case "idle":
      return {
        kind,
        writes: [],
        ending: "abort",
        idle: rng.range(Math.ceil(idleMax / 2), idleMax),
      };
  }
}
