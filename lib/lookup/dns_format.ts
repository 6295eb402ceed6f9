/**
 * Pure formatting of DNS replies: record data in the presentation form dig
 * (BIND) prints, dig-like sections with the same column layout, the `--short`
 * form, and the JSON document of `socklab dns --json`.
 *
 * ```text
 * record line := owner <tab to 24> ttl <tab to 32> class <tab to 40> type <tab to 48> rdata
 *                (a single space instead when a column is already passed)
 * char-string := '"' ( printable | '\"' | '\\' | '\DDD' )* '"'
 * unknown     := '\# ' length ( ' ' HEX of up to 28 bytes )*   (RFC 3597)
 * ```
 *
 * @example
 * ```ts
 * import { rdataText } from "./dns_format.ts";
 * console.assert(rdataText({ kind: "mx", preference: 10, exchange: "mail.test." }) === "10 mail.test.");
 * ```
 * @module
 */
import {
  className,
  type Message,
  rcodeName,
  type RData,
  type ResourceRecord,
  typeName,
} from "./dns_wire.ts";

/** A character-string in double quotes, escaped as BIND does. */
export function charString(bytes: Uint8Array): string {
  let out = '"';
  for (const b of bytes) {
    if (b === 0x22 || b === 0x5c) out += "\\" + String.fromCharCode(b);
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += "\\" + String(b).padStart(3, "0");
  }
  return out + '"';
}

/** Bytes as text when printable ASCII, for JSON fields (else \DDD escapes as in charString). */
function plainText(bytes: Uint8Array): string {
  return charString(bytes).slice(1, -1).replace(/\\(["\\])/g, "$1");
}

/** The rdata in presentation form. */
export function rdataText(d: RData): string {
  switch (d.kind) {
    case "address":
      return d.address;
    case "name":
      return d.target;
    case "mx":
      return `${d.preference} ${d.exchange}`;
    case "soa":
      return `${d.mname} ${d.rname} ${d.serial} ${d.refresh} ${d.retry} ${d.expire} ${d.minimum}`;
    case "srv":
      return `${d.priority} ${d.weight} ${d.port} ${d.target}`;
    case "strings":
      return d.strings.map(charString).join(" ");
    case "naptr":
      return `${d.order} ${d.preference} ${charString(d.flags)} ${charString(d.services)} ${
        charString(d.regexp)
      } ${d.replacement}`;
    case "caa":
      return `${d.flags} ${plainText(d.tag)} ${charString(d.value)}`;
    case "unknown": {
      const hex = Array.from(d.bytes, (b) => b.toString(16).padStart(2, "0")).join("");
      // dig breaks the hex into words of 28 bytes.
      const words = hex.toUpperCase().match(/.{1,56}/g) ?? [];
      return ["\\#", String(d.bytes.length), ...words].join(" ");
    }
  }
}

/** The rdata's fields for JSON (names and numbers; strings as text). */
export function rdataJson(d: RData): Record<string, unknown> {
  switch (d.kind) {
    case "address":
      return { address: d.address };
    case "name":
      return { target: d.target };
    case "strings":
      return { strings: d.strings.map(plainText) };
    case "naptr":
      return {
        order: d.order,
        preference: d.preference,
        flags: plainText(d.flags),
        services: plainText(d.services),
        regexp: plainText(d.regexp),
        replacement: d.replacement,
      };
    case "caa":
      return {
        flags: d.flags,
        critical: (d.flags & 0x80) !== 0,
        tag: plainText(d.tag),
        value: plainText(d.value),
      };
    case "unknown":
      return { hex: Array.from(d.bytes, (b) => b.toString(16).padStart(2, "0")).join("") };
    default: {
      const { kind: _kind, ...fields } = d;
      return fields;
    }
  }
}

/** `text` followed by tabs up to column `col` (tab stops every 8), or one space if past it. */
function tabTo(text: string, col: number): string {
  let at = 0;
  for (const ch of text) at = ch === "\t" ? (Math.floor(at / 8) + 1) * 8 : at + 1;
  if (at >= col) return text + " ";
  let out = text;
  while (at < col) {
    out += "\t";
    at = (Math.floor(at / 8) + 1) * 8;
  }
  return out;
}

/** One record as dig prints it in a section. */
export function recordLine(rr: ResourceRecord): string {
  return tabTo(
    tabTo(tabTo(tabTo(rr.name, 24) + String(rr.ttl), 32) + className(rr.cls), 40) +
      typeName(rr.type),
    48,
  ) + rdataText(rr.rdata);
}

/** What the reply came over and how long it took, for the footer. */
export interface QueryInfo {
  server: string;
  port: number;
  transport: "UDP" | "TCP";
  ms: number;
}

function flagList(m: Message): string[] {
  const f = m.flags;
  const names: [boolean, string][] = [
    [f.qr, "qr"],
    [f.aa, "aa"],
    [f.tc, "tc"],
    [f.rd, "rd"],
    [f.ra, "ra"],
    [f.ad, "ad"],
    [f.cd, "cd"],
  ];
  return names.filter(([on]) => on).map(([, n]) => n);
}

const OPCODES = ["QUERY", "IQUERY", "STATUS", "OPCODE3", "NOTIFY", "UPDATE"];

/** The whole reply, dig-like: header, question, sections, footer. */
export function digLines(m: Message, info: QueryInfo): string[] {
  const lines = [
    `;; ->>HEADER<<- opcode: ${OPCODES[m.flags.opcode] ?? `OPCODE${m.flags.opcode}`}, status: ${
      rcodeName(m.rcode)
    }, id: ${m.id}`,
    `;; flags: ${
      flagList(m).join(" ")
    }; QUERY: ${m.questions.length}, ANSWER: ${m.answers.length}, AUTHORITY: ${m.authority.length}, ADDITIONAL: ${
      m.additional.length + (m.edns ? 1 : 0)
    }`,
  ];
  if (m.edns) {
    lines.push(
      "",
      ";; OPT PSEUDOSECTION:",
      `; EDNS: version: ${m.edns.version}, flags:${m.edns.do ? " do" : ""}; udp: ${m.edns.udpSize}`,
    );
  }
  lines.push("", ";; QUESTION SECTION:");
  for (const q of m.questions) {
    // dig lays the question out as if the ";" were not there.
    lines.push(";" + tabTo(tabTo(q.name, 32) + className(q.cls), 40) + typeName(q.type));
  }
  const sections: [string, ResourceRecord[]][] = [
    ["ANSWER", m.answers],
    ["AUTHORITY", m.authority],
    ["ADDITIONAL", m.additional],
  ];
  for (const [title, records] of sections) {
    if (records.length === 0) continue;
    lines.push("", `;; ${title} SECTION:`, ...records.map(recordLine));
  }
  const where = info.server;
  lines.push(
    "",
    `;; Query time: ${Math.round(info.ms)} msec`,
    `;; SERVER: ${where}#${info.port}(${where}) (${info.transport})`,
    `;; MSG SIZE  rcvd: ${m.size}`,
  );
  return lines;
}

/** `--short`: the rdata of every answer record, one per line (like dig +short). */
export function shortLines(m: Message): string[] {
  return m.answers.map((rr) => rdataText(rr.rdata));
}

function recordJson(rr: ResourceRecord): Record<string, unknown> {
  return {
    name: rr.name,
    ttl: rr.ttl,
    class: className(rr.cls),
    type: typeName(rr.type),
    data: rdataText(rr.rdata),
    ...rdataJson(rr.rdata),
  };
}

/** The JSON document of a reply. */
export function messageJson(m: Message, info: QueryInfo): Record<string, unknown> {
  return {
    server: info.server,
    port: info.port,
    transport: info.transport.toLowerCase(),
    queryTimeMs: Math.round(info.ms * 10) / 10,
    id: m.id,
    opcode: OPCODES[m.flags.opcode] ?? m.flags.opcode,
    status: rcodeName(m.rcode),
    flags: flagList(m),
    question: m.questions.map((q) => ({
      name: q.name,
      class: className(q.cls),
      type: typeName(q.type),
    })),
    answer: m.answers.map(recordJson),
    authority: m.authority.map(recordJson),
    additional: m.additional.map(recordJson),
    edns: m.edns,
    size: m.size,
  };
}
