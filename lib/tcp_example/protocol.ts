/**
 * TCP example 2 (the lecture's tcpserver.c / tcpclient.c) as pure functions:
 * the lines both sides print and the quit rule.
 *
 * Wire grammar:
 * ```text
 * message = *byte        ; the text alone, no terminator, one send per message
 * quit    = "q" / "Q"    ; from either side ends the connection
 * ```
 * A received trailing CR/LF is stripped so that nc users interoperate. A
 * message longer than {@linkcode SHOWN_BYTES} (a huge line) is shown cut,
 * with its size: `RECEIVED DATA = aaa... (50,000,001 bytes, the first 1,023 shown)`.
 * @module
 */
import { printableText } from "../cli/printable.ts";

/** Default port of TCP example 2 (SPEC §7). */
export const DEFAULT_PORT = 5000;

/** Bytes of a message kept and shown (the lecture's receive buffer, less its NUL). */
export const SHOWN_BYTES = 1023;

/** A received message: its text (CR/LF stripped) and, when it was cut, its full size. */
export interface Message {
  text: string;
  /** Bytes received for it, terminator included. */
  bytes: number;
  /** True when only the first {@linkcode SHOWN_BYTES} bytes were kept. */
  cut: boolean;
}

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

/** A message as the programs print it: printable, and a cut one followed by its size. */
export function shownText(message: string | Message): string {
  if (typeof message === "string") return printableText(message);
  const text = printableText(message.text);
  if (!message.cut) return text;
  const size = message.bytes.toLocaleString("en-US");
  return `${text}... (${size} bytes, the first ${SHOWN_BYTES.toLocaleString("en-US")} shown)`;
}

/** `RECEIVED DATA = TEXT` (server side) */
export function serverReceivedLine(message: string | Message): string {
  return `RECEIVED DATA = ${shownText(message)}`;
}

/** `Received data = TEXT` (client side) */
export function clientReceivedLine(message: string | Message): string {
  return `Received data = ${shownText(message)}`;
}
