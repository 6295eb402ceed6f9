/**
 * The binder's wire protocol (exercise 4a) as pure code: parse a request,
 * format each reply, and parse the replies on the client side. No sockets, no
 * clock: the server and clients connect sockets to these functions.
 *
 * Wire grammar (one request or reply per datagram, UTF-8 text):
 * ```text
 * request    = ( register / unregister / lookup / list / ttl ) [SP "cookie=" 1*HEXDIG]
 * register   = "REGISTER" 1*(SP command) [signature]   ; records each command with the datagram's source IP and port
 * signature  = SP "t=" 1*DIGIT SP "sig=" 64HEXDIG      ; HMAC-SHA256 of the text before SP "sig=" (binder --key)
 * unregister = "UNREGISTER"                ; removes every record of the sender's IP and port
 * lookup     = "LOOKUP" SP command
 * list       = "LIST" [SP command] [SP "from=" 1*DIGIT]   ; beyond the lab; from= pages on
 * ttl        = "TTL"                       ; beyond the lab: how long a record lives
 * command    = 1*32( ALPHA / DIGIT / "_" / "." / "-" )   ; case-insensitive, kept in upper case
 * SP         = 1*( " " / HTAB )            ; keywords are case-insensitive; blanks, CR, LF or NULs at the end are ignored
 *
 * reply      = "OK REGISTER" 1*(SP command)
 *            / "OK UNREGISTER" SP count
 *            / command SP ip SP port                         ; LOOKUP
 *            / "OK LIST" SP shown [" of " total [" from " first]] *(LF record) [LF more]
 *            / "OK TTL" SP seconds
 *            / "ERR" SP reason
 * record     = command SP ip SP port SP seconds-left
 * more       = "(+" count " more: send " DQUOTE list-request DQUOTE ")"
 * ```
 * A datagram that starts with `OK` or `ERR` is a reply, not a request: the
 * binder ignores it, so two services can never bounce errors at each other.
 * A `LIST` reply that leaves records out ends with `(+N more: send "REQUEST")`,
 * the exact request that gets the next ones (with the sender's address cookie, so a
 * source that has not completed a round trip gets at most max(3x, 512) bytes
 * and a person with `nc -u` sees what to type).
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

/** The signature part of a signed REGISTER (`t=MS sig=HEX`). */
export interface RegisterSignature {
  /** Sender's clock, ms since the epoch. */
  time: number;
  /** HMAC-SHA256 in hex (64 digits, lower case). */
  sig: string;
  /** The text the HMAC covers: the request up to (not including) ` sig=`. */
  signed: string;
}

/** A request the binder understands. */
export type BinderRequest =
  | { kind: "register"; commands: string[]; signature?: RegisterSignature }
  | { kind: "unregister" }
  | { kind: "lookup"; command: string }
  | { kind: "list"; command?: string; from: number }
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

/**
 * Removes what senders add around a line: trailing NULs (C clients), CR and
 * LF (nc), and blanks (spaces, tabs) at either end, so `MAX 1 ` reads as `MAX 1`.
 */
export function trimRequest(text: string): string {
  let end = text.length;
  while (end > 0) {
    const c = text.charCodeAt(end - 1);
    if (c !== 0 && c !== 10 && c !== 13 && c !== 32 && c !== 9) break;
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

type KeywordParser = (args: string[], text: string) => ParsedRequest;

const usage = (reason: string): ParsedRequest => ({ kind: "error", reason });

/** `t=MS sig=HEX` at the end of a REGISTER, split from the commands. */
function parseRegister(args: string[], text: string): ParsedRequest {
  let signature: RegisterSignature | undefined;
  if (/^sig=/i.test(args.at(-1) ?? "")) {
    const m = /[ \t]+t=([0-9]{1,16})[ \t]+sig=([0-9a-fA-F]{64})$/.exec(text);
    if (!m) return usage("bad signature: expected t=MILLISECONDS sig=64-HEX-DIGITS at the end");
    const signed = text.slice(0, m.index + m[0].toLowerCase().lastIndexOf("sig=")).trimEnd();
    signature = { time: Number(m[1]), sig: m[2].toLowerCase(), signed };
    args = args.slice(0, -2);
  }
  if (args.length === 0) return usage("REGISTER needs at least one command");
  const commands: string[] = [];
  for (const word of args) {
    const command = canonicalCommand(word);
    if (command === undefined) return usage(badCommand(word));
    if (!commands.includes(command)) commands.push(command);
  }
  return signature ? { kind: "register", commands, signature } : { kind: "register", commands };
}

function parseList(args: string[]): ParsedRequest {
  let from = 0;
  const last = args.at(-1);
  if (last !== undefined && /^from=/i.test(last)) {
    if (!/^from=[0-9]{1,6}$/i.test(last)) return usage("usage: LIST [CMD] [from=N]");
    from = Number(last.slice(5));
    args = args.slice(0, -1);
  }
  if (args.length > 1) return usage("usage: LIST [CMD] [from=N]");
  if (args.length === 0) return { kind: "list", from };
  const command = canonicalCommand(args[0]);
  if (command === undefined) return usage(badCommand(args[0]));
  return { kind: "list", command, from };
}

/** One parser per keyword (upper case). */
const KEYWORDS: Record<string, KeywordParser> = {
  REGISTER: parseRegister,
  UNREGISTER: (args) =>
    args.length > 0
      ? usage("UNREGISTER takes no arguments (it removes the sender's own records)")
      : { kind: "unregister" },
  LOOKUP: (args) => {
    if (args.length !== 1) return usage("usage: LOOKUP CMD");
    const command = canonicalCommand(args[0]);
    return command === undefined ? usage(badCommand(args[0])) : { kind: "lookup", command };
  },
  LIST: parseList,
  TTL: (args) => args.length > 0 ? usage("usage: TTL") : { kind: "ttl" },
  OK: () => ({ kind: "ignore" }),
  ERR: () => ({ kind: "ignore" }),
};

/** Parses one request datagram's text (already decoded, its cookie word split off). */
export function parseRequest(raw: string): ParsedRequest {
  const text = trimRequest(raw);
  if (text === "") return usage("empty request");
  const words = text.split(SPACE_RE);
  const parse = Object.hasOwn(KEYWORDS, words[0].toUpperCase())
    ? KEYWORDS[words[0].toUpperCase()]
    : undefined;
  if (parse) return parse(words.slice(1), text);
  return usage(
    `unknown request ${quote(words[0])} (expected REGISTER, UNREGISTER, LOOKUP, LIST or TTL)`,
  );
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

/** Options of {@linkcode formatListReply}. */
export interface ListReplyOptions {
  /** Most bytes the reply may take (one datagram, or the anti-amplification budget). */
  maxBytes: number;
  /** Index of the first record shown (`from=`), default 0. */
  from?: number;
  /** The request that gets the records from index `next` on (for the `more:` line). */
  more?: (next: number) => string;
}

function recordLine(r: RecordView): string {
  return `${r.command} ${r.ip} ${r.port} ${r.secondsLeft ?? 0}`;
}

/** `(+N more: send "LIST from=20 cookie=HEX")`: the last line of a LIST reply that left records out. */
export function moreLine(count: number, request: string): string {
  return `(+${count} more: send "${request}")`;
}

const MORE_RE = /^\(\+([0-9]+) more: send "(LIST[ !#-~]*)"\)$/;

/**
 * `OK LIST n` and one line per record from `from` on, keeping as many as fit
 * in `maxBytes`. When some are left out the header says `OK LIST shown of
 * total` (`... from first` past the first page) and, given `more`, a last
 * line `(+N more: send "REQUEST")` names the request for the rest.
 */
export function formatListReply(
  records: readonly RecordView[],
  options: ListReplyOptions,
): string {
  const from = Math.min(options.from ?? 0, records.length);
  const total = records.length;
  // Room for the longest possible header and more line, so adding them never overflows.
  const moreRoom = options.more ? moreLine(total, options.more(total)).length + 1 : 0;
  let size = `OK LIST ${total} of ${total} from ${from}`.length + moreRoom;
  const lines: string[] = [];
  for (let i = from; i < total; i++) {
    const line = recordLine(records[i]);
    if (size + 1 + line.length > options.maxBytes) break;
    size += 1 + line.length;
    lines.push(line);
  }
  const next = from + lines.length;
  const header = from === 0 && next === total
    ? `OK LIST ${lines.length}`
    : `OK LIST ${lines.length} of ${total}${from > 0 ? ` from ${from}` : ""}`;
  const more = next < total && options.more ? [moreLine(total - next, options.more(next))] : [];
  return [header, ...lines, ...more].join("\n");
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

/** A `LIST` reply as a client reads it. */
export interface ListPage {
  records: RecordView[];
  /** Records the binder holds (all pages). */
  total: number;
  /** Index of the first record of this page. */
  from: number;
  /** The request for the next page (the `(+N more: send "...")` line), if the binder named one. */
  more?: string;
}

/**
 * Reads the answer to `LIST`: its records, the total the binder holds, and
 * the request for the rest. `ERR` replies (a binder without LIST) become `{ error }`.
 */
export function parseListReply(text: string): ListPage | { error: string } {
  const lines = trimRequest(text).split("\n");
  if (isErrorReply(lines[0])) return { error: lines[0] };
  let more: string | undefined;
  const hint = lines.length > 1 ? MORE_RE.exec(lines.at(-1)!) : null;
  if (hint) {
    more = hint[2];
    lines.pop();
  }
  const m = lines[0].match(/^OK LIST ([0-9]+)(?: of ([0-9]+)(?: from ([0-9]+))?)?$/);
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
  const total = m[2] === undefined ? records.length : Number(m[2]);
  const page: ListPage = { records, total, from: m[3] === undefined ? 0 : Number(m[3]) };
  if (more !== undefined) page.more = more;
  return page;
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
