/**
 * The flags every `socklab bench` mode checks before any traffic: the target,
 * `--duration`, `--interval` and `--json`.
 *
 * @example
 * ```ts ignore
 * import { seconds, target } from "./args.ts";
 * const to = await target("127.0.0.1:1502", USAGE);
 * const s = seconds("5", "duration", 600, 5, USAGE);
 * ```
 * @module
 */
import { UsageError } from "../cli/errors.ts";
import { formatHostPort, type HostPort, parseHostPort } from "../net/address.ts";
import { resolveHost } from "../net/resolve.ts";
import { parseSeconds } from "./format.ts";
import { DEFAULT_INTERVAL_S } from "./interval.ts";

/** Longest run of any mode, in seconds (help, README and the checks say the same). */
export const MAX_DURATION_S = 600;

/** `HOST:PORT` resolved to an address; port 0 is a usage error. */
export async function target(text: string, usage: string): Promise<HostPort> {
  let addr: HostPort;
  try {
    addr = parseHostPort(text);
  } catch (err) {
    throw new UsageError((err as Error).message, usage);
  }
  if (addr.port === 0) throw new UsageError(`Cannot send to port 0 of "${text}"`, usage);
  return { hostname: await resolveHost(addr.hostname), port: addr.port };
}

/** Every `--servers`/positional target, in order. */
export function targets(texts: readonly string[], usage: string): Promise<HostPort[]> {
  return Promise.all(texts.map((t) => target(t, usage)));
}

/** `HOST:PORT` as printed. */
export const label = (to: HostPort) => formatHostPort(to.hostname, to.port);

/** A `--flag S` in seconds, between `min` and `max`, or `fallback` when absent. */
export function seconds(
  text: string | undefined,
  flag: string,
  max: number,
  fallback: number,
  usage: string,
  min = 0.1,
): number {
  if (text === undefined) return fallback;
  let s: number;
  try {
    s = parseSeconds(text);
  } catch (err) {
    throw new UsageError(`--${flag}: ${(err as Error).message}`, usage);
  }
  if (s < min || s > max) {
    throw new UsageError(
      `Cannot parse --${flag} "${text}": must be between ${min} and ${max}`,
      usage,
    );
  }
  return s;
}

/** `--interval S`: 0 (none) or 0.1 to 60 seconds. */
export function intervalSeconds(text: string | undefined, fallback: number, usage: string): number {
  if (text !== undefined && Number(text) === 0) return 0;
  return seconds(text, "interval", 60, fallback, usage);
}

/** The flags every mode takes for how long it runs and how it reports. */
export const RUN_OPTIONS = {
  duration: { type: "string" },
  interval: { type: "string", short: "i" },
  json: { type: "boolean" },
} as const;

/** The values of {@linkcode RUN_OPTIONS}, checked. */
export interface RunFlags {
  durationS: number;
  intervalS: number;
  json: boolean;
}

/** `--duration S` (at most {@linkcode MAX_DURATION_S}, `fallbackS` when absent), `--interval S`, `--json`. */
export function runFlags(
  values: { duration?: string; interval?: string; json?: boolean },
  fallbackS: number,
  usage: string,
): RunFlags {
  return {
    durationS: seconds(values.duration, "duration", MAX_DURATION_S, fallbackS, usage),
    intervalS: intervalSeconds(values.interval, DEFAULT_INTERVAL_S, usage),
    json: !!values.json,
  };
}
