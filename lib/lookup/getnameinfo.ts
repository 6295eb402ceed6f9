/**
 * `socklab getnameinfo ADDR [PORT]`: the reverse look-up, address → host
 * name and port → service name, by the C library's getnameinfo (so
 * /etc/hosts, DNS PTR records and /etc/services, as nsswitch says).
 *
 * ```sh
 * socklab getnameinfo 127.0.0.1 80
 * # hostname: localhost
 * # service: http
 * ```
 * @module
 */
import type { CommandContext } from "../cli/command.ts";
import { FailError, UsageError } from "../cli/errors.ts";
import { parseFlags } from "../cli/flags.ts";
import { formatJson, writeErr } from "../cli/output.ts";
import { parsePort } from "../net/address.ts";
import { pton } from "./inet.ts";
import { FALLBACK_NOTE, type NameInfoFlags, ResolverError, systemResolver } from "./resolver.ts";

const USAGE =
  "usage: socklab getnameinfo [-n] [--name-required] [--dgram] [--nofqdn] [--json] ADDR [PORT]";
const ABOUT = `Asks the system resolver (the C library's getnameinfo) for the host name of
ADDR (an IPv4 or IPv6 literal; IPv6 may carry a numeric %zone) and, with PORT,
the service name. Without a name, the C library answers with the address
itself (unless --name-required):

    hostname: NAME
    service: NAME`;

const OPTIONS = {
  numeric: {
    type: "boolean",
    short: "n",
    help: "no look-up: numeric host and service (NI_NUMERICHOST|NI_NUMERICSERV)",
  },
  "name-required": { type: "boolean", help: "fail when ADDR has no name (NI_NAMEREQD)" },
  dgram: { type: "boolean", help: "service names of UDP ports (NI_DGRAM)" },
  nofqdn: { type: "boolean", help: "only the first label of local names (NI_NOFQDN)" },
  json: { type: "boolean", help: "one JSON document {address, port, hostname, service}" },
} as const;

/** getent's status for a key it cannot find (`getent hosts ADDR`). */
const EXIT_NOT_FOUND = 2;

/** ADDR and PORT from the arguments, checked before any look-up. */
function parseTarget(address: string, portText: string | undefined): number | null {
  const [literal, zone] = address.split("%");
  if (!pton(literal) || (zone !== undefined && !literal.includes(":"))) {
    throw new UsageError(`Cannot parse address "${address}": not an IPv4 or IPv6 literal`, USAGE);
  }
  if (zone !== undefined && !/^[0-9]+$/.test(zone)) {
    throw new UsageError(
      `Cannot parse address "${address}": give the IPv6 zone as a number`,
      USAGE,
    );
  }
  if (portText === undefined) return null;
  try {
    return parsePort(portText);
  } catch (err) {
    throw new UsageError((err as Error).message, USAGE);
  }
}

/** A resolver error as the one line the user sees, with getent's status for "no name". */
function lookupFailure(err: unknown, address: string): unknown {
  if (!(err instanceof ResolverError)) return err;
  if (err.code === "EAI_NONAME") {
    return new FailError(`no name for '${address}' (${err.message})`, { exitCode: EXIT_NOT_FOUND });
  }
  if (err.code === "EAI_SYSTEM" || err.code === "EAI_AGAIN" || err.code === "EAI_FAIL") {
    return new FailError(`cannot look up '${address}': ${err.message}`);
  }
  return new FailError(`getnameinfo failed for '${address}': ${err.message} (${err.code})`);
}

/** CLI entry point. */
export async function main(args: string[], _ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    usage: USAGE,
    about: ABOUT,
    options: OPTIONS,
    exitStatus: "0 answered, 2 no name (with --name-required, as getent hosts), " +
      "1 the resolver failed, 2 usage.",
    minPositionals: 1,
    maxPositionals: 2,
  });
  const [address, portText] = positionals;
  const port = parseTarget(address, portText);
  const flags: NameInfoFlags = {
    numericHost: values.numeric,
    numericServ: values.numeric,
    nameRequired: values["name-required"],
    dgram: values.dgram,
    noFqdn: values.nofqdn,
  };
  const resolver = systemResolver();
  if (resolver.source !== "libc") writeErr(`socklab getnameinfo: ${FALLBACK_NOTE}\n`);
  let info;
  try {
    info = await resolver.getnameinfo(address, port, flags);
  } catch (err) {
    throw lookupFailure(err, address);
  }
  if (values.json) {
    const { host: hostname, service } = info;
    console.log(
      formatJson({ address, port, hostname, service: service ?? null, source: resolver.source }),
    );
  } else {
    console.log(`hostname: ${info.host}`);
    if (info.service !== undefined) console.log(`service: ${info.service}`);
  }
  return 0;
}
