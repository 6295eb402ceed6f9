/**
 * Error types that carry an exit status. `main.ts` is the only place that turns
 * them into an exit code; library code throws them and never exits.
 *
 * @example
 * ```ts
 * import { FailError, UsageError } from "./errors.ts";
 * const err = new UsageError('Cannot parse port "x"', "usage: socklab udp-server [--port N]");
 * console.assert(err.exitCode === 2);
 * console.assert(new FailError("unknown host 'nowhere'").exitCode === 1);
 * console.assert(new FailError("no servers could be reached", { exitCode: 9 }).exitCode === 9);
 * ```
 * @module
 */
import type { HelpSpec } from "./help.ts";

/**
 * The operation failed (unknown host, time-out, refused): exit status 1, or
 * the status the classic tool a command mirrors gives (getent's 2 for an
 * unknown key, dig's 9 for no reply).
 */
export class FailError extends Error {
  readonly exitCode: number;
  constructor(message: string, options?: ErrorOptions & { exitCode?: number }) {
    super(message, options);
    this.name = "FailError";
    this.exitCode = options?.exitCode ?? 1;
  }
}

/** The command line was wrong: exit status 2, with the usage line on stderr. */
export class UsageError extends Error {
  readonly exitCode = 2;
  /** The command's usage line(s), printed after the message. */
  readonly usage: string;
  constructor(message: string, usage = "") {
    super(message);
    this.name = "UsageError";
    this.usage = usage;
  }
}

/**
 * `--help` was given: print the help to stdout and exit 0. It carries free
 * text or the parts of a help to generate, so that the help builder
 * (help.ts) is loaded only when help is asked for.
 */
export class HelpRequest extends Error {
  readonly exitCode = 0;
  readonly content: string | HelpSpec;
  constructor(content: string | HelpSpec) {
    super("help requested");
    this.name = "HelpRequest";
    this.content = content;
  }
}

/**
 * One line describing `err` for stderr: the message of our own errors, and
 * `Deno.errors` names mapped to plain words (never a stack trace).
 */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const base = err.message || err.name;
    return base.split("\n")[0];
  }
  return String(err);
}
