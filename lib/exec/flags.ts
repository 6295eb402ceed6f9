/**
 * Flag helpers shared by `exec-server` and `exec-client`: the `--binder`
 * addresses (`HOST[:PORT]`, or several, comma-separated, tried in order).
 * @module
 */
import { UsageError } from "../cli/errors.ts";
import { type HostPort, parseHostPort } from "../net/address.ts";
import { resolveHost } from "../net/resolve.ts";
import { DEFAULT_PORT as BINDER_PORT } from "../binder/protocol.ts";

/** Reads `--binder HOST[:PORT],...` (default `localhost`), resolving each name, in order. */
export async function binderAddresses(
  text: string | undefined,
  usage: string,
): Promise<HostPort[]> {
  const parts = (text ?? "localhost").split(",").map((p) => p.trim());
  if (parts.some((p) => p === "")) {
    throw new UsageError(`--binder: empty address in "${text}"`, usage);
  }
  // Every address is checked before any is resolved (flags before I/O).
  const parsed = parts.map((part) => {
    try {
      return parseHostPort(part, BINDER_PORT);
    } catch (err) {
      throw new UsageError(`--binder: ${(err as Error).message}`, usage);
    }
  });
  const out: HostPort[] = [];
  for (const a of parsed) out.push({ hostname: await resolveHost(a.hostname), port: a.port });
  return out;
}

/** Reads `--binder HOST[:PORT]`, resolving the name. */
export async function binderAddress(text: string | undefined, usage: string): Promise<HostPort> {
  let addr: HostPort;
  try {
    addr = parseHostPort(text ?? "localhost", BINDER_PORT);
  } catch (err) {
    throw new UsageError(`--binder: ${(err as Error).message}`, usage);
  }
  return { hostname: await resolveHost(addr.hostname), port: addr.port };
}
