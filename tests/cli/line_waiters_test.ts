import { assertEquals, assertOk } from "../helpers/assert.ts";
import { lineTest, LineWaiters } from "../../lib/cli/line_waiters.ts";

const error = (why: string) => new Error(why);

Deno.test("LineWaiters: a wait resolves with the first matching line, others stay pending", async () => {
  const waiters = new LineWaiters();
  const ready = waiters.wait(lineTest(/ready$/), 1000, error);
  const bye = waiters.wait(lineTest("bye"), 1000, error);
  waiters.notify("starting");
  waiters.notify("server ready");
  assertEquals(await ready.promise, "server ready");
  assertOk(!ready.pending);
  assertOk(bye.pending);
  waiters.notify("say bye now");
  assertEquals(await bye.promise, "say bye now");
});

Deno.test("LineWaiters: a wait fails after its deadline, and fail() ends one early", async () => {
  const waiters = new LineWaiters();
  const late = waiters.wait(lineTest("never"), 20, error);
  const cut = waiters.wait(lineTest("never"), 1000, error);
  cut.fail("stream ended");
  const reasons = await Promise.all(
    [late, cut].map((w) => w.promise.then(() => "resolved", (e) => (e as Error).message)),
  );
  assertEquals(reasons, ["timed out after 20 ms", "stream ended"]);
  waiters.notify("never"); // no wait is left to take it
  assertOk(!late.pending && !cut.pending);
});

Deno.test("LineWaiters: fail() after a match changes nothing", async () => {
  const waiters = new LineWaiters();
  const wait = waiters.wait(lineTest("x"), 1000, error);
  waiters.notify("x");
  wait.fail("too late");
  assertEquals(await wait.promise, "x");
});
