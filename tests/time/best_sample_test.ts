import { assertEquals, rejects } from "../helpers/assert.ts";
import { bestSample, type TextTimeResult } from "../../lib/time/client.ts";
import { FailError } from "../../lib/cli/errors.ts";

/** A scripted series of samples: a number is a result with that round trip, "lost" a time-out. */
function script(steps: (number | "lost" | "bug")[]): () => Promise<TextTimeResult> {
  let i = 0;
  return () => {
    const step = steps[i++];
    if (step === "lost") return Promise.reject(new FailError("no reply from x:1 after 3 tries"));
    if (step === "bug") return Promise.reject(new TypeError("a bug"));
    return Promise.resolve({ mode: "text", rttMs: step } as TextTimeResult);
  };
}

Deno.test("bestSample() keeps the shortest round trip", async () => {
  const r = await bestSample(3, script([5, 2, 4]));
  assertEquals([r.rttMs, r.samples], [2, 3]);
});

Deno.test("bestSample() skips a lost sample once another has answered", async () => {
  const r = await bestSample(4, script(["lost", 7, "lost", 3]));
  assertEquals([r.rttMs, r.samples], [3, 2]);
});

Deno.test("bestSample() fails with the no-reply line when every sample is lost", async () => {
  await rejects(bestSample(2, script(["lost", "lost"])), /^no reply from x:1 after 3 tries$/);
});

Deno.test("bestSample() does not hide an unexpected error", async () => {
  await rejects(bestSample(3, script([1, "bug", 2])), /a bug/);
});
