import { assertEquals, assertMatch } from "../helpers/assert.ts";
import { Probe } from "../helpers/udp_probe.ts";
import { bindUdp } from "../../lib/net/udp.ts";
import { runUdpService, udpErrorLog } from "../../lib/net/udp_service.ts";

Deno.test("runUdpService() says where it listens, then its notes, then serves", async () => {
  const conn = bindUdp({ hostname: "127.0.0.1", port: 0 });
  const port = (conn.addr as Deno.NetAddr).port;
  const lines: string[] = [];
  const stop = new AbortController();
  const serving = runUdpService("shout-server", conn, (data) => data.slice().reverse(), {
    signal: stop.signal,
    log: (line) => lines.push(line),
    notes: ["answers backwards"],
  });
  try {
    await using probe = new Probe(port);
    assertEquals(await probe.ask("abc"), "cba");
  } finally {
    stop.abort();
    await serving;
  }
  assertEquals(lines, [
    `socklab shout-server: listening on UDP 127.0.0.1:${port}`,
    "socklab shout-server: answers backwards",
  ]);
});

Deno.test("runUdpService() logs a failing request as one line naming the sender, and keeps serving", async () => {
  const conn = bindUdp({ hostname: "127.0.0.1", port: 0 });
  const lines: string[] = [];
  const stop = new AbortController();
  const serving = runUdpService("shout-server", conn, (data) => {
    if (data.length === 0) throw new Error("nothing to shout");
    return data.slice();
  }, { signal: stop.signal, log: (line) => lines.push(line), startLine: "ready" });
  try {
    await using probe = new Probe((conn.addr as Deno.NetAddr).port);
    await probe.send("");
    assertEquals(await probe.ask("still"), "still");
  } finally {
    stop.abort();
    await serving;
  }
  assertEquals(lines[0], "ready", "a service's own start-up line replaces the usual one");
  assertMatch(lines[1], /^socklab shout-server: 127\.0\.0\.1:\d+: nothing to shout$/);
  assertEquals(lines.length, 2);
});

Deno.test("udpErrorLog() leaves out the sender when none is known and shortens socket errors", () => {
  const lines: string[] = [];
  const onError = udpErrorLog("time-server", (line) => lines.push(line));
  onError(new Deno.errors.AddrInUse("Address already in use (os error 98)"), undefined);
  onError("plain text", { transport: "udp", hostname: "::1", port: 9 });
  assertEquals(lines, [
    "socklab time-server: address already in use",
    "socklab time-server: [::1]:9: plain text",
  ]);
});
