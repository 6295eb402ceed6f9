/**
 * The shape every command module has: `main.ts` loads the module lazily and
 * calls its `main` with the arguments after the command name.
 *
 * @example
 * ```ts
 * import type { CommandContext } from "./command.ts";
 * export async function main(args: string[], ctx: CommandContext): Promise<number> {
 *   ctx.signal.addEventListener("abort", () => {});
 *   return args.length ? 0 : 1;
 * }
 * ```
 * @module
 */

/** What `main.ts` hands a command besides its arguments. */
export interface CommandContext {
  /** Aborted on SIGINT or SIGTERM: servers close every socket and return 0. */
  signal: AbortSignal;
}

/** A command module's entry point; the result is the exit status (default 0). */
export type CommandMain = (args: string[], ctx: CommandContext) => Promise<number | void>;

/** What a lazily imported command module must export. */
export interface CommandModule {
  main: CommandMain;
}
