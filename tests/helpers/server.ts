/**
 * Starting a server for an end-to-end test: socklab (or a peer such as the
 * lecture's C `udp_echo`) runs as a subprocess on a free port, and the test
 * waits for its start-up line — an event, not a sleep — whose last number is
 * the port it bound.
 *
 * @example
 * ```ts ignore
 * import { argv } from "./cli.ts";
 * import { expectCleanStop, startServer } from "./server.ts";
 * await using server = await startServer(
 *   argv`rates-server --port 0 --bind 127.0.0.1`,
 *   /listening on UDP/,
 * );
 * console.log(server.port, server.at());
 * await expectCleanStop(server.proc);
 * ```
 * @module
 */
import { assertEquals } from "./assert.ts";
import { type CliProcess, portOf, spawnCli } from "./cli.ts";

/** Options of {@linkcode startServer}. */
export interface StartOptions {
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Pipe stdin (default true; false gives the server /dev/null). */
  stdin?: boolean;
  /** Where the start-up line appears (default stdout; `nc -v` writes it on stderr). */
  on?: "stdout" | "stderr";
  /** How long to wait for the start-up line (default 10 s). */
  timeoutMs?: number;
}

/** A server subprocess and the port its start-up line named; dispose to kill it. */
export class RunningServer implements AsyncDisposable {
  /** Wraps a started process (see {@linkcode startServer}). */
  constructor(readonly proc: CliProcess, readonly port: number) {}

  /** `HOST:PORT` of the server, for a client's argument (default host 127.0.0.1). */
  at(hostname = "127.0.0.1"): string {
    return `${hostname}:${this.port}`;
  }

  /** Kills the server (SIGKILL) and waits for its output to end. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.proc[Symbol.asyncDispose]();
  }
}

/** Starts `socklab ARGS` and resolves once a line matches `started` (its last number is the port). */
export function startServer(
  args: string[],
  started: RegExp,
  options: StartOptions = {},
): Promise<RunningServer> {
  return whenStarted(spawnCli(args, options), started, options);
}

/**
 * Resolves once `proc` (socklab, or a peer from `spawnProgram`) prints a line
 * matching `started`; a server that never says it is killed, not leaked.
 */
export async function whenStarted(
  proc: CliProcess,
  started: RegExp,
  options: Pick<StartOptions, "on" | "timeoutMs"> = {},
): Promise<RunningServer> {
  try {
    const line = await proc[options.on ?? "stdout"].waitFor(started, options.timeoutMs);
    return new RunningServer(proc, portOf(line));
  } catch (err) {
    await proc[Symbol.asyncDispose]();
    throw err;
  }
}

/** Sends SIGTERM and expects a clean shutdown: exit status 0 and nothing on stderr. */
export async function expectCleanStop(proc: CliProcess): Promise<void> {
  proc.kill("SIGTERM");
  assertEquals((await proc.exit()).code, 0, "exit status after SIGTERM");
  assertEquals(proc.stderr.text, "", "nothing on stderr");
}

/**
 * One handle for several servers: disposing it stops them all at once (in
 * parallel), as `await using` on each would one after another.
 *
 * @example
 * ```ts ignore
 * const [a, b] = await Promise.all([startBinder(), startBinder()]);
 * await using _ = disposeTogether(a, b);
 * ```
 */
export function disposeTogether(...servers: AsyncDisposable[]): AsyncDisposable {
  return {
    async [Symbol.asyncDispose]() {
      await Promise.all(servers.map((s) => s[Symbol.asyncDispose]()));
    },
  };
}
