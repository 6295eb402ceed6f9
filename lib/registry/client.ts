/**
 * `socklab registry-client`: one request (`register NAME`, `unregister NAME`,
 * `who`) from the command line, or a prompt that sends each line typed (or
 * piped) from one socket, so the server sees one sender for the session.
 *
 * ```sh
 * socklab registry-client localhost register alice
 * printf 'register bob\nwho\n' | socklab registry-client localhost
 * ```
 * @module
 */
import type { CommandContext } from "../cli/command.ts";
import { describeError, FailError, UsageError } from "../cli/errors.ts";
import { parseFlags, UDP_CLIENT_HELP, UDP_CLIENT_OPTIONS, udpClientOptions } from "../cli/flags.ts";
import { type LineInput, streamInput } from "../cli/input.ts";
import { formatJson, writeOut } from "../cli/output.ts";
import { withCookie } from "../net/amplification.ts";
import { UdpSocket } from "../net/udp.ts";
import type { RequestOptions } from "../net/udp.ts";
import { resolveTarget, serverTarget, textRequest, type UdpTarget } from "../net/udp_client.ts";
import { DEFAULT_PORT, isValidName, parseUsersReply } from "./protocol.ts";

const USAGE =
  "usage: socklab registry-client SERVER[:PORT] [register NAME | unregister NAME | who [NAME]] [--port N] [--timeout MS] [--retries N] [--json]";
const HELP = `Sends one request to the registration server and prints the reply; with no
request, reads requests line by line (a prompt on a terminal, or piped stdin).
A "who" list the server cuts short (an address it has not seen receive) is
fetched whole by sending its cookie back, as the server's hint says.

  --port N      server port (default ${DEFAULT_PORT})
${UDP_CLIENT_HELP}
  --json        one JSON document: server, request, reply, ok, and names for who

Exit status: 0 OK or USERS reply, 1 ERR reply or no reply, 2 usage.`;

const PROMPT = "registry> ";

/** Options of {@linkcode runRegistryPrompt}. */
export interface RegistryPromptOptions extends RequestOptions {
  input: LineInput;
  /** Where replies (and the prompt) go (default stdout). */
  write?: (text: string) => void;
  /** Where failures go (default stderr). */
  warn?: (line: string) => void;
}

/**
 * Sends each input line as one request from one socket and prints each reply.
 * Returns how many requests got no reply (the session goes on after one).
 */
export async function runRegistryPrompt(
  target: UdpTarget,
  options: RegistryPromptOptions,
): Promise<number> {
  const write = options.write ?? writeOut;
  const warn = options.warn ?? ((line: string) => console.error(line));
  await using socket = UdpSocket.forTarget(target.hostname);
  let failures = 0;
  while (true) {
    if (options.input.interactive) write(PROMPT);
    const line = await options.input.next();
    if (line === null) break;
    const request = line.trim();
    if (request === "") continue;
    if (/^(quit|exit)$/i.test(request)) break;
    try {
      const reply = await registryRequest(target, request, { ...options, socket });
      write(`${reply}\n`);
    } catch (err) {
      if (!(err instanceof FailError)) throw err;
      failures++;
      warn(`socklab registry-client: ${describeError(err)}`);
    }
  }
  if (options.input.interactive) write("\n");
  return failures;
}

/**
 * Sends one request and returns the reply's text; a `who` list cut short for
 * an unvalidated address is fetched again with the cookie the hint names.
 */
export async function registryRequest(
  target: UdpTarget,
  request: string,
  options: RequestOptions & { socket?: UdpSocket },
): Promise<string> {
  const first = await textRequest(target, request, options);
  const more = parseUsersReply(first.text)?.more;
  if (!more) return first.text;
  const whole = await textRequest(target, withCookie(request, more.cookie), options);
  return whole.text;
}

/** CLI entry point. */
export async function main(args: string[], ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    usage: USAGE,
    help: HELP,
    minPositionals: 1,
    maxPositionals: 3,
    options: { port: { type: "string" }, ...UDP_CLIENT_OPTIONS, json: { type: "boolean" } },
  });
  const [server, command, name] = positionals;
  const verb = command?.toLowerCase();
  if (verb !== undefined && verb !== "register" && verb !== "unregister" && verb !== "who") {
    throw new UsageError(`Unknown request "${command}"`, USAGE);
  }
  if ((verb === "register" || verb === "unregister") && name === undefined) {
    throw new UsageError(`Missing NAME after ${verb}`, USAGE);
  }
  if (name !== undefined && !isValidName(name)) {
    throw new UsageError(`Invalid NAME "${name}": 1-32 letters, digits, _ . -`, USAGE);
  }
  const hostPort = serverTarget(server, values.port, DEFAULT_PORT, USAGE);
  const options = { ...udpClientOptions(values), signal: ctx.signal };
  const target = await resolveTarget(hostPort);
  if (verb === undefined) {
    if (values.json) throw new UsageError("--json needs a request on the command line", USAGE);
    const failures = await runRegistryPrompt(target, { ...options, input: streamInput() });
    return failures > 0 ? 1 : 0;
  }
  const request = [verb, name].filter(Boolean).join(" ");
  await using socket = UdpSocket.forTarget(target.hostname);
  const reply = await registryRequest(target, request, { ...options, socket });
  const ok = !reply.startsWith("ERR");
  if (values.json) {
    const names = parseUsersReply(reply)?.names;
    console.log(
      formatJson({ server: target.label, request, reply, ok, ...(names ? { names } : {}) }),
    );
    return ok ? 0 : 1;
  }
  if (!ok) throw new FailError(`server replied: ${reply}`);
  console.log(reply);
  return 0;
}
