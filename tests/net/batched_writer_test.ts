import { assertEquals, assertOk } from "../helpers/assert.ts";
import { BatchedWriter } from "../../lib/net/batched_writer.ts";

/** A sink whose writes finish when the test says so (or at once), recording each. */
class FakeSink {
  writes: string[] = [];
  #pending: { p: Uint8Array; resolve: (n: number) => void; reject: (e: unknown) => void }[] = [];
  constructor(readonly manual = false, readonly maxPerWrite = Infinity) {}

  write(p: Uint8Array): Promise<number> {
    const n = Math.min(p.length, this.maxPerWrite);
    this.writes.push(new TextDecoder().decode(p.subarray(0, n)));
    if (!this.manual) return Promise.resolve(n);
    return new Promise((resolve, reject) => this.#pending.push({ p, resolve, reject }));
  }

  /** Finishes the oldest write in full. */
  finish(): void {
    const w = this.#pending.shift()!;
    w.resolve(Math.min(w.p.length, this.maxPerWrite));
  }

  fail(err: unknown): void {
    this.#pending.shift()!.reject(err);
  }
}

const bytes = (s: string) => new TextEncoder().encode(s);
const tick = () => new Promise((r) => setTimeout(r, 0));

Deno.test("BatchedWriter joins everything pushed in one turn into one write", async () => {
  const sink = new FakeSink();
  const w = new BatchedWriter(sink);
  for (const s of ["a\n", "b\n", "c\n"]) assertOk(w.push(bytes(s)));
  await w.flushed();
  assertEquals(sink.writes, ["a\nb\nc\n"]);
  assertEquals(w.held, 0);
});

Deno.test("BatchedWriter sends what queued during a write as the next single write", async () => {
  const sink = new FakeSink(true);
  const w = new BatchedWriter(sink);
  w.push(bytes("1"));
  await tick();
  assertEquals(sink.writes, ["1"]);
  for (const s of ["2", "3", "4"]) w.push(bytes(s));
  assertEquals(w.held, 4);
  sink.finish();
  await tick();
  assertEquals(sink.writes, ["1", "234"]);
  sink.finish();
  await w.flushed();
  assertEquals(w.writes, 2);
});

Deno.test("BatchedWriter finishes a partial write before the next batch", async () => {
  const sink = new FakeSink(false, 2);
  const w = new BatchedWriter(sink);
  w.push(bytes("abcde"));
  await w.flushed();
  assertEquals(sink.writes, ["ab", "cd", "e"]);
});

Deno.test("BatchedWriter refuses a push over maxBytes and closes, keeping nothing", async () => {
  const sink = new FakeSink(true);
  const w = new BatchedWriter(sink, { maxBytes: 8 });
  assertOk(w.push(bytes("12345")));
  assertOk(w.push(bytes("678")));
  assertEquals(w.push(bytes("9")), false);
  assertOk(w.closed);
  assertEquals(w.held, 0);
  assertEquals(w.push(bytes("x")), false);
  await tick();
  assertEquals(sink.writes, []);
});

Deno.test("BatchedWriter counts the bytes of the write in flight against the bound", async () => {
  const sink = new FakeSink(true);
  const w = new BatchedWriter(sink, { maxBytes: 6 });
  w.push(bytes("1234"));
  await tick(); // now being written, not yet done
  assertEquals(w.push(bytes("567")), false);
});

Deno.test("BatchedWriter reports a failed write once and stops", async () => {
  const sink = new FakeSink(true);
  const errors: unknown[] = [];
  const w = new BatchedWriter(sink, { onError: (e) => errors.push(e) });
  w.push(bytes("a"));
  await tick();
  w.push(bytes("b"));
  sink.fail(new Deno.errors.BrokenPipe("gone"));
  await w.flushed();
  assertEquals(errors.length, 1);
  assertOk(w.closed);
  assertEquals(sink.writes, ["a"]);
});

Deno.test("BatchedWriter starts batches through `schedule`, the next one too", async () => {
  const sink = new FakeSink(true);
  const starts: (() => void)[] = [];
  const w = new BatchedWriter(sink, { schedule: (start) => starts.push(start) });
  w.push(bytes("1"));
  w.push(bytes("2"));
  assertEquals(starts.length, 1);
  assertEquals(sink.writes, []); // nothing until the scheduler says so
  starts.shift()!();
  assertEquals(sink.writes, ["12"]);
  w.push(bytes("3"));
  sink.finish();
  await tick();
  assertEquals(starts.length, 1); // the leftover waits for the scheduler again
  starts.shift()!();
  assertEquals(sink.writes, ["12", "3"]);
  sink.finish();
  await w.flushed();
});

Deno.test("BatchedWriter reports progress: progressAt moves and onProgress fires per write", async () => {
  const sink = new FakeSink(true);
  let progress = 0;
  const w = new BatchedWriter(sink, { onProgress: () => progress++ });
  const before = performance.now();
  w.push(bytes("abc"));
  const pushedAt = w.progressAt;
  assertOk(pushedAt >= before, "an empty queue's first push starts the clock");
  await tick();
  assertEquals(progress, 0);
  await new Promise((r) => setTimeout(r, 5));
  w.push(bytes("d")); // not empty: the clock keeps running
  assertEquals(w.progressAt, pushedAt);
  sink.finish();
  await tick();
  assertEquals(progress, 1);
  assertOk(w.progressAt > pushedAt);
  sink.finish();
  await w.flushed();
  assertEquals(progress, 2);
});
