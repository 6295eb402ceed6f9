/**
 * `socklab getaddrinfo NAME [SERVICE]`: every result the system resolver
 * returns, in its order, one line each exactly as `getent ahosts` prints
 * them (same hints: AI_V4MAPPED | AI_ADDRCONFIG | AI_CANONNAME).
 *
 * ```sh
 * socklab getaddrinfo localhost
 * socklab getaddrinfo localhost http --socktype stream -l
 * socklab getaddrinfo -6 localhost --json
 * ```
 * @module
 */
import type { CommandContext } from "../cli/command.ts";
import { FailError, UsageError } from "../cli/errors.ts";
import { parseFlags } from "../cli/flags.ts";
import { formatJson, writeErr } from "../cli/output.ts";
import {
  type AddrInfo,
  type AddrInfoHints,
  addrInfoJson,
  getentHints,
  getentLine,
  longLines,
  parseProtocol,
} from "./addrinfo.ts";
import { FALLBACK_NOTE, type Resolver, ResolverError, systemResolver } from "./resolver.ts";

const USAGE =
  "usage: socklab getaddrinfo [-4|-6] [--socktype stream|dgram|raw] [--protocol P] [-n] [--all] [--canonname] [-l] [--json] NAME [SERVICE]";
const HELP = `Asks the system resolver (the C library's getaddrinfo: /etc/hosts, nsswitch,
DNS) for NAME and prints every result in the resolver's order, one line per
(address, socket type, protocol), like \`getent ahosts\`. SERVICE is a name
from /etc/services (http) or a port number; with it the address column is ADDR:PORT.

  -4, -6             IPv4 or IPv6 only (AF_INET / AF_INET6; -6 maps IPv4-only names)
  --socktype T       stream, dgram or raw only
  --protocol P       tcp, udp, sctp or a protocol number
  -n, --numeric      NAME must be an address literal: no look-up (AI_NUMERICHOST)
  --all              with -6: IPv6 and IPv4-mapped answers together (AI_ALL)
  --canonname        print only the canonical name
  -l, --long         a table with family, address, port, socket type, protocol, name
  --json             one JSON document

Exit status: 0 found, 1 unknown name or service, 2 usage.`;

/** What to look up, from the command line. */
export interface AddrInfoQuery {
  name: string;
  service: string | null;
  hints: AddrInfoHints;
}

/** Parses the command line; throws UsageError/HelpRequest. */
export function parseQuery(args: string[]): {
  query: AddrInfoQuery;
  output: "getent" | "long" | "json" | "canonname";
} {
  const { values, positionals } = parseFlags(args, {
    usage: USAGE,
    help: HELP,
    minPositionals: 1,
    maxPositionals: 2,
    options: {
      ipv4: { type: "boolean", short: "4" },
      ipv6: { type: "boolean", short: "6" },
      socktype: { type: "string" },
      protocol: { type: "string" },
      numeric: { type: "boolean", short: "n" },
      all: { type: "boolean" },
      canonname: { type: "boolean" },
      long: { type: "boolean", short: "l" },
      json: { type: "boolean" },
    },
  });
  if (values.ipv4 && values.ipv6) throw new UsageError("Cannot use -4 and -6 together", USAGE);
  const outputs = [values.long, values.json, values.canonname].filter(Boolean).length;
  if (outputs > 1) throw new UsageError("Use only one of --long, --json, --canonname", USAGE);
  const hints = getentHints(values.ipv4 ? 4 : values.ipv6 ? 6 : 0);
  if (values.socktype !== undefined) {
    const t = values.socktype.toLowerCase();
    if (t !== "stream" && t !== "dgram" && t !== "raw") {
      throw new UsageError(
        `Cannot parse --socktype "${values.socktype}": use stream, dgram or raw`,
        USAGE,
      );
    }
    hints.socktype = t;
  }
  if (values.protocol !== undefined) {
    try {
      hints.protocol = parseProtocol(values.protocol);
    } catch (err) {
      throw new UsageError((err as Error).message, USAGE);
    }
  }
  hints.numericHost = values.numeric ?? false;
  hints.all = values.all ?? false;
  const [name, service] = positionals;
  if (name === "") throw new UsageError("NAME is empty", USAGE);
  return {
    query: { name, service: service ?? null, hints },
    output: values.json ? "json" : values.long ? "long" : values.canonname ? "canonname" : "getent",
  };
}

/**
 * Looks `query` up. Throws FailError `unknown host 'NAME' (reason)` when the
 * name does not exist, and one line naming the resolver's reason otherwise.
 */
export async function lookupAddrInfo(
  resolver: Resolver,
  query: AddrInfoQuery,
): Promise<AddrInfo[]> {
  try {
    return await resolver.getaddrinfo(query.name, query.service, query.hints);
  } catch (err) {
    if (query.hints.numericHost && err instanceof ResolverError && err.code === "EAI_NONAME") {
      throw new FailError(`'${query.name}' is not an address literal (-n does no look-up)`);
    }
    throw resolverFailure(err, query.name, query.service);
  }
}

/** A resolver error as the one line the user sees. */
export function resolverFailure(err: unknown, name: string, service?: string | null): Error {
  if (!(err instanceof ResolverError)) return err as Error;
  if (err.code === "EAI_SERVICE" && service) {
    return new FailError(`unknown service '${service}' (${err.message})`);
  }
  if (err.notFound) return new FailError(`unknown host '${name}' (${err.message})`);
  return new FailError(`cannot resolve '${name}': ${err.message} (${err.code})`);
}

/** CLI entry point. */
export async function main(args: string[], _ctx: CommandContext): Promise<number> {
  const { query, output } = parseQuery(args);
  const resolver = systemResolver();
  if (resolver.source !== "libc") writeErr(`socklab getaddrinfo: ${FALLBACK_NOTE}\n`);
  const results = await lookupAddrInfo(resolver, query);
  const canonname = results.find((r) => r.canonname !== undefined)?.canonname ?? null;
  if (output === "json") {
    console.log(formatJson({
      name: query.name,
      service: query.service,
      source: resolver.source,
      canonname,
      results: results.map(addrInfoJson),
    }));
  } else if (output === "canonname") {
    console.log(canonname ?? query.name);
  } else if (output === "long") {
    console.log(longLines(results).join("\n"));
  } else {
    const withPort = query.service !== null;
    console.log(results.map((r) => getentLine(r, withPort)).join("\n"));
  }
  return 0;
}
