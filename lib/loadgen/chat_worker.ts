/**
 * A worker thread of the chat load generator: it runs one {@linkcode ChatLoadPart}
 * and answers the coordinator's calls (chat.ts) by message, and every 100 ms
 * posts its live counters for the progress and interval lines.
 *
 * ```text
 * coordinator -> { id, method: "init" | "join" | "probe" | "send" | "drain" | "report" | "close", args }
 * worker      -> { id, result } | { id, error: { message, fail } } | { live: PartCounters }
 * coordinator -> { method: "abort" }                       (no reply)
 * ```
 * @module
 */
/// <reference lib="deno.worker" />
import { FailError } from "../cli/errors.ts";
import { ChatLoadPart, type PartSpec, type Schedule } from "./chat_part.ts";

let part: ChatLoadPart | undefined;
let ticker: ReturnType<typeof setInterval> | undefined;

/** The calls the coordinator makes, by name. */
const METHODS: Record<string, (args: unknown[]) => unknown> = {
  init: ([spec]) => {
    part = new ChatLoadPart(spec as PartSpec);
    ticker = setInterval(() => self.postMessage({ live: part!.live() }), 100);
  },
  join: () => part!.join(),
  probe: () => part!.probe(),
  send: ([schedule]) => part!.send(schedule as Schedule),
  drain: ([expected, untilUs]) => part!.drain(expected as number, untilUs as number),
  report: () => part!.report(),
  close: async () => {
    clearInterval(ticker);
    await part?.close();
  },
};

self.onmessage = async (e: MessageEvent) => {
  const { id, method, args } = e.data as { id?: number; method: string; args?: unknown[] };
  if (method === "abort") {
    part?.abort();
    return;
  }
  try {
    const result = await METHODS[method](args ?? []);
    self.postMessage({ id, result });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    self.postMessage({ id, error: { message, fail: err instanceof FailError } });
  }
};
