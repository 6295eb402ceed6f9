/**
 * The SEND half of a TCP example 2 turn, shared by server and client: prompt,
 * read a line (EOF counts as `q`), send it as one message.
 * @module
 */
import type { LineInput } from "../cli/input.ts";
import { writeAll } from "../net/tcp.ts";
import { isQuit, PROMPT } from "./protocol.ts";

const encoder = new TextEncoder();

/** Where the programs write: text without an added newline. */
export type Write = (text: string) => void;

/**
 * Prompts, reads a non-empty line (EOF → `q`) and sends it. Returns true when
 * the line was the quit message, or at once when `signal` aborts while the
 * line is awaited (SIGTERM must not wait for someone to type). A piped line is
 * echoed after the prompt so the transcript reads like a terminal session.
 */
export async function sendTurn(
  conn: Deno.Conn,
  input: LineInput,
  write: Write,
  signal?: AbortSignal,
): Promise<boolean> {
  let line: string | null;
  do {
    write(PROMPT);
    line = await nextLine(input, signal);
    if (signal?.aborted) return true;
    if (line === null) line = "q";
    if (!input.interactive) write(`${line}\n`);
  } while (line === ""); // an empty send would leave both sides waiting
  await writeAll(conn, encoder.encode(line));
  return isQuit(line);
}

/** The next line, or null at once when `signal` aborts (no listener left behind). */
function nextLine(input: LineInput, signal?: AbortSignal): Promise<string | null> {
  if (!signal) return input.next();
  if (signal.aborted) return Promise.resolve(null);
  let onAbort: () => void = () => {};
  const stop = new Promise<null>((resolve) => {
    onAbort = () => resolve(null);
    signal.addEventListener("abort", onAbort, { once: true });
  });
  return Promise.race([input.next(), stop]).finally(() =>
    signal.removeEventListener("abort", onAbort)
  );
}
