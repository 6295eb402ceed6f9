/**
 * TCP example 2 (the lecture's tcpserver.c / tcpclient.c) as pure functions:
 * the lines both sides print and the quit rule.
 *
 * Wire grammar:
 * ```text
 * message = *byte        ; the text alone, no terminator, one send per message
 * quit    = "q" / "Q"    ; from either side ends the connection
 * ```
 * A received trailing CR/LF is stripped so that nc users interoperate.
 * @module
 */
import { printableText } from "../cli/printable.ts";

/** Default port of TCP example 2 (SPEC §7). */
export const DEFAULT_PORT = 5000;

/** The prompt both programs print before reading a line. */
export const PROMPT = "SEND (q or Q to quit) : ";

/** True for the lecture's quit message. */
export function isQuit(text: string): boolean {
  return text === "q" || text === "Q";
}

/** `TCP Server Waiting for client on port 5000` */
export function waitingLine(port: number): string {
  return `TCP Server Waiting for client on port ${port}`;
}

/** `I got a connection from (127.0.0.1 , 34141)` */
export function connectionLine(addr: Deno.NetAddr): string {
  const host = addr.hostname.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, "$1");
  return `I got a connection from (${host} , ${addr.port})`;
}

/** `RECEIVED DATA = TEXT` (server side) */
export function serverReceivedLine(text: string): string {
  return `RECEIVED DATA = ${printableText(text)}`;
}

/** `Received data = TEXT` (client side) */
export function clientReceivedLine(text: string): string {
  return `Received data = ${printableText(text)}`;
}
