import { assertEquals, assertOk } from "../helpers/assert.ts";
import { LiveProgress } from "../../lib/loadgen/progress.ts";

Deno.test("LiveProgress redraws one status line in place and erases it on stop", async () => {
  const out: string[] = [];
  let n = 0;
  const drawn = Promise.withResolvers<void>();
  const progress = LiveProgress.start(() => {
    if (++n === 3) drawn.resolve();
    return `${n} replies`;
  }, { enabled: true, intervalMs: 5, write: (t) => out.push(t) });
  await drawn.promise;
  progress.stop();
  assertEquals(out.slice(0, 3), ["\r\x1b[2K1 replies", "\r\x1b[2K2 replies", "\r\x1b[2K3 replies"]);
  assertEquals(out.at(-1), "\r\x1b[2K", "the line is erased before the summary");
  assertOk(!out.some((t) => t.includes("\n")), "never a new line: the status stays one line");
});

Deno.test("LiveProgress writes nothing when disabled (stderr not a terminal)", async () => {
  const out: string[] = [];
  const progress = LiveProgress.start(() => "x", {
    enabled: false,
    intervalMs: 1,
    write: (t) => out.push(t),
  });
  await new Promise((r) => setTimeout(r, 20));
  progress.stop();
  assertEquals(out, []);
});
