/**
 * The exec server's wire protocol (exercise 4a) as pure code: a request names
 * an operation and its integer arguments; the reply repeats the name with the
 * results. Arbitrary precision (BigInt), explicit limits, `ERR` for the rest.
 *
 * Wire grammar (one request or reply per datagram, UTF-8 text):
 * ```text
 * request = command 1*(SP integer)      ; at most 10,000 integers
 * integer = [ "+" / "-" ] 1*DIGIT       ; any number of digits
 * reply   = command 1*(SP integer)      ; the name as requested, in upper case; integers canonical
 *         / "ERR" SP reason
 * command = MIN / MAX / SORTU / SORT-UP / SORTD / SORT-DOWN / REVERSE / PERMUTE   ; case-insensitive
 * SP      = 1*( " " / HTAB )            ; a trailing CR, LF or NULs are ignored
 * ```
 * A datagram that starts with `OK` or `ERR` is a reply (the binder's, say):
 * the server ignores it instead of answering.
 *
 * @example
 * ```ts
 * import { answerRequest } from "./protocol.ts";
 * import { OPERATIONS } from "./operations.ts";
 * console.assert(answerRequest("MAX 1 2 3 4", OPERATIONS) === "MAX 4");
 * console.assert(answerRequest("SORTU 8 1 4 0", OPERATIONS) === "SORTU 0 1 4 8");
 * ```
 * @module
 */
import { quote, SPACE_RE, trimRequest } from "../binder/protocol.ts";
import { findOperation, namesOf, type Operation, OPERATIONS } from "./operations.ts";

/** Most integer arguments one request may carry. */
export const MAX_ARGUMENTS = 10_000;

const INTEGER_RE = /^[+-]?[0-9]+$/;

/** What {@linkcode parseExecRequest} returns. */
export type ParsedExecRequest =
  | { kind: "call"; name: string; operation: Operation; args: bigint[] }
  | { kind: "error"; reason: string }
  | { kind: "ignore" };

/** Options of {@linkcode parseExecRequest} and {@linkcode answerRequest}. */
export interface ExecLimits {
  /** Most arguments (default {@linkcode MAX_ARGUMENTS}). */
  maxArguments?: number;
  /** Longest reply in bytes (default 65,507: one UDP datagram). */
  maxReplyBytes?: number;
  /** Random source for PERMUTE (default `Math.random`). */
  random?: () => number;
}

/** The names `offered` answers to, for error messages: `MIN, MAX, SORTU (SORT-UP)`. */
export function offeredNames(offered: readonly Operation[]): string {
  return offered.map((op) => op.aliases.length ? `${op.name} (${op.aliases.join(", ")})` : op.name)
    .join(", ");
}

/** Parses one request against the operations this server offers. */
export function parseExecRequest(
  raw: string,
  offered: readonly Operation[],
  limits: ExecLimits = {},
): ParsedExecRequest {
  const text = trimRequest(raw);
  if (text === "") return { kind: "error", reason: "empty request" };
  const words = text.split(SPACE_RE);
  const name = words[0].toUpperCase();
  if (name === "OK" || name === "ERR") return { kind: "ignore" };
  const operation = findOperation(name);
  if (operation === undefined || !offered.includes(operation)) {
    const what = operation === undefined ? "unknown command" : "command not offered here";
    return {
      kind: "error",
      reason: `${what} ${quote(words[0])} (offered: ${offeredNames(offered)})`,
    };
  }
  const count = words.length - 1;
  if (count === 0) return { kind: "error", reason: `${name} needs at least one integer` };
  const max = limits.maxArguments ?? MAX_ARGUMENTS;
  if (count > max) {
    return { kind: "error", reason: `too many arguments: ${count} (at most ${max})` };
  }
  const args: bigint[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const word = words[i + 1];
    if (!INTEGER_RE.test(word)) return { kind: "error", reason: `not an integer: ${quote(word)}` };
    args[i] = BigInt(word);
  }
  return { kind: "call", name, operation, args };
}

/** `CMD r1 ... rN` */
export function formatExecReply(name: string, results: readonly bigint[]): string {
  return `${name} ${results.join(" ")}`;
}

/**
 * The reply to one request: `CMD r1 ... rN`, `ERR reason`, or `undefined` for
 * a reply that must not be answered. Pure apart from the random source.
 */
export function answerRequest(
  raw: string,
  offered: readonly Operation[],
  limits: ExecLimits = {},
): string | undefined {
  const req = parseExecRequest(raw, offered, limits);
  if (req.kind === "ignore") return undefined;
  if (req.kind === "error") return `ERR ${req.reason}`;
  const reply = formatExecReply(
    req.name,
    req.operation.apply(req.args, limits.random ?? Math.random),
  );
  // Canonical integers are never longer than their input, but a reply is one
  // datagram whatever happens, so check rather than trust that.
  const max = limits.maxReplyBytes ?? 65_507;
  if (reply.length > max) return `ERR reply of ${reply.length} bytes does not fit in one datagram`;
  return reply;
}

/** The operations named in `--commands` (`MIN,MAX`); throws SyntaxError naming an unknown one. */
export function parseCommandList(text: string): Operation[] {
  const out: Operation[] = [];
  for (const word of text.split(/[,\s]+/).filter(Boolean)) {
    const op = findOperation(word);
    if (op === undefined) {
      throw new SyntaxError(`Unknown command "${word}" (known: ${offeredNames(OPERATIONS)})`);
    }
    if (!out.includes(op)) out.push(op);
  }
  if (out.length === 0) throw new SyntaxError("No command given");
  return out;
}

/** Every name a server offering `ops` registers with the binder (aliases included). */
export function registeredNames(ops: readonly Operation[]): string[] {
  return ops.flatMap(namesOf);
}
