/**
 * `socklab gethostbyname NAME`: the lecture's first look-up function, the
 * official name and IPv4 addresses of NAME from the C library's
 * gethostbyname (reentrant form), printed as the lecture's program does.
 *
 * ```sh
 * socklab gethostbyname localhost
 * # Official name is: localhost
 * #     IP addresses: 127.0.0.1
 * ```
 * @module
 */
import type { CommandContext } from "../cli/command.ts";
import { FailError } from "../cli/errors.ts";
import { parseFlags } from "../cli/flags.ts";
import { formatJson, writeErr } from "../cli/output.ts";
import { hostEntLines } from "./addrinfo.ts";
import { FALLBACK_NOTE, ResolverError, systemResolver } from "./resolver.ts";

const USAGE = "usage: socklab gethostbyname [--aliases] [--json] NAME";
const ABOUT = `Looks NAME up with the C library's gethostbyname (IPv4, /etc/hosts and DNS as
nsswitch says) and prints the official name and every address:

    Official name is: NAME
        IP addresses: A B ...`;

const OPTIONS = {
  aliases: { type: "boolean", help: "also print the aliases line" },
  json: { type: "boolean", help: "one JSON document {name, official, aliases, addresses}" },
} as const;

/** getent's status for a key it cannot find (`getent hosts NAME`). */
const EXIT_NOT_FOUND = 2;

/** CLI entry point. */
export async function main(args: string[], _ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    usage: USAGE,
    about: ABOUT,
    options: OPTIONS,
    exitStatus: "0 found, 2 unknown host or not resolved (as getent hosts), 2 usage.",
    minPositionals: 1,
    maxPositionals: 1,
  });
  const name = positionals[0];
  const resolver = systemResolver();
  if (resolver.source !== "libc") writeErr(`socklab gethostbyname: ${FALLBACK_NOTE}\n`);
  let host;
  try {
    host = await resolver.gethostbyname(name);
  } catch (err) {
    if (err instanceof ResolverError) {
      throw new FailError(
        err.notFound
          ? `unknown host '${name}' (${err.message})`
          : `cannot resolve '${name}': ${err.message}`,
        { exitCode: EXIT_NOT_FOUND },
      );
    }
    throw err;
  }
  if (values.json) {
    console.log(formatJson({
      name,
      official: host.name,
      aliases: host.aliases,
      addresses: host.addresses,
      source: resolver.source,
    }));
    return 0;
  }
  const lines = hostEntLines(host);
  if (values.aliases) lines.splice(1, 0, `          Aliases: ${host.aliases.join(" ")}`);
  console.log(lines.join("\n"));
  return 0;
}
