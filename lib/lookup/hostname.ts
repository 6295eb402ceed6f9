/**
 * `socklab hostname`: this machine's name (gethostname), as the lecture's
 * first program prints it with `--verbose`; `--fqdn` adds the resolver's
 * canonical name like `hostname -f`.
 *
 * ```sh
 * socklab hostname            # vm
 * socklab hostname --verbose  # My hostname: vm
 * ```
 * @module
 */
import type { CommandContext } from "../cli/command.ts";
import { FailError } from "../cli/errors.ts";
import { parseFlags } from "../cli/flags.ts";
import { formatJson } from "../cli/output.ts";
import { getentHints } from "./addrinfo.ts";
import { systemResolver } from "./resolver.ts";
import { resolverFailure } from "./getaddrinfo.ts";

const USAGE = "usage: socklab hostname [--verbose] [--fqdn] [--json]";
const OPTIONS = {
  verbose: { type: "boolean", short: "v", help: "the lecture's line: My hostname: NAME" },
  fqdn: {
    type: "boolean",
    short: "f",
    help: "the fully qualified name: the canonical name getaddrinfo gives for the host name " +
      "(as hostname -f does)",
  },
  json: { type: "boolean", help: "one JSON document {hostname, fqdn?}" },
} as const;

/** This machine's name; a FailError if the system will not say. */
export function hostName(): string {
  try {
    return Deno.hostname();
  } catch (err) {
    throw new FailError(`cannot read the host name: ${(err as Error).message}`);
  }
}

/** The canonical name of `name` from the system resolver (getaddrinfo AI_CANONNAME). */
export async function fullyQualified(name: string): Promise<string> {
  const resolver = systemResolver();
  try {
    const results = await resolver.getaddrinfo(name, null, getentHints());
    return results.find((r) => r.canonname)?.canonname ?? name;
  } catch (err) {
    throw resolverFailure(err, name);
  }
}

/** CLI entry point. */
export async function main(args: string[], _ctx: CommandContext): Promise<number> {
  const { values } = parseFlags(args, {
    usage: USAGE,
    about: "Prints this machine's host name (the C library's gethostname).",
    options: OPTIONS,
    exitStatus: "0 printed, 1 the name (or with --fqdn its canonical name) cannot be found, " +
      "2 usage.",
    maxPositionals: 0,
  });
  const hostname = hostName();
  const fqdn = values.fqdn ? await fullyQualified(hostname) : undefined;
  if (values.json) {
    console.log(formatJson(fqdn === undefined ? { hostname } : { hostname, fqdn }));
    return 0;
  }
  const shown = fqdn ?? hostname;
  console.log(values.verbose ? `My hostname: ${shown}` : shown);
  return 0;
}
