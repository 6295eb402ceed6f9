import { assertEquals, assertOk, throws } from "../helpers/assert.ts";
import { FanoutLog, Outbox } from "../../lib/net/fanout.ts";

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const tick = () => new Promise((r) => setTimeout(r, 0));

/** A sink whose writes finish when the test says so (or at once), recording each. */
class FakeSink {
  writes: string[] = [];
  #pending: { n: number; resolve: (n: number) => void; reject: (e: unknown) => void }[] = [];
  constructor(readonly manual = false, readonly maxPerWrite = Infinity) {}

  write(p: Uint8Array): Promise<number> {
    const n = Math.min(p.length, this.maxPerWrite);
    this.writes.push(text(p.subarray(0, n)));
    if (!this.manual) return Promise.resolve(n);
    return new Promise((resolve, reject) => this.#pending.push({ n, resolve, reject }));
  }

  finish(): void {
    const w = this.#pending.shift()!;
    w.resolve(w.n);
  }

  fail(err: unknown): void {
    this.#pending.shift()!.reject(err);
  }
}

/** Flushes until nothing is left (a stand-in for the server's ticks). */
async function drain<T>(box: Outbox<T>): Promise<void> {
  for (let i = 0; i < 100 && box.held > 0; i++) {
    box.flush();
    await tick();
  }
}

Deno.test("FanoutLog: views stay inside one chunk and end where asked", () => {
  const log = new FanoutLog(8);
  log.append(bytes("abcde")); // chunk 0: abcde___
  log.append(bytes("fgh")); // fits: abcdefgh
  log.append(bytes("ij")); // chunk 1: ij______
  assertEquals(log.head, 10);
  assertEquals(text(log.view(0, Infinity)), "abcdefgh");
  assertEquals(text(log.view(3, 6)), "def");
  assertEquals(text(log.view(8, Infinity)), "ij");
  assertEquals(text(log.view(7, Infinity)), "h");
  assertEquals(log.view(10, Infinity).length, 0);
  assertEquals(log.view(5, 5).length, 0);
});

Deno.test("FanoutLog: a piece bigger than a chunk is kept whole", () => {
  const log = new FanoutLog(4);
  log.append(bytes("ab"));
  log.append(bytes("0123456789"));
  log.append(bytes("c"));
  assertEquals(text(log.view(2, Infinity)), "0123456789");
  assertEquals(text(log.view(12, Infinity)), "c");
});

Deno.test("FanoutLog: appendLine encodes into the chunk when it surely fits, else copies", () => {
  const log = new FanoutLog(16);
  log.appendLine("héllo"); // no chunk yet: through a copy (6 bytes + LF)
  log.appendLine("x"); // 9 left > 3 × 1 unit: encoded in place
  log.appendLine("abcdef"); // 7 left < 3 × 6: a copy, which still fits the 7
  log.appendLine("é"); // the chunk is full: a new one
  assertEquals(log.head, 7 + 2 + 7 + 3);
  assertEquals(text(log.view(0, Infinity)), "héllo\nx\nabcdef\n");
  assertEquals(text(log.view(16, Infinity)), "é\n");
});

Deno.test("FanoutLog: trim forgets whole chunks before a position, and only those", () => {
  const log = new FanoutLog(4);
  for (const s of ["abcd", "efgh", "ij"]) log.append(bytes(s));
  log.trim(5); // chunk 0 (0..4) goes; chunk 1 (4..8) holds position 5
  assertEquals(log.tail, 4);
  assertEquals(text(log.view(5, Infinity)), "fgh");
  throws(() => log.view(3, Infinity), /was trimmed/, RangeError);
  log.trim(log.head); // the last chunk still has room: it stays for the next append
  assertEquals(log.tail, 8);
  log.append(bytes("kl"));
  assertEquals(text(log.view(8, Infinity)), "ijkl");
  assertEquals(log.retained, 4);
});

Deno.test("Outbox: a follower gets what was appended after follow(), not before", async () => {
  const log = new FanoutLog();
  const sink = new FakeSink();
  const box = new Outbox({ log }, sink, "x");
  log.append(bytes("before\n"));
  box.follow();
  assertOk(box.following);
  log.append(bytes("one\n"));
  log.append(bytes("two\n"));
  assertEquals(box.held, 8);
  box.flush();
  await box.flushed();
  assertEquals(sink.writes, ["one\ntwo\n"]); // one write for the whole run
  assertEquals(box.held, 0);
});

Deno.test("Outbox: replies and broadcasts arrive in the order they were made", async () => {
  const log = new FanoutLog();
  const sink = new FakeSink();
  const box = new Outbox({ log }, sink, "x");
  box.send(bytes("OK signed in\n")); // before following: a stranger's reply
  box.follow();
  log.append(bytes("m1\n"));
  box.send(bytes("Users: a\n"));
  log.append(bytes("m2\n"));
  box.unfollow(); // signed out: m3 is not for it
  box.send(bytes("OK signed out\n"));
  log.append(bytes("m3\n"));
  await drain(box);
  assertEquals(sink.writes.join(""), "OK signed in\nm1\nUsers: a\nm2\nOK signed out\n");
  assertEquals(box.needs, Infinity);
});

Deno.test("Outbox: unfollow/append/follow skips one broadcast (a joiner's own notice)", async () => {
  const log = new FanoutLog();
  const sink = new FakeSink();
  const box = new Outbox({ log }, sink, "x");
  box.follow();
  log.append(bytes("a\n"));
  box.unfollow();
  log.append(bytes("not for you\n"));
  box.follow();
  log.append(bytes("b\n"));
  await drain(box);
  assertEquals(sink.writes.join(""), "a\nb\n");
});

Deno.test("Outbox: one write in flight; what comes meanwhile goes in the next", async () => {
  const log = new FanoutLog();
  const sink = new FakeSink(true);
  const box = new Outbox({ log, schedule: () => {} }, sink, "x"); // the test flushes by hand
  box.follow();
  log.append(bytes("1"));
  box.flush();
  log.append(bytes("2"));
  log.append(bytes("3"));
  box.flush(); // busy: nothing new starts
  assertEquals(sink.writes, ["1"]);
  assertEquals(box.held, 3);
  sink.finish();
  await tick();
  box.flush();
  assertEquals(sink.writes, ["1", "23"]);
  sink.finish();
  await tick();
  assertEquals(box.held, 0);
  assertEquals(box.writes, 2);
});

Deno.test("Outbox: partial writes go on from where they stopped", async () => {
  const log = new FanoutLog();
  const sink = new FakeSink(false, 3);
  const box = new Outbox({ log }, sink, "x");
  box.send(bytes("private"));
  box.follow();
  log.append(bytes("abcdefg"));
  await drain(box);
  assertEquals(sink.writes, ["pri", "vat", "e", "abc", "def", "g"]);
});

Deno.test("Outbox: stuckFor counts only while a write waits", async () => {
  const log = new FanoutLog();
  const sink = new FakeSink(true);
  const box = new Outbox({ log, schedule: () => {} }, sink, "x");
  box.follow();
  log.append(bytes("x"));
  assertEquals(box.stuckFor(performance.now() + 1000), 0); // queued, but nothing in flight
  box.flush();
  const started = performance.now();
  assertOk(box.stuckFor(started + 500) >= 499);
  sink.finish();
  await tick();
  assertEquals(box.stuckFor(performance.now() + 1000), 0);
});

Deno.test("Outbox: a failed write is told once, and the outbox then holds nothing", async () => {
  const log = new FanoutLog();
  const sink = new FakeSink(true);
  const errors: unknown[] = [];
  const box = new Outbox({ log, onError: (_, e) => errors.push(e) }, sink, "x");
  box.follow();
  log.append(bytes("x"));
  box.flush();
  const done = box.flushed();
  sink.fail(new Error("reset"));
  await done;
  assertEquals(errors.length, 1);
  assertOk(box.closed);
  assertEquals(box.held, 0);
  log.append(bytes("y"));
  box.flush();
  assertEquals(sink.writes, ["x"]);
});

Deno.test("Outbox: onProgress after each write; flushed() waits for all queued so far", async () => {
  const log = new FanoutLog();
  const sink = new FakeSink();
  let progress = 0;
  const box = new Outbox({ log, onProgress: () => progress++ }, sink, "x");
  box.send(bytes("a"));
  box.send(bytes("b"));
  await box.flushed();
  assertEquals(sink.writes.join(""), "ab");
  assertEquals(progress, sink.writes.length);
});

Deno.test("Outbox: the owner is what the shared callbacks are told about", async () => {
  const log = new FanoutLog();
  const sink = new FakeSink(true);
  const told: string[] = [];
  const shared = {
    log,
    onProgress: (o: string) => told.push(`progress ${o}`),
    onError: (o: string) => told.push(`error ${o}`),
  };
  const a = new Outbox(shared, sink, "a");
  const b = new Outbox(shared, sink, "b");
  a.send(bytes("1"));
  b.send(bytes("2"));
  await tick();
  sink.finish();
  sink.fail(new Error("reset"));
  await tick();
  assertEquals(told, ["progress a", "error b"]);
});

Deno.test("Outbox: a write from the followed range is credited right when unfollow comes mid-write", async () => {
  const log = new FanoutLog();
  const sink = new FakeSink(true, 2);
  const box = new Outbox({ log, schedule: () => {} }, sink, "x");
  box.follow();
  log.append(bytes("abcd"));
  box.flush(); // writes "ab" from the followed range
  box.unfollow(); // the range becomes [0, 4) in the queue while the write is out
  box.send(bytes("!"));
  sink.finish();
  await tick();
  for (let i = 0; i < 5 && box.held > 0; i++) {
    box.flush();
    sink.finish();
    await tick();
  }
  assertEquals(sink.writes.join(""), "abcd!");
  assertEquals(box.held, 0);
});

/** A sink that can write at once (tryWrite) until told it is full. */
class SyncSink {
  sync: string[] = [];
  waited: string[] = [];
  full = false;
  error: Error | undefined;
  tryWrite(p: Uint8Array): number | undefined {
    if (this.error) throw this.error;
    if (this.full) return undefined;
    this.sync.push(text(p));
    return p.length;
  }
  write(p: Uint8Array): Promise<number> {
    this.waited.push(text(p));
    return Promise.resolve(p.length);
  }
}

Deno.test("Outbox: a sink with tryWrite is written in flush() itself, with no promise", () => {
  const log = new FanoutLog();
  const sink = new SyncSink();
  const box = new Outbox({ log, schedule: () => {} }, sink, "a");
  box.follow();
  log.append(bytes("one\n"));
  box.send(bytes("reply\n"));
  box.flush(); // the range before the reply, then the reply: both at once
  assertEquals(sink.sync, ["one\n", "reply\n"]);
  assertEquals([box.held, box.writes, box.stuckFor(performance.now())], [0, 2, 0]);
});

Deno.test("Outbox: when tryWrite has no room, the write that waits takes over", async () => {
  const log = new FanoutLog();
  const sink = new SyncSink();
  sink.full = true;
  const box = new Outbox({ log, schedule: () => {} }, sink, "a");
  box.send(bytes("later\n"));
  box.flush();
  await box.flushed();
  assertEquals([sink.sync, sink.waited], [[], ["later\n"]]);
});

Deno.test("Outbox: tryWrite failing is told once, like a failed write", () => {
  const log = new FanoutLog();
  const sink = new SyncSink();
  sink.error = new Deno.errors.BrokenPipe("gone");
  const told: unknown[] = [];
  const box = new Outbox({ log, schedule: () => {}, onError: (_o, e) => told.push(e) }, sink, "a");
  box.send(bytes("x\n"));
  box.flush();
  box.flush();
  assertEquals([told.length, box.closed, box.held], [1, true, 0]);
});
