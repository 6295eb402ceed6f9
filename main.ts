/**
 * socklab's entry point: it only dispatches. It alone reads `Deno.args`,
 * turns SIGINT/SIGTERM into an AbortSignal, and sets the exit status.
 *
 * ```sh
 * deno run -A main.ts --help
 * deno run -A main.ts udp-server --port 0
 * ```
 * @module
 */
import denoJson from "./deno.json" with { type: "json" };
import type { CommandContext } from "./lib/cli/command.ts";
import {
  CLIENT_EXIT,
  type CommandEntry,
  COMMANDS,
  loadCommand,
  SECTIONS,
} from "./lib/cli/commands.ts";
import { describeError, FailError, HelpRequest, UsageError } from "./lib/cli/errors.ts";
import { currentUsage } from "./lib/cli/flags.ts";

/** The help builder, loaded only for --help: no other run needs it. */
const helpBuilder = () => import("./lib/cli/help.ts");

const USAGE = "usage: socklab <command> [options] [arguments]   (socklab --help lists commands)";

async function helpText(): Promise<string> {
  const { exitStatusLine } = await helpBuilder();
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const lines = [
    `socklab ${denoJson.version}: the sockets lab in one program`,
    "",
    "usage: socklab <command> [options] [arguments]",
    "       socklab <command> --help    usage of one command",
    "       socklab --version",
  ];
  for (const section of SECTIONS) {
    const rows = COMMANDS.filter((c) => c.section === section);
    if (rows.length === 0) continue;
    lines.push("", `${section}:`);
    for (const c of rows) lines.push(`  ${c.name.padEnd(width)}  ${c.summary}`);
  }
  lines.push("", exitStatusLine(`${CLIENT_EXIT} Each command's --help says what its own mean.`));
  return lines.join("\n");
}

/**
 * Status when stdout's reader went away: 0, with no message (ss and netstat
 * die of SIGPIPE silently; Deno ignores SIGPIPE, and its console.log already
 * drops short writes to a closed pipe, so 0 keeps every command alike).
 */
const EXIT_CLOSED_PIPE = 0;

/** True for a write to a closed pipe, however deep in `cause` it is. */
function isBrokenPipe(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e instanceof Deno.errors.BrokenPipe) return true;
  }
  return false;
}

function findCommand(name: string): CommandEntry | undefined {
  return COMMANDS.find((c) => c.name === name);
}

/**
 * SIGINT/SIGTERM abort `controller` (a graceful stop); a second signal exits
 * at once with 130. Returns what removes the listeners.
 */
function abortOnSignals(controller: AbortController): () => void {
  let signals = 0;
  const onSignal = () => {
    if (++signals > 1) Deno.exit(130);
    controller.abort();
  };
  const installed: Deno.Signal[] = [];
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    try {
      Deno.addSignalListener(sig, onSignal);
      installed.push(sig);
    } catch {
      // Not supported here (e.g. SIGTERM on Windows).
    }
  }
  return () => {
    for (const sig of installed) Deno.removeSignalListener(sig, onSignal);
  };
}

/**
 * The context a command gets. Its `signal` installs the SIGINT/SIGTERM
 * listeners when a command first asks for it: binding signals costs ~5 ms of
 * start-up, which a look-up that never stops gracefully does not pay (a
 * signal ends it at once, as it ends getent or dig).
 */
function signalContext(): { ctx: CommandContext; removeSignals: () => void } {
  const controller = new AbortController();
  let remove: (() => void) | undefined;
  const ctx: CommandContext = {
    get signal() {
      remove ??= abortOnSignals(controller);
      return controller.signal;
    },
  };
  return { ctx, removeSignals: () => remove?.() };
}

/** Runs one socklab command line; resolves with the exit status. */
export async function run(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined) {
    console.error(USAGE);
    return 2;
  }
  if (name === "--help" || name === "-h" || name === "help") {
    console.log(await helpText());
    return 0;
  }
  if (name === "--version" || name === "-V") {
    console.log(`socklab ${denoJson.version} (deno ${Deno.version.deno}, v8 ${Deno.version.v8})`);
    return 0;
  }
  const entry = findCommand(name);
  if (!entry) {
    console.error(`socklab: unknown command "${name}"`);
    console.error(USAGE);
    return 2;
  }
  const { ctx, removeSignals } = signalContext();
  try {
    const mod = await loadCommand(entry);
    const code = await mod.main(rest, ctx);
    return code ?? 0;
  } catch (err) {
    // The reader closed the pipe (`| head`): its choice, not our failure.
    if (isBrokenPipe(err)) return EXIT_CLOSED_PIPE;
    if (err instanceof HelpRequest) {
      const { finishHelp, formatHelp } = await helpBuilder();
      console.log(finishHelp(formatHelp(err.content), entry.exitStatus));
      return 0;
    }
    console.error(`socklab ${name}: ${describeError(err)}`);
    if (err instanceof UsageError) {
      const usage = err.usage || currentUsage();
      if (usage) console.error(usage);
      return 2;
    }
    if (err instanceof FailError) return err.exitCode;
    // Unexpected: keep one line on stderr, the stack only when asked for.
    if (Deno.env.get("SOCKLAB_DEBUG") && err instanceof Error) console.error(err.stack);
    return 1;
  } finally {
    removeSignals();
  }
}

/** {@linkcode run}, with a closed stdout (help or version piped into `head -0`) ending quietly. */
async function runQuietOnClosedPipe(args: string[]): Promise<number> {
  try {
    return await run(args);
  } catch (err) {
    if (isBrokenPipe(err)) return EXIT_CLOSED_PIPE;
    throw err;
  }
}

if (import.meta.main) {
  Deno.exit(await runQuietOnClosedPipe(Deno.args));
}
