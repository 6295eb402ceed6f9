/**
 * Flag parsing for every command, on `node:util` parseArgs (the role @std/cli
 * would play). Conflicts and ranges are checked before any I/O; problems become
 * {@linkcode UsageError}s and `--help` a {@linkcode HelpRequest}.
 *
 * @example
 * ```ts
 * import { parseFlags, intFlag } from "./flags.ts";
 * const { values, positionals } = parseFlags(["--port", "0", "a"], {
 *   usage: "usage: socklab x [--port N] ARG",
 *   options: { port: { type: "string" } },
 * });
 * console.assert(intFlag(values.port, "port", 0, 65535) === 0);
 * console.assert(positionals[0] === "a");
 * ```
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { HelpRequest, UsageError } from "./errors.ts";

/** Options of {@linkcode parseFlags}. */
export interface FlagSpec<O extends ParseArgsConfig["options"]> {
  /** Usage line(s), shown on a usage error and at the top of `--help`. */
  usage: string;
  /** Extra help text after the usage (descriptions of options). */
  help?: string;
  /** The options, as `node:util` parseArgs takes them (`--help` is added). */
  options: O;
  /** Minimum number of positional arguments (default 0). */
  minPositionals?: number;
  /** Maximum number of positional arguments (default unlimited). */
  maxPositionals?: number;
}

/**
 * The usage line of the command whose flags were parsed last, so a UsageError
 * raised later (a range check, a bad address) still prints its usage line.
 */
let lastUsage = "";

/** The usage line given to the most recent {@linkcode parseFlags} call. */
export function currentUsage(): string {
  return lastUsage;
}

type Parsed<O extends ParseArgsConfig["options"]> = ReturnType<
  typeof parseArgs<
    { options: O & { help: { type: "boolean" } }; allowPositionals: true; strict: true }
  >
>;

/** Parses `args` strictly; throws UsageError or HelpRequest. */
export function parseFlags<O extends ParseArgsConfig["options"]>(
  args: string[],
  spec: FlagSpec<O>,
): Parsed<O> {
  lastUsage = spec.usage;
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: { ...spec.options, help: { type: "boolean", short: "h" } } as
        & O
        & { help: { type: "boolean" } },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new UsageError(cleanParseError(err), spec.usage);
  }
  if ((parsed.values as Record<string, unknown>).help) {
    throw new HelpRequest(spec.help ? `${spec.usage}\n\n${spec.help}` : spec.usage);
  }
  const n = parsed.positionals.length;
  if (n < (spec.minPositionals ?? 0)) {
    throw new UsageError("Missing argument", spec.usage);
  }
  if (spec.maxPositionals !== undefined && n > spec.maxPositionals) {
    throw new UsageError(
      `Unexpected argument "${parsed.positionals[spec.maxPositionals]}"`,
      spec.usage,
    );
  }
  return parsed as Parsed<O>;
}

function cleanParseError(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  // node's messages end with advice about "--" that does not apply to us.
  return msg.split(". To specify")[0].split("\n")[0].replace(/\.$/, "");
}

/**
 * Converts a flag's text to an integer in [min, max]; `undefined` gives `fallback`.
 * Throws UsageError naming the flag, e.g. `Cannot parse --port "70000": must be between 0 and 65535`.
 */
export function intFlag(
  text: string | undefined,
  name: string,
  min: number,
  max: number,
  fallback?: number,
): number {
  if (text === undefined) {
    if (fallback === undefined) throw new UsageError(`Missing --${name}`);
    return fallback;
  }
  if (!/^[0-9]+$/.test(text.trim())) {
    throw new UsageError(`Cannot parse --${name} "${text}": not a whole number`);
  }
  const n = Number(text.trim());
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`Cannot parse --${name} "${text}": must be between ${min} and ${max}`);
  }
  return n;
}

/** The flags every server takes: `--port N` and `--bind ADDR`. */
export const SERVER_OPTIONS = {
  port: { type: "string" },
  bind: { type: "string" },
} as const;

/** Help text lines for {@linkcode SERVER_OPTIONS}. */
export function serverHelp(defaultPort: number | string): string {
  return `  --port N     port (default ${defaultPort}; 0 = any free port)
  --bind ADDR  address to bind (default 0.0.0.0; "::" for IPv6)`;
}

/** The address a server binds, from `--port`/`--bind` values. */
export function serverAddress(
  values: { port?: string; bind?: string },
  defaultPort: number,
): { hostname: string; port: number } {
  return {
    hostname: values.bind ?? "0.0.0.0",
    port: intFlag(values.port, "port", 0, 65535, defaultPort),
  };
}

/** The flags every UDP client takes: `--timeout MS` and `--retries N`. */
export const UDP_CLIENT_OPTIONS = {
  timeout: { type: "string" },
  retries: { type: "string" },
} as const;

/** Help text lines for {@linkcode UDP_CLIENT_OPTIONS}. */
export const UDP_CLIENT_HELP = `  --timeout MS  wait this long for each reply (default 2000)
  --retries N   resend this many times when no reply comes (default 2)`;

/** `timeoutMs`/`retries` for UdpSocket.request from `--timeout`/`--retries` values. */
export function udpClientOptions(
  values: { timeout?: string; retries?: string },
): { timeoutMs: number; retries: number } {
  return {
    timeoutMs: intFlag(values.timeout, "timeout", 1, 3_600_000, 2000),
    retries: intFlag(values.retries, "retries", 0, 100, 2),
  };
}
