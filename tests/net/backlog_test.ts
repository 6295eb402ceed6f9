import { assertEquals } from "../helpers/assert.ts";
import { backlogLimits, judgeBacklog, lagOver } from "../../lib/net/backlog.ts";

const limits = backlogLimits(1000, 250); // lag over 250, resume at 125

Deno.test("backlogLimits derives lag and resume marks from the queue bound", () => {
  assertEquals(limits, {
    maxBytes: 1000,
    lagBytes: 250,
    resumeBytes: 125,
    hardBytes: 16_000,
    stallMs: 250,
    dropMs: 1000,
  });
});

Deno.test("judgeBacklog: a table of held bytes and time stuck", () => {
  const table: [number, number, string][] = [
    [0, 0, "ok"],
    [250, 0, "ok"], // at the mark is not over it
    [251, 0, "lagging"],
    [251, 250, "lagging"], // stuck exactly stallMs still counts as reading
    [251, 251, "ok"], // stuck: no longer waited for, not dropped either
    [5000, 0, "lagging"], // over the bound but reading: slow the senders, drop nobody
    [1000, 10_000, "ok"], // stuck for long, but within the bound
    [1001, 1000, "ok"], // over the bound, stuck exactly dropMs
    [1001, 1001, "stalled"],
    [16_000, 0, "lagging"],
    [16_001, 0, "overflow"], // the memory backstop, reading or not
    [16_001, 5000, "overflow"],
  ];
  for (const [held, stuck, want] of table) {
    assertEquals(judgeBacklog(held, stuck, limits), want, `held ${held}, stuck ${stuck}`);
  }
});

Deno.test("lagOver: a lagging client frees the senders once drained or stalled", () => {
  assertEquals(lagOver(126, 0, limits), false);
  assertEquals(lagOver(125, 0, limits), true);
  assertEquals(lagOver(900, 250, limits), false);
  assertEquals(lagOver(900, 251, limits), true);
});
