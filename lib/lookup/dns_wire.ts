/**
 * The DNS wire format (RFC 1035, EDNS0 from RFC 6891), pure: encode one query,
 * decode any reply, with name compression followed safely and every length
 * checked. Malformed input is a SyntaxError, never a crash or a hang.
 *
 * ```text
 * message  := header question* answer* authority* additional*
 * header   := id:u16 flags:u16 qdcount:u16 ancount:u16 nscount:u16 arcount:u16
 * flags    := QR(15) opcode(14..11) AA(10) TC(9) RD(8) RA(7) Z(6) AD(5) CD(4) rcode(3..0)
 * question := name type:u16 class:u16
 * rr       := name type:u16 class:u16 ttl:u32 rdlength:u16 rdata
 * name     := ( len:u8 (1..63) label )* 0  |  ... pointer:u16 (0b11 offset:14)
 * OPT rr   := name "." type 41, class = UDP payload size,
 *             ttl = extended rcode:u8 version:u8 DO(15) z
 * ```
 *
 * @example
 * ```ts
 * import { decodeMessage, encodeQuery } from "./dns_wire.ts";
 * const q = encodeQuery({ id: 7, name: "example.test", type: 1 });
 * const m = decodeMessage(q);
 * console.assert(m.id === 7 && m.questions[0].name === "example.test.");
 * ```
 * @module
 */
import { ntop } from "./inet.ts";

/** Record types by name; others are written TYPEn (RFC 3597). */
export const RR_TYPES: Record<string, number> = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  HINFO: 13,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  NAPTR: 35,
  DNAME: 39,
  OPT: 41,
  DS: 43,
  RRSIG: 46,
  NSEC: 47,
  DNSKEY: 48,
  TLSA: 52,
  SVCB: 64,
  HTTPS: 65,
  SPF: 99,
  ANY: 255,
  CAA: 257,
};
const TYPE_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(RR_TYPES).map(([k, v]) => [v, k]),
);
const CLASS_NAMES: Record<number, string> = { 1: "IN", 3: "CH", 4: "HS", 254: "NONE", 255: "ANY" };
/** Response codes (RFC 1035, 6895). */
export const RCODES: Record<number, string> = {
  0: "NOERROR",
  1: "FORMERR",
  2: "SERVFAIL",
  3: "NXDOMAIN",
  4: "NOTIMP",
  5: "REFUSED",
  6: "YXDOMAIN",
  7: "YXRRSET",
  8: "NXRRSET",
  9: "NOTAUTH",
  10: "NOTZONE",
  16: "BADVERS",
};

/** A type's mnemonic, or TYPEn. */
export function typeName(type: number): string {
  return TYPE_NAMES[type] ?? `TYPE${type}`;
}

/** A class's mnemonic, or CLASSn. */
export function className(cls: number): string {
  return CLASS_NAMES[cls] ?? `CLASS${cls}`;
}

/** An rcode's name, or RCODEn. */
export function rcodeName(rcode: number): string {
  return RCODES[rcode] ?? `RCODE${rcode}`;
}

/** Parses a record type: a mnemonic (any case) or TYPEn. Throws SyntaxError. */
export function parseType(text: string): number {
  const upper = text.toUpperCase();
  if (upper in RR_TYPES) return RR_TYPES[upper];
  const m = upper.match(/^TYPE([0-9]{1,5})$/);
  if (m && Number(m[1]) <= 65535) return Number(m[1]);
  throw new SyntaxError(`Unknown record type "${text}"`);
}

/** What {@linkcode encodeQuery} sends. */
export interface Query {
  id: number;
  /** The name, absolute or not ("." is the root); labels split on ".". */
  name: string;
  type: number;
  /** Default 1 (IN). */
  cls?: number;
  /** Recursion desired (default true). */
  recursion?: boolean;
  /** EDNS0 UDP payload size to advertise; 0 for no OPT record (default 1232). */
  ednsSize?: number;
}

/** The name's labels as bytes. Throws SyntaxError for empty or over-long labels. */
export function nameLabels(name: string): Uint8Array[] {
  if (name === "." || name === "") return [];
  const text = name.endsWith(".") ? name.slice(0, -1) : name;
  const encoder = new TextEncoder();
  const labels = text.split(".").map((l) => encoder.encode(l));
  let total = 1;
  for (const l of labels) {
    if (l.length === 0) throw new SyntaxError(`Cannot encode name "${name}": empty label`);
    if (l.length > 63) {
      throw new SyntaxError(`Cannot encode name "${name}": a label is longer than 63 bytes`);
    }
    total += l.length + 1;
  }
  if (total > 255) throw new SyntaxError(`Cannot encode name "${name}": longer than 255 bytes`);
  return labels;
}

/** The query's bytes (for UDP; TCP adds a 2-byte length). */
export function encodeQuery(q: Query): Uint8Array {
  const labels = nameLabels(q.name);
  const ednsSize = q.ednsSize ?? 1232;
  const nameLen = labels.reduce((n, l) => n + l.length + 1, 1);
  const out = new Uint8Array(12 + nameLen + 4 + (ednsSize ? 11 : 0));
  const v = new DataView(out.buffer);
  v.setUint16(0, q.id);
  v.setUint16(2, q.recursion === false ? 0 : 0x0100);
  v.setUint16(4, 1);
  v.setUint16(10, ednsSize ? 1 : 0);
  let at = 12;
  for (const l of labels) {
    out[at++] = l.length;
    out.set(l, at);
    at += l.length;
  }
  out[at++] = 0;
  v.setUint16(at, q.type);
  v.setUint16(at + 2, q.cls ?? 1);
  at += 4;
  if (ednsSize) {
    out[at] = 0; // root name
    v.setUint16(at + 1, 41);
    v.setUint16(at + 3, ednsSize);
    // ttl (extended rcode, version, flags) and rdlength stay 0
  }
  return out;
}

/** Header flags of a message. */
export interface Flags {
  qr: boolean;
  opcode: number;
  aa: boolean;
  tc: boolean;
  rd: boolean;
  ra: boolean;
  ad: boolean;
  cd: boolean;
}

/** A question entry. */
export interface Question {
  name: string;
  type: number;
  cls: number;
}

/** Decoded rdata: the fields of known types, or the raw bytes. */
export type RData =
  | { kind: "address"; address: string }
  | { kind: "name"; target: string }
  | { kind: "mx"; preference: number; exchange: string }
  | {
    kind: "soa";
    mname: string;
    rname: string;
    serial: number;
    refresh: number;
    retry: number;
    expire: number;
    minimum: number;
  }
  | { kind: "srv"; priority: number; weight: number; port: number; target: string }
  | { kind: "strings"; strings: Uint8Array[] }
  | {
    kind: "naptr";
    order: number;
    preference: number;
    flags: Uint8Array;
    services: Uint8Array;
    regexp: Uint8Array;
    replacement: string;
  }
  | { kind: "caa"; flags: number; tag: Uint8Array; value: Uint8Array }
  | { kind: "unknown"; bytes: Uint8Array };

/** A resource record. */
export interface ResourceRecord {
  name: string;
  type: number;
  cls: number;
  ttl: number;
  rdata: RData;
}

/** The EDNS0 OPT pseudo-record of a reply. */
export interface Edns {
  udpSize: number;
  version: number;
  do: boolean;
}

/** A decoded message. */
export interface Message {
  id: number;
  flags: Flags;
  /** The full rcode (extended with the OPT record's upper bits). */
  rcode: number;
  questions: Question[];
  answers: ResourceRecord[];
  authority: ResourceRecord[];
  /** Additional records, without the OPT record. */
  additional: ResourceRecord[];
  edns: Edns | null;
  size: number;
}

class Reader {
  readonly v: DataView;
  at = 0;
  constructor(readonly bytes: Uint8Array) {
    this.v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  need(n: number, what: string): void {
    if (this.at + n > this.bytes.length) {
      throw new SyntaxError(`Malformed DNS message: truncated ${what} at byte ${this.at}`);
    }
  }
  u8(what: string): number {
    this.need(1, what);
    return this.bytes[this.at++];
  }
  u16(what: string): number {
    this.need(2, what);
    const x = this.v.getUint16(this.at);
    this.at += 2;
    return x;
  }
  u32(what: string): number {
    this.need(4, what);
    const x = this.v.getUint32(this.at);
    this.at += 4;
    return x;
  }
  take(n: number, what: string): Uint8Array {
    this.need(n, what);
    const out = this.bytes.slice(this.at, this.at + n);
    this.at += n;
    return out;
  }
  /** A possibly compressed name, in presentation form with a trailing dot. */
  name(what: string): string {
    const labels: Uint8Array[] = [];
    let pos = this.at;
    let jumped = false;
    let total = 1;
    for (let hops = 0;; hops++) {
      if (pos >= this.bytes.length) {
        throw new SyntaxError(`Malformed DNS message: ${what} runs past the end`);
      }
      const len = this.bytes[pos];
      if ((len & 0xc0) === 0xc0) {
        if (pos + 1 >= this.bytes.length) {
          throw new SyntaxError(`Malformed DNS message: truncated pointer in ${what}`);
        }
        const target = ((len & 0x3f) << 8) | this.bytes[pos + 1];
        // Pointers must go backwards: that alone rules out loops.
        if (target >= pos || hops > 127) {
          throw new SyntaxError(`Malformed DNS message: bad compression pointer in ${what}`);
        }
        if (!jumped) this.at = pos + 2;
        jumped = true;
        pos = target;
        continue;
      }
      if (len & 0xc0) {
        throw new SyntaxError(`Malformed DNS message: unsupported label type in ${what}`);
      }
      if (len === 0) {
        if (!jumped) this.at = pos + 1;
        break;
      }
      if (pos + 1 + len > this.bytes.length) {
        throw new SyntaxError(`Malformed DNS message: ${what} runs past the end`);
      }
      total += len + 1;
      if (total > 255) throw new SyntaxError(`Malformed DNS message: ${what} is over 255 bytes`);
      labels.push(this.bytes.subarray(pos + 1, pos + 1 + len));
      pos += 1 + len;
    }
    return labels.length === 0 ? "." : labels.map(labelText).join(".") + ".";
  }
}

const SPECIAL_IN_NAMES = new Set([0x2e, 0x3b, 0x5c, 0x28, 0x29, 0x22, 0x40, 0x24]); // . ; \ ( ) " @ $

/** A label as BIND prints it: specials backslash-escaped, other non-printables \DDD. */
function labelText(label: Uint8Array): string {
  let out = "";
  for (const b of label) {
    if (SPECIAL_IN_NAMES.has(b)) out += "\\" + String.fromCharCode(b);
    else if (b > 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += "\\" + String(b).padStart(3, "0");
  }
  return out;
}

function readCharString(r: Reader, end: number, what: string): Uint8Array {
  const len = r.u8(what);
  if (r.at + len > end) throw new SyntaxError(`Malformed DNS message: ${what} overruns its record`);
  return r.take(len, what);
}

/** Fixed-size address rdata (A, AAAA): exactly `size` bytes. */
function addressData(size: number, what: string) {
  return (r: Reader, _end: number, length: number): RData => {
    if (length !== size) {
      throw new SyntaxError(`Malformed DNS message: ${what} rdata of ${length} bytes`);
    }
    return { kind: "address", address: ntop(r.take(size, what)) };
  };
}

const nameData = (r: Reader): RData => ({ kind: "name", target: r.name("rdata name") });

function stringsData(r: Reader, end: number): RData {
  const strings: Uint8Array[] = [];
  while (r.at < end) strings.push(readCharString(r, end, "character string"));
  return { kind: "strings", strings };
}

/** How each record type's rdata is read (types not listed are kept as bytes, RFC 3597). */
const RDATA_DECODERS: Record<number, (r: Reader, end: number, length: number) => RData> = {
  1: addressData(4, "A"),
  28: addressData(16, "AAAA"),
  2: nameData, // NS
  5: nameData, // CNAME
  12: nameData, // PTR
  39: nameData, // DNAME
  15: (r) => ({ kind: "mx", preference: r.u16("MX"), exchange: r.name("MX exchange") }),
  6: (r) => ({
    kind: "soa",
    mname: r.name("SOA mname"),
    rname: r.name("SOA rname"),
    serial: r.u32("SOA"),
    refresh: r.u32("SOA"),
    retry: r.u32("SOA"),
    expire: r.u32("SOA"),
    minimum: r.u32("SOA"),
  }),
  33: (r) => ({
    kind: "srv",
    priority: r.u16("SRV"),
    weight: r.u16("SRV"),
    port: r.u16("SRV"),
    target: r.name("SRV target"),
  }),
  16: stringsData, // TXT
  99: stringsData, // SPF
  13: stringsData, // HINFO
  35: (r, end) => ({
    kind: "naptr",
    order: r.u16("NAPTR"),
    preference: r.u16("NAPTR"),
    flags: readCharString(r, end, "NAPTR flags"),
    services: readCharString(r, end, "NAPTR services"),
    regexp: readCharString(r, end, "NAPTR regexp"),
    replacement: r.name("NAPTR replacement"),
  }),
  257: (r, end) => {
    const flags = r.u8("CAA");
    const tag = readCharString(r, end, "CAA tag");
    if (r.at > end) throw new SyntaxError("Malformed DNS message: CAA overruns its record");
    return { kind: "caa", flags, tag, value: r.take(end - r.at, "CAA value") };
  },
};

function decodeRData(r: Reader, type: number, length: number): RData {
  const start = r.at;
  const end = start + length;
  r.need(length, "rdata");
  const decode = RDATA_DECODERS[type];
  const out: RData = decode
    ? decode(r, end, length)
    : { kind: "unknown", bytes: r.take(length, "rdata") };
  if (r.at === end) return out;
  // A record whose fields do not fill (or overrun) its rdlength: keep its bytes.
  if (r.at > end) {
    throw new SyntaxError(`Malformed DNS message: ${typeName(type)} rdata overruns its length`);
  }
  r.at = end;
  return { kind: "unknown", bytes: r.bytes.slice(start, end) };
}

function readRecord(r: Reader, section: string): ResourceRecord {
  const name = r.name(`${section} owner name`);
  const type = r.u16(section);
  const cls = r.u16(section);
  const ttl = r.u32(section);
  const length = r.u16(section);
  return { name, type, cls, ttl, rdata: decodeRData(r, type, length) };
}

/** Decodes a whole message. Throws SyntaxError `Malformed DNS message: ...`. */
export function decodeMessage(bytes: Uint8Array): Message {
  const r = new Reader(bytes);
  if (bytes.length < 12) {
    throw new SyntaxError(`Malformed DNS message: ${bytes.length} bytes, under the 12-byte header`);
  }
  const id = r.u16("header");
  const f = r.u16("header");
  const counts = [r.u16("header"), r.u16("header"), r.u16("header"), r.u16("header")];
  const flags: Flags = {
    qr: (f & 0x8000) !== 0,
    opcode: (f >> 11) & 0xf,
    aa: (f & 0x0400) !== 0,
    tc: (f & 0x0200) !== 0,
    rd: (f & 0x0100) !== 0,
    ra: (f & 0x0080) !== 0,
    ad: (f & 0x0020) !== 0,
    cd: (f & 0x0010) !== 0,
  };
  const questions: Question[] = [];
  for (let k = 0; k < counts[0]; k++) {
    questions.push({
      name: r.name("question name"),
      type: r.u16("question"),
      cls: r.u16("question"),
    });
  }
  // A truncated reply may stop anywhere after the question: keep what is whole.
  const sections: ResourceRecord[][] = [[], [], []];
  const names = ["answer", "authority", "additional"];
  try {
    for (let s = 0; s < 3; s++) {
      for (let k = 0; k < counts[s + 1]; k++) sections[s].push(readRecord(r, names[s]));
    }
  } catch (err) {
    if (!flags.tc) throw err;
  }
  let edns: Edns | null = null;
  let rcode = f & 0xf;
  const additional: ResourceRecord[] = [];
  for (const rec of sections[2]) {
    if (rec.type === 41) {
      edns = { udpSize: rec.cls, version: (rec.ttl >>> 16) & 0xff, do: (rec.ttl & 0x8000) !== 0 };
      rcode |= (rec.ttl >>> 24) << 4;
    } else {
      additional.push(rec);
    }
  }
  return {
    id,
    flags,
    rcode,
    questions,
    answers: sections[0],
    authority: sections[1],
    additional,
    edns,
    size: bytes.length,
  };
}

/** The reverse-lookup name of an address: in-addr.arpa or ip6.arpa (nibbles). */
export function reverseName(bytes: Uint8Array): string {
  if (bytes.length === 4) return `${Array.from(bytes).reverse().join(".")}.in-addr.arpa.`;
  const nibbles: string[] = [];
  for (const b of bytes) nibbles.push((b >> 4).toString(16), (b & 0xf).toString(16));
  return `${nibbles.reverse().join(".")}.ip6.arpa.`;
}
