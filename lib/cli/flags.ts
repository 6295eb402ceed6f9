/**
 * Flag parsing for every command (the role @std/cli would play). The options
 * are declared exactly as for `node:util` parseArgs and typed by it, but parsed
 * here: importing node:util costs every command a fifth of Deno's start-up,
 * and look-ups are meant to start as fast as Deno itself. Unlike parseArgs,
 * `-5` is a positional argument (negative numbers for exec-client) unless a
 * `-5` flag exists. Conflicts and ranges are checked before any I/O; problems
 * become {@linkcode UsageError}s and `--help` a {@linkcode HelpRequest}.
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
import type { parseArgs, ParseArgsConfig } from "node:util";
import { HelpRequest, UsageError } from "./errors.ts";
import type { HelpSpec } from "./help.ts";

/** Options of {@linkcode parseFlags}. */
export interface FlagSpec<O extends ParseArgsConfig["options"]> {
  /** Usage line(s), shown on a usage error and at the top of `--help`. */
  usage: string;
  /**
   * Free help text after the usage. Without it, the help is generated
   * ({@linkcode formatHelp}) from `about`, the options' `arg`/`help` fields,
   * `rows`, `after` and `exitStatus`.
   */
  help?: string;
  /**
   * The options, as `node:util` parseArgs takes them (`--help` is added),
   * each with an optional `arg` (value name) and `help` (its description).
   */
  options: O;
  /** Generated help: paragraphs before the options. */
  about?: string;
  /** Generated help: rows after the options (operands). */
  rows?: HelpSpec["rows"];
  /** Generated help: paragraphs after the options. */
  after?: string;
  /** Generated help: what each exit status means. */
  exitStatus?: string;
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
    parsed = parseStrict(args, { ...spec.options, help: { type: "boolean", short: "h" } });
  } catch (err) {
    throw new UsageError((err as Error).message, spec.usage);
  }
  if ((parsed.values as Record<string, unknown>).help) throw new HelpRequest(helpContent(spec));
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

/** A {@linkcode FlagSpec}'s help: its free text, or the parts main.ts generates it from. */
export function helpContent<O extends ParseArgsConfig["options"]>(
  spec: FlagSpec<O>,
): string | HelpSpec {
  if (spec.help !== undefined) return `${spec.usage}\n\n${spec.help}`;
  const { usage, about, rows, after, exitStatus } = spec;
  return { usage, about, rows, after, exitStatus, options: spec.options as HelpSpec["options"] };
}

type OptionSpec = {
  type: "string" | "boolean";
  short?: string;
  multiple?: boolean;
  default?: unknown;
};

/**
 * One group of short flags at `args[i]` (`-tuan`, `-p80`, `-lp 80`): each
 * boolean is set; a string option takes the rest of the group or the next
 * argument. Returns the index of the last argument used.
 */
function shortGroup(
  args: readonly string[],
  i: number,
  byShort: Map<string, string>,
  options: Record<string, OptionSpec>,
  set: (name: string, value: string | boolean) => void,
): number {
  const arg = args[i];
  for (let j = 1; j < arg.length; j++) {
    const name = byShort.get(arg[j]);
    if (!name) throw new Error(`Unknown option '-${arg[j]}'`);
    if (options[name].type === "boolean") {
      set(name, true);
      continue;
    }
    if (j + 1 < arg.length) {
      set(name, arg.slice(j + 1));
      return i;
    }
    if (i + 1 >= args.length) {
      throw new Error(`Option '-${arg[j]}, --${name} <value>' argument missing`);
    }
    set(name, args[i + 1]);
    return i + 1;
  }
  return i;
}

/**
 * parseArgs's strict mode with positionals allowed: `--name value`,
 * `--name=value`, `-n value`, `-nvalue`, grouped short booleans (`-tuan`, a
 * string option last in a group takes the rest or the next argument), `--`
 * ends the options, `-` is a positional.
 */
function parseStrict(
  args: readonly string[],
  options: Record<string, OptionSpec>,
): { values: Record<string, unknown>; positionals: string[] } {
  const values: Record<string, unknown> = {};
  const positionals: string[] = [];
  const byShort = new Map<string, string>();
  for (const [name, o] of Object.entries(options)) if (o.short) byShort.set(o.short, name);
  const set = (name: string, value: string | boolean) => {
    if (options[name].multiple) ((values[name] ??= []) as unknown[]).push(value);
    else values[name] = value;
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      const o = Object.hasOwn(options, name) ? options[name] : undefined;
      if (!o) throw new Error(`Unknown option '--${name}'`);
      if (o.type === "boolean") {
        if (eq >= 0) throw new Error(`Option '--${name}' does not take an argument`);
        set(name, true);
      } else if (eq >= 0) {
        set(name, arg.slice(eq + 1));
      } else {
        if (i + 1 >= args.length) throw new Error(`Option '--${name} <value>' argument missing`);
        set(name, args[++i]);
      }
      continue;
    }
    if (arg.length < 2 || !arg.startsWith("-") || (/^-[0-9]/.test(arg) && !byShort.has(arg[1]))) {
      positionals.push(arg);
      continue;
    }
    i = shortGroup(args, i, byShort, options, set);
  }
  for (const [name, o] of Object.entries(options)) {
    if (values[name] === undefined && o.default !== undefined) values[name] = o.default;
  }
  return { values, positionals };
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

/**
 * Runs `fn` (the checks of flag values after {@linkcode parseFlags}) and gives
 * the errors it throws the command's usage line: a UsageError without one, and
 * a SyntaxError from a value parser (an address list, say), become usage errors
 * (exit 2) that print `usage` whoever catches them, not only main.ts.
 *
 * @example
 * ```ts
 * import { intFlag, withUsage } from "./flags.ts";
 * try {
 *   withUsage("usage: socklab x [--count N]", () => intFlag("many", "count", 1, 9));
 * } catch (err) {
 *   console.assert((err as { usage: string }).usage === "usage: socklab x [--count N]");
 * }
 * ```
 */
export function withUsage<T>(usage: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof SyntaxError || (err instanceof UsageError && !err.usage)) {
      throw new UsageError(err.message, usage);
    }
    throw err;
  }
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

/** The flags every UDP client takes: `--timeout MS` and `--retries N` (with their help). */
export const UDP_CLIENT_OPTIONS = {
  timeout: { type: "string", arg: "MS", help: "wait this long for each reply (default 2000)" },
  retries: {
    type: "string",
    arg: "N",
    help: "resend this many times when no reply comes (default 2)",
  },
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

/**
 * {@linkcode parseFlags} for a server: no positional arguments, `--port` and
 * `--bind` ({@linkcode SERVER_OPTIONS}) beside the server's own `options`, and
 * the address to bind ({@linkcode serverAddress}), all checked before any I/O.
 *
 * @example
 * ```ts
 * import { parseServerFlags } from "./flags.ts";
 * const { values, address } = parseServerFlags(["--port", "0", "--ttl", "5"], {
 *   usage: "usage: socklab x-server [--port N] [--bind ADDR] [--ttl SECONDS]",
 *   defaultPort: 1500,
 *   options: { ttl: { type: "string" } },
 * });
 * console.assert(address.hostname === "0.0.0.0" && address.port === 0 && values.ttl === "5");
 * ```
 */
export function parseServerFlags<O extends ParseArgsConfig["options"] = Record<never, never>>(
  args: string[],
  spec: Omit<FlagSpec<O>, "options" | "minPositionals" | "maxPositionals"> & {
    /** The server's own options (`--port` and `--bind` are added). */
    options?: O;
    /** The port without `--port`. */
    defaultPort: number;
  },
): {
  values: Parsed<typeof SERVER_OPTIONS & O>["values"];
  address: { hostname: string; port: number };
} {
  const options = { ...SERVER_OPTIONS, ...spec.options } as typeof SERVER_OPTIONS & O;
  const { values } = parseFlags(args, { ...spec, maxPositionals: 0, options });
  return { values, address: withUsage(spec.usage, () => serverAddress(values, spec.defaultPort)) };
}
