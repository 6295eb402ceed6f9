import { assertEquals, assertOk } from "../helpers/assert.ts";
import { type LineSink, LineWriter } from "../../lib/cli/line_writer.ts";

/** A sink that records each write, optionally held until released. */
function recordingSink(options: { partial?: number; fail?: boolean } = {}) {
  const writes: string[] = [];
  let gate: Promise<void> = Promise.resolve();
  let open = () => {};
  const sink: LineSink = {
    async write(p) {
      await gate;
      if (options.fail) throw new Deno.errors.BrokenPipe("broken pipe");
      const n = Math.min(p.length, options.partial ?? p.length);
      writes.push(new TextDecoder().decode(p.subarray(0, n)));
      return n;
    },
  };
  return {
    sink,
    writes,
    hold() {
      gate = new Promise((resolve) => (open = resolve));
    },
    release: () => open(),
  };
}

Deno.test("LineWriter sends the lines of one turn in one write", async () => {
  const s = recordingSink();
  const out = new LineWriter(s.sink);
  out.line("a");
  out.line("b");
  out.line("c");
  await out.flushed();
  assertEquals(s.writes, ["a\nb\nc\n"]);
});

Deno.test("LineWriter batches what arrives while a write is in flight, in order", async () => {
  const s = recordingSink();
  s.hold();
  const out = new LineWriter(s.sink);
  out.line("first");
  await Promise.resolve(); // the first write starts and waits on the gate
  out.line("second");
  out.line("third");
  s.release();
  await out.flushed();
  assertEquals(s.writes.join(""), "first\nsecond\nthird\n");
  assertOk(s.writes.length <= 2, JSON.stringify(s.writes));
});

Deno.test("LineWriter finishes a partial write before the next", async () => {
  const s = recordingSink({ partial: 3 });
  const out = new LineWriter(s.sink);
  out.line("hello world");
  await out.flushed();
  assertEquals(s.writes.join(""), "hello world\n");
});

Deno.test("LineWriter drops lines while the reader is behind, then says how many", async () => {
  const s = recordingSink();
  s.hold();
  const out = new LineWriter(s.sink, { maxBytes: 10 });
  out.line("12345"); // 6 bytes held
  out.line("abcdefgh"); // would be 15: dropped
  out.line("xyzxyzxyz"); // dropped
  assertEquals(out.dropped, 2);
  s.release();
  await out.flushed();
  out.line("ok");
  await out.flushed();
  assertEquals(
    s.writes.join(""),
    "12345\nsocklab: 2 log lines dropped (output too slow)\nok\n",
  );
});

Deno.test("LineWriter stops quietly when the reader is gone", async () => {
  const s = recordingSink({ fail: true });
  const out = new LineWriter(s.sink);
  out.line("lost");
  await out.flushed();
  out.line("also lost"); // no throw, no pending write
  await out.flushed();
  assertEquals(s.writes, []);
});
