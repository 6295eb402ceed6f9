/**
 * The binder's wire protocol (exercise 4a) as pure code: parse a request,
 * format each reply, and parse the replies on the client side. No sockets, no
 * clock: the server and clients connect sockets to these functions.
 *
 * Wire grammar (one request or reply per datagram, UTF-8 text):
 * ```text
 * request    = register / unregister / lookup / list / ttl
 * register   = "REGISTER" 1*(SP command)   ; records each command with the datagram's source IP and port
 * unregister = "UNREGISTER"                ; removes every record of the sender's IP and port
 * lookup     = "LOOKUP" SP command
 * list       = "LIST" [SP command]         ; beyond the lab
 * ttl        = "TTL"                       ; beyond the lab: how long a record lives
 * command    = 1*32( ALPHA / DIGIT / "_" / "." / "-" )   ; case-insensitive, kept in upper case
 * SP         = 1*( " " / HTAB )            ; keywords are case-insensitive; a trailing CR, LF or NULs are ignored
 *
 * reply      = "OK REGISTER" 1*(SP command)
 *            / "OK UNREGISTER" SP count
 *            / command SP ip SP port                         ; LOOKUP
 *            / "OK LIST" SP shown [" of " total] *(LF command SP ip SP port SP seconds-left)
 *            / "OK TTL" SP seconds
 *            / "ERR" SP reason
 * ```
 * A datagram that starts with `OK` or `ERR` is a reply, not a request: the
 * binder ignores it, so two services can never bounce errors at each other.
 *
 * @example
 * ```ts
 * import { parseRequest, formatLookupReply } from "./protocol.ts";
 * const req = parseRequest("lookup max\n");
 * console.assert(req.kind === "lookup" && req.command === "MAX");
 * console.assert(formatLookupReply("MAX", "127.0.0.1", 40001) === "MAX 127.0.0.1 40001");
 * ```
 * @module
 */
import { printableText } from "../cli/printable.ts";
import { isIPv4Literal, isIPv6Literal } from "../net/address.ts";

/** Default UDP port of the binder (SPEC §7; one slide says 4500). */
export const DEFAULT_PORT = 5500;
/** Default lifetime of a record, in seconds, unless the server re-registers. */
export const DEFAULT_TTL_SECONDS = 30;
/** Longest command name accepted. */
export const MAX_COMMAND_LENGTH = 32;

/** A request the binder understands. */
export type BinderRequest =
  | { kind: "register"; commands: string[] }
  | { kind: "unregister" }
  | { kind: "lookup"; command: string }
  | { kind: "list"; command?: string }
  | { kind: "ttl" };

/** What {@linkcode parseRequest} returns: a request, an error to reply, or a reply to ignore. */
export type ParsedRequest =
  | BinderRequest
  | { kind: "error"; reason: string }
  | { kind: "ignore" };

/** One record as the binder hands it out. */
export interface RecordView {
  command: string;
  ip: string;
  port: number;
  /** Whole seconds until it expires (LIST only). */
  secondsLeft?: number;
}

const COMMAND_RE = /^[A-Za-z0-9_.-]{1,32}$/;
/** What separates words: runs of spaces and tabs. */
export const SPACE_RE = /[ \t]+/;

/**
 * A command name in canonical (upper-case) form, or `undefined` when it breaks
 * the grammar. `OK` and `ERR` are reserved: they start replies.
 */
export function canonicalCommand(text: string): string | undefined {
  if (!COMMAND_RE.test(text)) return undefined;
  const upper = text.toUpperCase();
  return upper === "OK" || upper === "ERR" ? undefined : upper;
}

/** Removes what senders append to a line: trailing NULs (C clients), CR and LF (nc). */
export function trimRequest(text: string): string {
  let end = text.length;
  while (end > 0) {
    const c = text.charCodeAt(end - 1);
    if (c !== 0 && c !== 10 && c !== 13) break;
    end--;
  }
  let start = 0;
  while (start < end && (text.charCodeAt(start) === 32 || text.charCodeAt(start) === 9)) start++;
  return start === 0 && end === text.length ? text : text.slice(start, end);
}

/** A short, printable quote of untrusted text for an error reply. */
export function quote(text: string, max = 40): string {
  return `"${printableText(text.length > max ? `${text.slice(0, max)}...` : text)}"`;
}

function badCommand(word: string): string {
  return `bad command name ${
    quote(word)
  }: 1 to ${MAX_COMMAND_LENGTH} letters, digits, "_", "." or "-"`;
}

/** Parses one request datagram's text (already decoded). */
export function parseRequest(raw: string): ParsedRequest {
  const text = trimRequest(raw);
  if (text === "") return { kind: "error", reason: "empty request" };
  const words = text.split(SPACE_RE);
  const keyword = words[0].toUpperCase();
  const args = words.slice(1);
  switch (keyword) {
    case "REGISTER": {
      if (args.length === 0) {
        return { kind: "error", reason: "REGISTER needs at least one command" };
      }
      const commands: string[] = [];
      for (const word of args) {
        const command = canonicalCommand(word);
        if (command === undefined) return { kind: "error", reason: badCommand(word) };
        if (!commands.includes(command)) commands.push(command);
      }
      return { kind: "register", commands };
    }
    case "UNREGISTER":
      if (args.length > 0) {
        return {
          kind: "error",
          reason: "UNREGISTER takes no arguments (it removes the sender's own records)",
        };
      }
      return { kind: "unregister" };
    case "LOOKUP": {
      if (args.length !== 1) return { kind: "error", reason: "usage: LOOKUP CMD" };
      const command = canonicalCommand(args[0]);
      if (command === undefined) return { kind: "error", reason: badCommand(args[0]) };
      return { kind: "lookup", command };
    }
    case "LIST": {
      if (args.length > 1) return { kind: "error", reason: "usage: LIST [CMD]" };
      if (args.length === 0) return { kind: "list" };
      const command = canonicalCommand(args[0]);
      if (command === undefined) return { kind: "error", reason: badCommand(args[0]) };
      return { kind: "list", command };
    }
    case "TTL":
      if (args.length > 0) return { kind: "error", reason: "usage: TTL" };
      return { kind: "ttl" };
    case "OK":
    case "ERR":
      return { kind: "ignore" };
    default:
      return {
        kind: "error",
        reason: `unknown request ${
          quote(words[0])
        } (expected REGISTER, UNREGISTER, LOOKUP, LIST or TTL)`,
      };
  }
}

/** `REGISTER C1 ... Ck` */
export function formatRegister(commands: readonly string[]): string {
  return `REGISTER ${commands.join(" ")}`;
}

/** `OK REGISTER C1 ... Ck` */
export function formatRegisterReply(commands: readonly string[]): string {
  return `OK REGISTER ${commands.join(" ")}`;
}

/** `OK UNREGISTER n` */
export function formatUnregisterReply(count: number): string {
  return `OK UNREGISTER ${count}`;
}

/** `CMD IP PORT`, the answer to `LOOKUP CMD`. */
export function formatLookupReply(command: string, ip: string, port: number): string {
  return `${command} ${ip} ${port}`;
}

/** `ERR no server for CMD` */
export function noServerReply(command: string): string {
  return `ERR no server for ${command}`;
}

/** `OK TTL seconds` */
export function formatTtlReply(seconds: number): string {
  return `OK TTL ${seconds}`;
}

/** `ERR reason` */
export function formatError(reason: string): string {
  return `ERR ${reason}`;
}

/**
 * `OK LIST n` and one line per record, keeping as many records as fit in
 * `maxBytes` (one datagram); when some are left out the header says
 * `OK LIST shown of total`.
 */
export function formatListReply(records: readonly RecordView[], maxBytes: number): string {
  const lines: string[] = [];
  // Room for the longest possible header, so adding it never overflows.
  let size = `OK LIST ${records.length} of ${records.length}`.length;
  for (const r of records) {
    const line = `${r.command} ${r.ip} ${r.port} ${r.secondsLeft ?? 0}`;
    if (size + 1 + line.length > maxBytes) break;
    size += 1 + line.length;
    lines.push(line);
  }
  const header = lines.length === records.length
    ? `OK LIST ${lines.length}`
    : `OK LIST ${lines.length} of ${records.length}`;
  return [header, ...lines].join("\n");
}

/** A client's reading of a binder reply that is not the one it asked for. */
export class BinderReplyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BinderReplyError";
  }
}

/** True when `text` is an `ERR reason` reply. */
export function isErrorReply(text: string): boolean {
  return text === "ERR" || text.startsWith("ERR ");
}

/**
 * Reads the answer to `LOOKUP command`: the server's address, or `undefined`
 * when the binder replied `ERR` (`error` then holds the reply). Throws
 * SyntaxError for anything else.
 */
export function parseLookupReply(
  text: string,
  command: string,
): { ip: string; port: number } | { error: string } {
  const line = trimRequest(text);
  if (isErrorReply(line)) return { error: line };
  const words = line.split(SPACE_RE);
  if (words.length !== 3 || words[0].toUpperCase() !== command) {
    throw new SyntaxError(
      `Cannot parse binder reply ${quote(line)}: expected "${command} IP PORT"`,
    );
  }
  const port = Number(words[2]);
  if (!/^[0-9]{1,5}$/.test(words[2]) || port < 1 || port > 65535) {
    throw new SyntaxError(`Cannot parse binder reply ${quote(line)}: bad port`);
  }
  if (!isIPv4Literal(words[1]) && !isIPv6Literal(words[1])) {
    throw new SyntaxError(`Cannot parse binder reply ${quote(line)}: not an IP address`);
  }
  return { ip: words[1], port };
}

/**
 * Reads the answer to `LIST`: its records and the total the binder holds.
 * `ERR` replies (a binder without LIST) become `{ error }`.
 */
export function parseListReply(
  text: string,
): { records: RecordView[]; total: number } | { error: string } {
  const lines = trimRequest(text).split("\n");
  if (isErrorReply(lines[0])) return { error: lines[0] };
  const m = lines[0].match(/^OK LIST ([0-9]+)(?: of ([0-9]+))?$/);
  if (!m || Number(m[1]) !== lines.length - 1) {
    throw new SyntaxError(`Cannot parse binder reply ${quote(lines[0])}: expected "OK LIST n"`);
  }
  const records = lines.slice(1).map((line) => {
    const w = line.split(SPACE_RE);
    if (
      w.length !== 4 || !/^[0-9]+$/.test(w[2]) || !/^[0-9]+$/.test(w[3]) ||
      !(isIPv4Literal(w[1]) || isIPv6Literal(w[1])) || canonicalCommand(w[0]) === undefined
    ) {
      throw new SyntaxError(`Cannot parse binder record ${quote(line)}`);
    }
    return { command: w[0], ip: w[1], port: Number(w[2]), secondsLeft: Number(w[3]) };
  });
  return { records, total: m[2] === undefined ? records.length : Number(m[2]) };
}

/** Reads `OK TTL seconds`; `undefined` for an `ERR` (a binder without TTL). */
export function parseTtlReply(text: string): number | undefined {
  const line = trimRequest(text);
  if (isErrorReply(line)) return undefined;
  const m = line.match(/^OK TTL ([0-9]{1,6})$/);
  if (!m || Number(m[1]) < 1) {
    throw new SyntaxError(`Cannot parse binder reply ${quote(line)}: expected "OK TTL seconds"`);
  }
  return Number(m[1]);
}

/** Reads the answer to REGISTER: `true` for OK, the reply text for ERR. */
export function parseRegisterReply(text: string): true | string {
  const line = trimRequest(text);
  if (line.startsWith("OK REGISTER")) return true;
  if (isErrorReply(line)) return line;
  throw new SyntaxError(`Cannot parse binder reply ${quote(line)}: expected "OK REGISTER ..."`);
}

/** Reads the answer to UNREGISTER: how many records went. */
export function parseUnregisterReply(text: string): number {
  const m = trimRequest(text).match(/^OK UNREGISTER ([0-9]+)$/);
  if (!m) {
    throw new SyntaxError(`Cannot parse binder reply ${quote(text)}: expected "OK UNREGISTER n"`);
  }
  return Number(m[1]);
}

/** The address as a record keeps it: IPv4-mapped IPv6 (`::ffff:1.2.3.4`) shown as IPv4. */
export function recordIp(hostname: string): string {
  return hostname.startsWith("::ffff:") && hostname.includes(".") ? hostname.slice(7) : hostname;
}
