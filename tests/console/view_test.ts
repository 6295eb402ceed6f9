import { assertEquals } from "../helpers/assert.ts";
import { clip, eventView, MAX_ITEMS, MAX_TEXT, round, stateView } from "../../lib/console/view.ts";

Deno.test("clip() cuts long network text on a code point and marks the cut", () => {
  assertEquals(clip("abc", 5), "abc");
  assertEquals(clip("abcdef", 4), "abc…");
  assertEquals(clip("😀😀😀😀", 3), "😀😀…", "never half a surrogate pair");
  assertEquals(clip("x".repeat(10_000)).length, MAX_TEXT);
  assertEquals(round(1.23456, 2), 1.23);
});

Deno.test("stateView() caps members and clips their names, keeping the true count", () => {
  const members = Array.from({ length: MAX_ITEMS + 50 }, (_, i) => ({
    name: `${"m".repeat(300)}${i}`,
    peer: `127.0.0.1:${i}`,
  }));
  const v = stateView("chat-server", {
    kind: "chat",
    members,
    lines: 9,
    droppedSlow: 1,
    droppedDead: 0,
  }, 2.345);
  if (v.kind !== "chat") throw new Error(v.kind);
  assertEquals([v.members.length, v.count, v.lineRate], [MAX_ITEMS, MAX_ITEMS + 50, 2.35]);
  assertEquals(v.members[0].name.length, MAX_TEXT);
});

Deno.test("stateView() groups binder records by command, servers sorted, with seconds left", () => {
  const v = stateView("binder", {
    kind: "binder",
    records: [
      { command: "MAX", host: "127.0.0.1", port: 4001, expiresInMs: 29_001 },
      { command: "MAX", host: "127.0.0.1", port: 4000, expiresInMs: 1 },
      { command: "MIN", host: "::1", port: 4002, expiresInMs: -5 },
    ],
  });
  assertEquals(v, {
    kind: "binder",
    service: "binder",
    count: 3,
    commands: [
      {
        command: "MAX",
        servers: [
          { address: "127.0.0.1:4000", expiresInS: 1 },
          { address: "127.0.0.1:4001", expiresInS: 30 },
        ],
      },
      { command: "MIN", servers: [{ address: "[::1]:4002", expiresInS: 0 }] },
    ],
  });
});

Deno.test("eventView() clips text and peer", () => {
  const v = eventView({
    time: 1,
    service: "chat-server",
    kind: "error",
    text: "y".repeat(500),
    peer: "p".repeat(100),
  });
  assertEquals([v.text.length, v.peer?.length], [MAX_TEXT, 64]);
});
