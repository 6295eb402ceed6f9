/**
 * UDP example 1 (the lecture's udpServer.c / udpClient.c) as pure functions:
 * how a received datagram is shown, and the lines both programs print.
 *
 * Wire grammar:
 * ```text
 * datagram = *byte [ LF ] *NUL  ; the C client sends strlen+1 bytes, nc a newline: both dropped
 * ```
 * @module
 */
import { printableBytes } from "../cli/printable.ts";

/** Default port of UDP example 1 (SPEC §7). */
export const DEFAULT_PORT = 1500;

/** Usage line of the client, as the lecture prints it. */
export const CLIENT_USAGE = "usage : socklab udp-client <server> <data1> ... <dataN>";

/**
 * A datagram's payload as one printable line: trailing NULs (the C client's
 * strlen+1) and one trailing line end (nc's) stripped, control bytes and
 * invalid UTF-8 shown as `\xNN` so one datagram is always one line.
 */
export function payloadText(data: Uint8Array): string {
  let end = data.length;
  while (end > 0 && data[end - 1] === 0) end--;
  if (end > 0 && data[end - 1] === 0x0a) end--;
  if (end > 0 && data[end - 1] === 0x0d) end--;
  return printableBytes(data.subarray(0, end));
}

/** The address as the C server prints it, with IPv4-mapped IPv6 shown as IPv4. */
export function sourceText(from: Deno.NetAddr): string {
  const host = from.hostname.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, "$1");
  return host.includes(":") ? `[${host}]:UDP${from.port}` : `${host}:UDP${from.port}`;
}

/** `socklab udp-server: from 127.0.0.1:UDP36683 : hello` */
export function receivedLine(data: Uint8Array, from: Deno.NetAddr): string {
  return `socklab udp-server: from ${sourceText(from)} : ${payloadText(data)}`;
}

/** `socklab udp-server: waiting for data on port UDP 1500` */
export function waitingLine(port: number): string {
  return `socklab udp-server: waiting for data on port UDP ${port}`;
}

/** `socklab udp-client: sending data to 'NAME' (IP : A.B.C.D)` */
export function sendingLine(name: string, ip: string): string {
  return `socklab udp-client: sending data to '${name}' (IP : ${ip})`;
}
