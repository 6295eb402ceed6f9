/**
 * The chat protocol of exercise 4b as pure code: parsing what clients send,
 * formatting what the server sends back, and parsing those server lines again
 * for the client, the tests and the load generator. No sockets, no clock.
 *
 * Wire grammar (TCP: each line ends with LF, CR LF accepted; UDP: one line per
 * datagram, a trailing line end is ignored):
 * ```text
 * request   = signin / signout / who / chat / help / ""  ; "" (an empty line) is ignored
 * signin    = "signin" SP name [ SP "cookie=" 16HEXDIG ] ; UDP: the cookie of a confirm line
 * signout   = "signout" [ SP name ]
 * who       = "who" [ SP *any ]                          ; the lecture sends "who NAME"
 * chat      = "chat" SP text
 * help      = "help" [ SP *any ]                         ; answered to anyone
 * name      = 1*32( ALPHA / DIGIT / "_" / "." / "-" )  ; unique, case-insensitively
 *
 * reply     = msg / users / ok / err / notice / confirm / commands
 * msg       = "Msg " name " says: " text               ; to every member, sender included
 * users     = "Users:" *( SP name )                     ; answer to who, in sign-in order
 * ok        = "OK signed in as " name / "OK signed out " name
 * err       = "ERR " reason                             ; to a stranger: once, how to sign in
 * notice    = "*** " name ( " joined" / " left" / " was disconnected (" reason ")" )
 * confirm   = "CONFIRM to sign in, send: signin " name " cookie=" 16HEXDIG
 *             " (members silent for " 1*DIGIT " s are signed out; an empty line keeps you in)"
 * commands  = "Commands: " *any                         ; answer to help
 * ```
 * `confirm` is the UDP server's answer to a `signin` without a valid cookie:
 * an address that never receives it never becomes a member, so nobody can
 * sign other people's addresses in (see lib/net/amplification.ts).
 * Command words are case-insensitive. Control characters in a chat text are
 * shown as `\xNN`, so no client can send escape sequences to the others'
 * terminals or split a line in two.
 *
 * @example
 * ```ts
 * import { formatMsg, parseRequest } from "./protocol.ts";
 * const req = parseRequest("chat hello all");
 * console.assert(req.kind === "chat" && req.text === "hello all");
 * console.assert(formatMsg("alice", "hi") === "Msg alice says: hi");
 * ```
 * @module
 */
import { printableText } from "../cli/printable.ts";

/** Default port of the chat server, TCP and UDP (SPEC §7). */
export const DEFAULT_PORT = 5600;
/** Longest name accepted. */
export const MAX_NAME = 32;
/** Longest client line accepted by default, in bytes without its line end. */
export const DEFAULT_MAX_LINE = 4096;

/** What a client line asks for. */
export type Request =
  | { kind: "signin"; name: string }
  | { kind: "signout"; name?: string }
  | { kind: "who" }
  | { kind: "chat"; text: string }
  | { kind: "help" }
  | { kind: "empty" }
  | { kind: "invalid"; reason: string; command?: string };

const NAME_RE = /^[A-Za-z0-9_.-]{1,32}$/;

/** Why `name` cannot be used, or undefined when it is a valid name. */
export function nameProblem(name: string): string | undefined {
  if (NAME_RE.test(name)) return undefined;
  return `invalid name '${printableText(name)}': use 1-${MAX_NAME} letters, digits, _ . -`;
}

type Parser = (rest: string) => Request;

/** The command words, each with its parser for the rest of the line. */
const PARSERS: Record<string, Parser> = {
  signin(rest) {
    if (rest === "") return { kind: "invalid", reason: "signin needs a NAME", command: "signin" };
    const problem = nameProblem(rest);
    return problem
      ? { kind: "invalid", reason: problem, command: "signin" }
      : { kind: "signin", name: rest };
  },
  signout(rest) {
    return rest === "" ? { kind: "signout" } : { kind: "signout", name: rest };
  },
  who() {
    return { kind: "who" };
  },
  chat(rest) {
    if (rest === "") return { kind: "invalid", reason: "empty message", command: "chat" };
    return { kind: "chat", text: printableText(rest) };
  },
  help() {
    return { kind: "help" };
  },
};

/**
 * Parses one client line (line end already removed). Never throws: a line it
 * cannot use is `{ kind: "invalid", reason, command }`, `command` naming the
 * command word when it was a known one.
 */
export function parseRequest(line: string): Request {
  // Most lines are chat lines: take them without the general parse below.
  if (line.startsWith("chat ")) {
    const text = chatText(line);
    if (text !== "") return { kind: "chat", text: CONTROL.test(text) ? printableText(text) : text };
  }
  const text = line.replace(/\r?\n$/, "");
  if (text.trim() === "") return { kind: "empty" };
  const m = /^\s*(\S+)(?:[ \t]+(.*))?$/s.exec(text);
  const word = (m?.[1] ?? "").toLowerCase();
  const rest = word === "chat" ? (m?.[2] ?? "") : (m?.[2] ?? "").trim();
  const parser = Object.hasOwn(PARSERS, word) ? PARSERS[word] : undefined;
  if (!parser) {
    return {
      kind: "invalid",
      reason: `unknown command '${printableText(m?.[1] ?? text).slice(0, 40)}' ` +
        `(use signin, signout, who, chat, help)`,
    };
  }
  return parser(rest);
}

// deno-lint-ignore no-control-regex
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;

/** What follows `chat ` in `line`: blanks after the word and a line end removed, as below. */
function chatText(line: string): string {
  let start = 5;
  while (line[start] === " " || line[start] === "\t") start++;
  let end = line.length;
  if (line[end - 1] === "\n") end -= line[end - 2] === "\r" ? 2 : 1;
  return line.slice(start, end);
}

/** The line a client sends for `req` (the inverse of {@linkcode parseRequest}). */
export function formatRequest(
  req: Exclude<Request, { kind: "empty" } | { kind: "invalid" }>,
  me = "",
): string {
  switch (req.kind) {
    case "help":
      return "help";
    case "signin":
      return `signin ${req.name}`;
    case "signout":
      return req.name ? `signout ${req.name}` : "signout";
    case "who":
      return me ? `who ${me}` : "who";
    case "chat":
      return `chat ${req.text}`;
  }
}

/** `Msg NAME says: TEXT` */
export function formatMsg(name: string, text: string): string {
  return `Msg ${name} says: ${text}`;
}

/** `Users: n1 n2 ...` */
export function formatUsers(names: readonly string[]): string {
  return names.length ? `Users: ${names.join(" ")}` : "Users:";
}

/** `OK signed in as NAME` */
export function signedInLine(name: string): string {
  return `OK signed in as ${name}`;
}

/** `OK signed out NAME` */
export function signedOutLine(name: string): string {
  return `OK signed out ${name}`;
}

/** `ERR REASON` */
export function errLine(reason: string): string {
  return `ERR ${reason}`;
}

/** Why a member left the room, for the others and the server log. */
export type LeaveReason =
  | { kind: "signout" }
  | { kind: "closed" }
  | { kind: "failed"; reason: string; /** It could not keep up with the room. */ slow?: boolean };

/** `*** NAME joined` */
export function joinedNotice(name: string): string {
  return `*** ${name} joined`;
}

/** `*** NAME left` or `*** NAME was disconnected (REASON)`. */
export function leftNotice(name: string, why: LeaveReason): string {
  return why.kind === "failed"
    ? `*** ${name} was disconnected (${why.reason})`
    : `*** ${name} left`;
}

/** `ERR line too long (max N bytes)` */
export function tooLongLine(maxLine: number): string {
  return errLine(`line too long (max ${maxLine} bytes)`);
}

/** The answer to `help`, one line. */
export const HELP_LINE =
  "Commands: signin NAME, chat TEXT, who, signout, help (NAME: 1-32 letters, digits, _ . -)";

/** What a client that has not signed in is told (once) when it sends anything but signin. */
export const SIGNIN_FIRST_LINE = 'ERR not signed in: send "signin NAME" first (or "help")';

/** The UDP server's answer to a signin without a valid cookie (see the module doc). */
export function confirmLine(name: string, cookie: string, ttlSeconds: number): string {
  return `CONFIRM to sign in, send: signin ${name} cookie=${cookie} ` +
    `(members silent for ${ttlSeconds} s are signed out; an empty line keeps you in)`;
}

/** `ERR too many connections from SOURCE (at most N per source)` */
export function sourceFullLine(
  what: "connections" | "members",
  source: string,
  max: number,
): string {
  return errLine(`too many ${what} from ${source} (at most ${max} per source)`);
}

/** `ERR server full (N clients)` */
export function serverFullLine(max: number): string {
  return errLine(`server full (${max} clients)`);
}

/** A line the server sent, as the client and the tests see it. */
export type ServerLine =
  | { kind: "msg"; name: string; text: string }
  | { kind: "users"; names: string[] }
  | { kind: "signedIn"; name: string }
  | { kind: "signedOut"; name: string }
  | { kind: "err"; reason: string }
  | { kind: "notice"; text: string }
  | { kind: "confirm"; request: string; cookie: string; ttlSeconds: number }
  | { kind: "other"; text: string };

const CONFIRM_RE =
  /^CONFIRM to sign in, send: (signin \S+ cookie=([0-9a-f]+)) \(members silent for (\d+) s/;

/** Parses one line from the server (never throws; unknown lines are `other`). */
export function parseServerLine(line: string): ServerLine {
  let m: RegExpExecArray | null;
  if ((m = /^Msg (\S+) says: (.*)$/s.exec(line))) return { kind: "msg", name: m[1], text: m[2] };
  if (line === "Users:") return { kind: "users", names: [] };
  if (line.startsWith("Users: ")) {
    return { kind: "users", names: line.slice(7).split(" ").filter(Boolean) };
  }
  if ((m = /^OK signed in as (\S+)$/.exec(line))) return { kind: "signedIn", name: m[1] };
  if ((m = /^OK signed out (\S+)$/.exec(line))) return { kind: "signedOut", name: m[1] };
  if (line.startsWith("ERR ")) return { kind: "err", reason: line.slice(4) };
  if (line.startsWith("*** ")) return { kind: "notice", text: line.slice(4) };
  if ((m = CONFIRM_RE.exec(line))) {
    return { kind: "confirm", request: m[1], cookie: m[2], ttlSeconds: Number(m[3]) };
  }
  return { kind: "other", text: line };
}

/** Server log lines: joins, leaves and drops, with the client's address. */
export const logLines = {
  joined: (name: string, peer: string) => `socklab chat-server: ${name} joined from ${peer}`,
  left: (name: string, peer: string, why: LeaveReason) =>
    why.kind === "signout"
      ? `socklab chat-server: ${name} left (${peer})`
      : `socklab chat-server: dropped ${name} (${peer}): ${
        why.kind === "closed" ? "connection closed" : why.reason
      }`,
  refused: (peer: string, why: string) => `socklab chat-server: refused ${peer}: ${why}`,
  strangerDropped: (peer: string, why: string) =>
    `socklab chat-server: dropped connection ${peer}: ${why}`,
};
