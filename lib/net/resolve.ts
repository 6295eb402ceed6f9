/**
 * Name resolution through the system resolver (getaddrinfo via `node:dns`, so
 * /etc/hosts and nsswitch are honoured), with one clear error for unknown names.
 *
 * @example
 * ```ts
 * import { resolveHost } from "./resolve.ts";
 * console.assert((await resolveHost("127.0.0.1")) === "127.0.0.1");
 * ```
 * @module
 */
import { FailError } from "../cli/errors.ts";
import { isIPv4Literal, isIPv6Literal } from "./address.ts";

/** Options of {@linkcode resolveHost}. */
export interface ResolveOptions {
  /** 4 or 6 to restrict the family; 0 (default) for any. */
  family?: 0 | 4 | 6;
  /** With family 0: prefer this family when the name has both (default 4, like gethostbyname). */
  prefer?: 4 | 6;
}

/**
 * The address `name` resolves to (literals are returned unchanged).
 * Throws FailError `unknown host 'NAME'` when the resolver has no answer.
 */
export async function resolveHost(name: string, options: ResolveOptions = {}): Promise<string> {
  const family = options.family ?? 0;
  if (isIPv4Literal(name) && family !== 6) return name;
  if (isIPv6Literal(name) && family !== 4) return name;
  let results: { address: string; family: number }[];
  try {
    // Loaded here, not at the top: node:dns costs a fifth of Deno's start-up,
    // and a client given an address literal never needs it.
    const { lookup } = await import("node:dns/promises");
    results = await lookup(name, { all: true, family });
  } catch {
    throw new FailError(`unknown host '${name}'`);
  }
  if (results.length === 0) throw new FailError(`unknown host '${name}'`);
  const preferred = results.find((r) => r.family === (options.prefer ?? 4));
  return (preferred ?? results[0]).address;
}
