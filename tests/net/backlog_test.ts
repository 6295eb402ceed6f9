import { assertEquals } from "../helpers/assert.ts";
import { backlogLimits, judgeBacklog, lagOver } from "../../lib/net/backlog.ts";

const limits = backlogLimits(1000, 250); // lag over 250, resume at 125

Deno.test("backlogLimits derives lag and resume marks from the queue bound", () => {
  assertEquals(limits, { maxBytes: 1000, lagBytes: 250, resumeBytes: 125, stallMs: 250 });
});

Deno.test("judgeBacklog: a table of held bytes and idle time", () => {
  const table: [number, number, string][] = [
    [0, 0, "ok"],
    [250, 0, "ok"], // at the mark is not over it
    [251, 0, "lagging"],
    [251, 250, "lagging"], // idle exactly stallMs still counts as reading
    [251, 251, "ok"], // stopped taking bytes, but under the bound: keep it, do not wait for it
    [1000, 10_000, "ok"],
    [1001, 251, "stalled"],
    [1001, 0, "overflow"], // reading, but the bound is the bound
    [1_000_000, 0, "overflow"],
  ];
  for (const [held, idle, want] of table) {
    assertEquals(judgeBacklog(held, idle, limits), want, `held ${held}, idle ${idle}`);
  }
});

Deno.test("lagOver: a lagging client frees the senders once drained or stalled", () => {
  assertEquals(lagOver(126, 0, limits), false);
  assertEquals(lagOver(125, 0, limits), true);
  assertEquals(lagOver(900, 250, limits), false);
  assertEquals(lagOver(900, 251, limits), true);
});
