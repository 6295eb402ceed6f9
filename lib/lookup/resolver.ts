/**
 * The system resolver behind getaddrinfo, getnameinfo and gethostbyname: the
 * C library through FFI when it can be reached (Linux glibc with
 * `--allow-ffi`, which `-A` grants), otherwise node:dns, which gives the
 * resolver's addresses but not its socket types, canonical name or aliases.
 *
 * @example
 * ```ts ignore
 * import { systemResolver } from "./resolver.ts";
 * const r = systemResolver();
 * console.log(r.source, await r.getaddrinfo("localhost", null, { ...getentHints() }));
 * ```
 * @module
 */
import type { AddrInfo, AddrInfoHints, HostEnt, NameInfo } from "./addrinfo.ts";
import * as c from "./libc.ts";
import { pton } from "./inet.ts";

export { ResolverError } from "./libc.ts";

/** Flags of {@linkcode Resolver.getnameinfo}. */
export interface NameInfoFlags {
  numericHost?: boolean;
  numericServ?: boolean;
  noFqdn?: boolean;
  nameRequired?: boolean;
  dgram?: boolean;
}

/** One way to reach the system resolver. */
export interface Resolver {
  /** "libc" (exact C library behaviour) or "node:dns" (addresses only). */
  readonly source: "libc" | "node:dns";
  getaddrinfo(
    name: string | null,
    service: string | null,
    hints: AddrInfoHints,
  ): Promise<AddrInfo[]>;
  getnameinfo(address: string, port: number | null, flags: NameInfoFlags): Promise<NameInfo>;
  gethostbyname(name: string): Promise<HostEnt>;
}

/** The best resolver available in this process. */
export function systemResolver(): Resolver {
  const lib = c.libc();
  return lib ? libcResolver(lib) : nodeResolver();
}

function libcResolver(lib: NonNullable<ReturnType<typeof c.libc>>): Resolver {
  return {
    source: "libc",
    getaddrinfo: (name, service, hints) => c.getaddrinfo(lib, name, service, hints),
    getnameinfo(address, port, flags) {
      let bits = 0;
      for (const key of Object.keys(c.NI) as (keyof typeof c.NI)[]) {
        if (flags[key]) bits |= c.NI[key];
      }
      return c.getnameinfo(lib, address, port, bits);
    },
    gethostbyname: (name) => c.gethostbyname(lib, name),
  };
}

/** node:dns error codes → the C library's names. */
function nodeError(err: unknown): c.ResolverError {
  const code = (err as { code?: string }).code ?? "";
  const map: Record<string, [string, string]> = {
    ENOTFOUND: ["EAI_NONAME", "Name or service not known"],
    ENODATA: ["EAI_NODATA", "No address associated with hostname"],
    EAI_AGAIN: ["EAI_AGAIN", "Temporary failure in name resolution"],
    EAI_FAIL: ["EAI_FAIL", "Non-recoverable failure in name resolution"],
  };
  const [name, message] = map[code] ?? [code || "ERROR", (err as Error).message ?? String(err)];
  return new c.ResolverError(name, message);
}

/** Socket types getaddrinfo lists for one address when none is asked for (glibc's order). */
const DEFAULT_TYPES: [AddrInfo["socktype"], number][] = [["stream", 6], ["dgram", 17], ["raw", 0]];

/** node:dns, loaded only when needed: the FFI path should not pay for it at start-up. */
const loadNodeDns = () => import("node:dns");

/** A numeric SERVICE's port (node:dns resolves no service names). */
function nodePort(service: string | null): number {
  if (service === null) return 0;
  if (!/^[0-9]+$/.test(service) || Number(service) > 65535) {
    throw new c.ResolverError(
      "EAI_SERVICE",
      "Service names need the C library (run with --allow-ffi)",
    );
  }
  return Number(service);
}

/** getaddrinfo through node:dns: its addresses, with glibc's default socket types for each. */
async function nodeGetaddrinfo(
  name: string | null,
  service: string | null,
  hints: AddrInfoHints,
): Promise<AddrInfo[]> {
  const port = nodePort(service);
  const host = name ?? (hints.passive ? (hints.family === 6 ? "::" : "0.0.0.0") : "localhost");
  if (hints.numericHost && !pton(host.split("%")[0])) {
    throw new c.ResolverError("EAI_NONAME", "Name or service not known");
  }
  const dns = await loadNodeDns();
  let flagBits = 0;
  if (hints.addrconfig) flagBits |= dns.ADDRCONFIG;
  if (hints.v4mapped) flagBits |= dns.V4MAPPED;
  if (hints.all) flagBits |= dns.ALL;
  let found: { address: string; family: number }[];
  try {
    found = await dns.promises.lookup(host, {
      all: true,
      family: hints.family,
      hints: flagBits,
      order: "verbatim",
    });
  } catch (err) {
    throw nodeError(err);
  }
  const types = DEFAULT_TYPES.filter(([t, p]) =>
    (hints.socktype === undefined || t === hints.socktype) &&
    (hints.protocol === 0 || p === hints.protocol) &&
    !(service !== null && t === "raw")
  );
  return found.flatMap((a) =>
    types.map(([socktype, protocol]) => ({
      family: a.family === 6 ? 6 as const : 4 as const,
      address: a.address,
      port,
      socktype,
      protocol,
    }))
  );
}

function nodeResolver(): Resolver {
  return {
    source: "node:dns",
    getaddrinfo: nodeGetaddrinfo,
    async getnameinfo(address, port, flags) {
      if (flags.numericHost) {
        return port === null ? { host: address } : { host: address, service: String(port) };
      }
      const dns = await loadNodeDns();
      try {
        const r = await dns.promises.lookupService(address, port ?? 0);
        return port === null ? { host: r.hostname } : { host: r.hostname, service: r.service };
      } catch (err) {
        throw nodeError(err);
      }
    },
    async gethostbyname(name) {
      const dns = await loadNodeDns();
      try {
        const found = await dns.promises.lookup(name, { all: true, family: 4, order: "verbatim" });
        return { name, aliases: [], addresses: found.map((a) => a.address) };
      } catch (err) {
        throw nodeError(err);
      }
    },
  };
}

/** The one line a command prints when it has to use node:dns. */
export const FALLBACK_NOTE =
  "note: the C library is not reachable (needs --allow-ffi on Linux glibc); using node:dns, which gives addresses only";
