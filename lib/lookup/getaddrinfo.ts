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
import { formatJson, writeErr, writeOut } from "../cli/output.ts";
import { servicePort } from "./services.ts";
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

const USAGE = "usage: socklab getaddrinfo [-46nl] [--socktype T] [--protocol P] [--all] " +
  "[--canonname] [--service S] [--json] NAME [SERVICE]\n" +
  "       socklab getaddrinfo [options] NAME NAME...";

const ABOUT = `Asks the system resolver (the C library's getaddrinfo: /etc/hosts, nsswitch,
DNS) for NAME and prints every result in the resolver's order, one line per
(address, socket type, protocol), like \`getent ahosts\`. SERVICE is a name
from /etc/services (http) or a port number; with it the address column is
ADDR:PORT. Several NAMEs are looked up one after the other, as getent does; a
second argument is taken as SERVICE only when it is a port number or a name in
/etc/services (--service makes every argument a NAME).`;

const OPTIONS = {
  ipv4: { type: "boolean", short: "4", help: "IPv4 only (AF_INET)" },
  ipv6: {
    type: "boolean",
    short: "6",
    help: "IPv6 only (AF_INET6); IPv4-only names come back mapped (::ffff:a.b.c.d)",
  },
  socktype: { type: "string", arg: "T", help: "stream, dgram or raw only" },
  protocol: { type: "string", arg: "P", help: "tcp, udp, sctp or a protocol number" },
  numeric: {
    type: "boolean",
    short: "n",
    help: "NAME must be an address literal: no look-up (AI_NUMERICHOST)",
  },
  all: { type: "boolean", help: "with -6: IPv6 and IPv4-mapped answers together (AI_ALL)" },
  canonname: { type: "boolean", help: "print only the canonical name" },
  long: {
    type: "boolean",
    short: "l",
    help: "a table with family, address, port, socket type, protocol, name",
  },
  service: { type: "string", arg: "S", help: "the SERVICE for every NAME" },
  json: {
    type: "boolean",
    help: 'one JSON document (several NAMEs: an array of them, a failed one with "error")',
  },
} as const;

const EXIT = "0 every NAME found, 2 some NAME (or SERVICE) unknown or not resolved " +
  "(as getent), 2 usage.";

/** What to look up, from the command line. */
export interface AddrInfoQuery {
  name: string;
  service: string | null;
  hints: AddrInfoHints;
}

/** How the answers are printed. */
export type AddrInfoOutput = "getent" | "long" | "json" | "canonname";

function hintsFrom(values: {
  ipv4?: boolean;
  ipv6?: boolean;
  socktype?: string;
  protocol?: string;
  numeric?: boolean;
  all?: boolean;
}): AddrInfoHints {
  if (values.ipv4 && values.ipv6) throw new UsageError("Cannot use -4 and -6 together", USAGE);
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
  return hints;
}

/** True when `word` can only be meant as a SERVICE: a port number or a name in /etc/services. */
export function looksLikeService(word: string): boolean {
  return /^[0-9]{1,5}$/.test(word) || servicePort(word) !== null;
}

/** NAMEs and the SERVICE from the arguments (see the help's rule for a second argument). */
export function namesAndService(
  positionals: string[],
  service: string | undefined,
): { names: string[]; service: string | null } {
  if (service !== undefined) return { names: positionals, service };
  if (positionals.length === 2 && looksLikeService(positionals[1])) {
    return { names: [positionals[0]], service: positionals[1] };
  }
  return { names: positionals, service: null };
}

/** Parses the command line; throws UsageError/HelpRequest. */
export function parseQuery(args: string[]): { queries: AddrInfoQuery[]; output: AddrInfoOutput } {
  const { values, positionals } = parseFlags(args, {
    usage: USAGE,
    about: ABOUT,
    options: OPTIONS,
    exitStatus: EXIT,
    minPositionals: 1,
  });
  const outputs = [values.long, values.json, values.canonname].filter(Boolean).length;
  if (outputs > 1) throw new UsageError("Use only one of --long, --json, --canonname", USAGE);
  const hints = hintsFrom(values);
  const { names, service } = namesAndService(positionals, values.service);
  if (names.includes("")) throw new UsageError("NAME is empty", USAGE);
  return {
    queries: names.map((name) => ({ name, service, hints })),
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

/** The exit status of a name that could not be looked up (getent's "key not found"). */
export const EXIT_NOT_FOUND = 2;

/** One name's answer in `output`'s form (the JSON form as an object). */
function render(
  query: AddrInfoQuery,
  results: AddrInfo[],
  output: AddrInfoOutput,
  source: string,
): string | Record<string, unknown> {
  const canonname = results.find((r) => r.canonname !== undefined)?.canonname ?? null;
  if (output === "json") {
    return {
      name: query.name,
      service: query.service,
      source,
      canonname,
      results: results.map(addrInfoJson),
    };
  }
  if (output === "canonname") return canonname ?? query.name;
  if (output === "long") return longLines(results).join("\n");
  return results.map((r) => getentLine(r, query.service !== null)).join("\n");
}

/** CLI entry point. */
export async function main(args: string[], _ctx: CommandContext): Promise<number> {
  const { queries, output } = parseQuery(args);
  const resolver = systemResolver();
  if (resolver.source !== "libc") writeErr(`socklab getaddrinfo: ${FALLBACK_NOTE}\n`);
  const documents: unknown[] = [];
  let failed = 0;
  for (const query of queries) {
    let results: AddrInfo[];
    try {
      results = await lookupAddrInfo(resolver, query);
    } catch (err) {
      if (!(err instanceof FailError)) throw err;
      failed++;
      writeErr(`socklab getaddrinfo: ${err.message}\n`);
      documents.push({ name: query.name, service: query.service, error: err.message });
      continue;
    }
    const shown = render(query, results, output, resolver.source);
    if (typeof shown === "string") {
      if (shown !== "") writeOut(shown + "\n");
    } else documents.push(shown);
  }
  // One NAME: its document (none when it failed, as before); several: an array.
  if (output === "json" && (queries.length > 1 || failed === 0)) {
    writeOut(formatJson(queries.length === 1 ? documents[0] : documents) + "\n");
  }
  return failed > 0 ? EXIT_NOT_FOUND : 0;
}
