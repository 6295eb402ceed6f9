import { assertEquals } from "../helpers/assert.ts";
import { type Frame, LineFramer } from "../../lib/net/framing.ts";
import { feedLines } from "../../lib/chat/line_feed.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

/** Frames from feeding `chunks` one after another (and whether a framer is left). */
function feed(chunks: string[], maxLine = 8): { frames: Frame[]; pending: boolean } {
  const frames: Frame[] = [];
  let framer: LineFramer | undefined;
  for (const c of chunks) framer = feedLines(framer, bytes(c), maxLine, frames);
  return { frames, pending: framer !== undefined };
}

/** What one LineFramer makes of the same bytes (the reference). */
function reference(chunks: string[], maxLine = 8): Frame[] {
  const framer = new LineFramer({ maxLine });
  return chunks.flatMap((c) => framer.push(bytes(c)));
}

const CASES: [string, string[]][] = [
  ["whole lines in one chunk", ["a\nbb\r\n\n"]],
  ["a line split over chunks", ["ab", "cd\nef", "\n"]],
  ["a line over the limit, whole", ["123456789\nok\n"]],
  ["a line over the limit, in pieces", ["12345", "6789012", "34\nok\n"]],
  ["CR LF split between chunks", ["abc\r", "\n"]],
  ["exactly the limit, with CR", ["12345678\r\n"]],
  ["one over the limit, with CR", ["123456789\r\n"]],
];

for (const [name, chunks] of CASES) {
  Deno.test(`feedLines() frames ${name} exactly as LineFramer does`, () => {
    const { frames, pending } = feed(chunks);
    assertEquals(frames, reference(chunks));
    assertEquals(pending, false);
  });
}

Deno.test("feedLines() keeps a framer only while a partial line is pending", () => {
  assertEquals(feed(["abc"]).pending, true);
  assertEquals(feed(["abc", "d\n"]).pending, false);
  assertEquals(feed(["a\n"]).pending, false);
});

Deno.test("feedLines() joins a UTF-8 character split between two chunks", () => {
  const all = bytes("hé\n"); // h, 0xc3 0xa9, LF
  const frames: Frame[] = [];
  const framer = feedLines(undefined, all.subarray(0, 2), 8, frames);
  feedLines(framer, all.subarray(2), 8, frames);
  assertEquals(frames, [{ kind: "line", text: "hé" }]);
});
