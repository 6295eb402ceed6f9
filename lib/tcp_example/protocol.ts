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

/**
 * `RECEIVED DATA = TEXT` (server side); a message longer than the text it
 * kept (an over-long line) ends with `... (N bytes)`.
 */
export function serverReceivedLine(text: string, bytes?: number): string {
  return `RECEIVED DATA = ${printableText(text)}${lengthNote(text, bytes)}`;
}

/** `Received data = TEXT` (client side), with the same length note. */
export function clientReceivedLine(text: string, bytes?: number): string {
  return `Received data = ${printableText(text)}${lengthNote(text, bytes)}`;
}

const encoder = new TextEncoder();

function lengthNote(text: string, bytes: number | undefined): string {
  if (bytes === undefined || bytes <= encoder.encode(text).length + 2) return "";
  return ` ... (${bytes} bytes)`;
}
