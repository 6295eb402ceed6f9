import { assertEquals, assertOk, throws } from "../helpers/assert.ts";
import { type SseEnd, sseFrame, sseRetry, SseStream } from "../../lib/console/sse.ts";

Deno.test("sseFrame() puts each line of the data on its own data: line", () => {
  assertEquals(sseFrame("tick", "{}"), "event: tick\ndata: {}\n\n");
  assertEquals(sseFrame("", "a\r\nb\rc\nd", "7"), "id: 7\ndata: a\ndata: b\ndata: c\ndata: d\n\n");
  assertEquals(sseFrame("x", ""), "event: x\ndata: \n\n");
  throws(() => sseFrame("a\nb", "x"), /line end in an SSE event/, SyntaxError);
  throws(() => sseFrame("a", "x", "1\r"), /line end in an SSE id/, SyntaxError);
  assertEquals(sseRetry(1000), "retry: 1000\n\n");
});

const kib = (n: number) => new Uint8Array(n * 1024);

Deno.test("SseStream drops a browser that stops reading once its queue is full", () => {
  const ends: SseEnd[] = [];
  const s = new SseStream(8 * 1024, (why) => ends.push(why));
  assertOk(s.send(kib(4)));
  assertOk(s.send(kib(4)));
  assertEquals(s.queuedBytes, 8 * 1024);
  assertEquals(s.send(kib(1)), false, "the 9th KiB does not fit");
  assertEquals([s.ended, ends, s.queuedBytes], ["full", ["full"], 0]);
  assertEquals(s.send(kib(1)), false, "stays ended");
});

Deno.test("SseStream frees its queue as the server reads, and ends once when the browser leaves", async () => {
  const ends: SseEnd[] = [];
  const s = new SseStream(8 * 1024, (why) => ends.push(why));
  const reader = s.body.getReader();
  for (let i = 0; i < 20; i++) {
    assertOk(s.send(kib(4)), `chunk ${i}`);
    assertEquals((await reader.read()).value?.byteLength, 4096);
  }
  await reader.cancel();
  assertEquals([s.ended, ends], ["gone", ["gone"]]);
  s.close();
  assertEquals(ends, ["gone"]);
});

Deno.test("SseStream.close() lets the browser read what is queued, then ends", async () => {
  const s = new SseStream(1024);
  s.send(new TextEncoder().encode("data: x\n\n"));
  s.close();
  assertEquals(s.ended, "closed");
  const text = await new Response(s.body).text();
  assertEquals(text, "data: x\n\n");
});
