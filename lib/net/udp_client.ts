/**
 * The client side of a one-datagram text protocol, written once: parse the
 * `SERVER[:PORT]` argument (with `--port` as the default port), resolve it,
 * send a request with time-out and retries, and show the reply as one safe
 * line (a hostile server cannot send escape sequences to the terminal).
 *
 * @example
 * ```ts ignore
 * import { resolveTarget, serverTarget, textRequest } from "./udp_client.ts";
 * const target = await resolveTarget(serverTarget("localhost:1502", undefined, 1502, "usage"));
 * const reply = await textRequest(target, "USD", { timeoutMs: 2000, retries: 2 });
 * ```
 * @module
 */
import { printableBytes } from "../cli/printable.ts";
import { UsageError } from "../cli/errors.ts";
import { intFlag } from "../cli/flags.ts";
import { formatHostPort, type HostPort, parseHostPort } from "./address.ts";
import { resolveHost } from "./resolve.ts";
import { type RequestOptions, UdpSocket } from "./udp.ts";
import { trimmedLength } from "./udp_text.ts";

/** A resolved server address and the name to show for it. */
export interface UdpTarget extends HostPort {
  /** `HOST:PORT` as the user wrote the host (for messages). */
  label: string;
}

/**
 * `SERVER` or `SERVER:PORT` with `--port` text as the default (else
 * `defaultPort`); a malformed value is a UsageError with `usage`.
 */
export function serverTarget(
  server: string,
  portFlag: string | undefined,
  defaultPort: number,
  usage: string,
): HostPort {
  try {
    return parseHostPort(server, intFlag(portFlag, "port", 1, 65535, defaultPort));
  } catch (err) {
    if (err instanceof UsageError) throw new UsageError(err.message, usage);
    throw new UsageError((err as Error).message, usage);
  }
}

/** Resolves the host (FailError `unknown host 'NAME'`). */
export async function resolveTarget(target: HostPort): Promise<UdpTarget> {
  const ip = await resolveHost(target.hostname);
  return { hostname: ip, port: target.port, label: formatHostPort(target.hostname, target.port) };
}

/** A reply as one printable line (trailing CR/LF/NUL dropped, controls as `\xNN`). */
export function replyText(data: Uint8Array): string {
  return printableBytes(data.subarray(0, trimmedLength(data)));
}

/** A text reply and how it came. */
export interface TextReply {
  text: string;
  rttMs: number;
  tries: number;
}

/**
 * Sends `request` to `target` from `sock` (or a fresh socket) and returns the
 * reply's text; FailError `no reply from HOST:PORT after N tries` otherwise.
 */
export async function textRequest(
  target: UdpTarget,
  request: string | Uint8Array,
  options: RequestOptions & { socket?: UdpSocket } = {},
): Promise<TextReply> {
  const own = options.socket ? undefined : UdpSocket.forTarget(target.hostname);
  const sock = options.socket ?? own!;
  try {
    const reply = await sock.request(request, target, { label: target.label, ...options });
    return { text: replyText(reply.data), rttMs: reply.rttMs, tries: reply.tries };
  } finally {
    await own?.close();
  }
}
