/**
 * The hostile-datagram table every UDP exercise service must survive, as one
 * test per bad input: the service runs in-process, gets the bad datagram and
 * then a good request, and must answer the first as its table says (an `ERR`
 * line, or silence) and the second as usual.
 *
 * @example
 * ```ts ignore
 * import { testBadInputs } from "../helpers/bad_inputs.ts";
 * testBadInputs({
 *   service: "rates-server",
 *   run: runRatesServer,
 *   replies: { "binary bytes": "ERR request is not text", "only NULs": null },
 *   then: ["USD", USD_LINE],
 * });
 * ```
 * @module
 */
import { assertEquals, assertMatch } from "./assert.ts";
import { BAD_INPUTS, Probe, serveInProcess } from "./udp_probe.ts";

/** What a server answers to one datagram: the exact text, a pattern, or null for nothing. */
export type Expected = string | RegExp | null;

/** One service's row for {@linkcode testBadInputs}. */
export interface BadInputCase {
  /** Its name in the test names (`rates-server`). */
  service: string;
  /** Its serve function, run in-process on a free loopback port. */
  run: Parameters<typeof serveInProcess>[0];
  /** Its answer to each of the bad inputs, by name (a missing name means silence). */
  replies: Record<string, Expected>;
  /** A good request sent right after the bad one, and its reply. */
  then: [request: string | Uint8Array, reply: string | RegExp];
  /** When given: the server logged only this many lines (its start-up lines, no error line). */
  logged?: number;
}

/** Defines `SERVICE survives INPUT (REPLY or silence)` for every bad input. */
export function testBadInputs(c: BadInputCase): void {
  for (const [name, data] of BAD_INPUTS) {
    const expected = c.replies[name] ?? null;
    Deno.test(`${c.service} survives ${name} (${expected ?? "silence"})`, async () => {
      await using server = serveInProcess(c.run);
      await using probe = new Probe(server.port);
      await probe.send(data);
      await probe.send(c.then[0]);
      if (expected !== null) expectText(await probe.next(), expected);
      expectText(await probe.next(), c.then[1], "and the server keeps serving");
      if (c.logged !== undefined) {
        assertEquals(server.lines.length, c.logged, "nothing logged but the start-up lines");
      }
    });
  }
}

/**
 * How a service that reads requests through lib/net/udp_text.ts answers the
 * inputs refused before its own parser sees them: too long, or not text (the
 * row lacks "only NULs": that is an empty request, which each service words
 * its own way).
 */
export function textRequestReplies(maxBytes: number): Record<string, string> {
  const tooLong = `ERR request too long (max ${maxBytes} bytes)`;
  const notText = "ERR request is not text (UTF-8 without control characters)";
  return {
    "65,507 bytes of text": tooLong,
    "binary bytes": notText,
    "inner NULs": notText,
    "invalid UTF-8": notText,
    "one line of 10,000 words": tooLong,
  };
}

/** `text` is `expected`, or matches it when it is a pattern. */
export function expectText(text: string, expected: string | RegExp, message?: string): void {
  if (typeof expected === "string") assertEquals(text, expected, message);
  else assertMatch(text, expected, message);
}
