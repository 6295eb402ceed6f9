import { assertEquals } from "../helpers/assert.ts";
import { forEachLine } from "../../lib/net/line_reader.ts";
import type { Frame } from "../../lib/net/framing.ts";

/** A source that returns the given chunks, then EOF (or throws `end`). */
function source(chunks: string[], end?: Error) {
  const queue = chunks.map((c) => new TextEncoder().encode(c));
  return {
    read(p: Uint8Array): Promise<number | null> {
      const c = queue.shift();
      if (!c) return end ? Promise.reject(end) : Promise.resolve(null);
      const n = Math.min(c.length, p.length);
      p.set(c.subarray(0, n));
      if (n < c.length) queue.unshift(c.subarray(n));
      return Promise.resolve(n);
    },
  };
}

async function frames(
  chunks: string[],
  options = {},
  end?: Error,
  stopAt?: string,
): Promise<Frame[]> {
  const out: Frame[] = [];
  await forEachLine(source(chunks, end), (f) => {
    out.push(f);
    return !(f.kind === "line" && f.text === stopAt);
  }, options);
  return out;
}

Deno.test("forEachLine() hands over each line, joining chunks, with the tail at EOF", async () => {
  assertEquals(await frames(["he", "llo\r\nwor", "ld\nta", "il"]), [
    { kind: "line", text: "hello" },
    { kind: "line", text: "world" },
    { kind: "line", text: "tail" },
  ]);
});

Deno.test("forEachLine() reports an over-long line and goes on", async () => {
  assertEquals(await frames(["abcdefgh\nok\n"], { maxLine: 4, bufferSize: 3 }), [
    { kind: "overflow", bytes: 8 },
    { kind: "line", text: "ok" },
  ]);
});

Deno.test("forEachLine() ends on a reset like on EOF", async () => {
  assertEquals(await frames(["a\n"], {}, new Deno.errors.ConnectionReset("reset")), [
    { kind: "line", text: "a" },
  ]);
});

Deno.test("forEachLine() stops when the callback returns false", async () => {
  assertEquals(await frames(["a\nstop\nc\n"], {}, undefined, "stop"), [
    { kind: "line", text: "a" },
    { kind: "line", text: "stop" },
  ]);
});
