/**
 * `socklab rates-client`: asks a rates server for a currency's rates, or to
 * convert an amount, and prints the reply. An `ERR` reply exits 1.
 *
 * ```sh
 * socklab rates-client localhost USD
 * socklab rates-client localhost 100 USD EUR
 * ```
 * @module
 */
import type { CommandContext } from "../cli/command.ts";
import { FailError } from "../cli/errors.ts";
import { parseFlags, UDP_CLIENT_HELP, UDP_CLIENT_OPTIONS, udpClientOptions } from "../cli/flags.ts";
import { resolveTarget, serverTarget, textRequest } from "../net/udp_client.ts";
import { formatJson } from "../cli/output.ts";
import { DEFAULT_PORT, parseRatesReply } from "./protocol.ts";

const USAGE =
  "usage: socklab rates-client SERVER[:PORT] [AMOUNT] CODE [TARGET] [--port N] [--timeout MS] [--retries N] [--json]";
const HELP = `Asks SERVER for CODE's rate against every other currency (USD), or converts
AMOUNT of CODE into TARGET (100 USD EUR), and prints the reply.

  --port N      server port (default ${DEFAULT_PORT})
${UDP_CLIENT_HELP}
  --json        one JSON document: server, request, reply, ok, and the values

Exit status: 0 a rates reply, 1 an ERR reply or no reply, 2 usage.`;

/** CLI entry point. */
export async function main(args: string[], ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    usage: USAGE,
    help: HELP,
    minPositionals: 2,
    maxPositionals: 4,
    options: { port: { type: "string" }, ...UDP_CLIENT_OPTIONS, json: { type: "boolean" } },
  });
  const hostPort = serverTarget(positionals[0], values.port, DEFAULT_PORT, USAGE);
  const options = { ...udpClientOptions(values), signal: ctx.signal };
  const target = await resolveTarget(hostPort);
  const request = positionals.slice(1).join(" ");
  const reply = await textRequest(target, request, options);
  const ok = !reply.text.startsWith("ERR");
  if (values.json) {
    const parsed = ok ? parseRatesReply(reply.text) : undefined;
    console.log(formatJson({ server: target.label, request, reply: reply.text, ok, ...parsed }));
    return ok ? 0 : 1;
  }
  if (!ok) throw new FailError(`server replied: ${reply.text}`);
  console.log(reply.text);
  return 0;
}
