import { assertEquals, assertOk, throws } from "../helpers/assert.ts";
import { ConsoleHub } from "../../lib/console/hub.ts";
import { TimedMonitor } from "../../lib/console/timed_monitor.ts";

function hubWith(...labels: string[]) {
  let clock = 0;
  const hub = new ConsoleHub({ maxEvents: 5, maxClients: 2, flushMs: 10, now: () => clock });
  const monitors = labels.map((label) => {
    const monitor = new TimedMonitor(label);
    hub.add({ label, transport: "udp", address: "127.0.0.1:1", monitor });
    return monitor;
  });
  return { hub, monitors, advance: (ms: number) => (clock += ms) };
}

/** The SSE frames of a stream, parsed, one at a time. */
async function* framesOf(body: ReadableStream<Uint8Array>) {
  let text = "";
  for await (const chunk of body.pipeThrough(new TextDecoderStream())) {
    text += chunk;
    let end;
    while ((end = text.indexOf("\n\n")) >= 0) {
      const frame = text.slice(0, end);
      text = text.slice(end + 2);
      const m = /^event: (\S+)\ndata: (.*)$/s.exec(frame);
      if (m) yield { event: m[1], data: JSON.parse(m[2]) };
    }
  }
}

Deno.test("ConsoleHub turns monitor counters into rates each tick", () => {
  const { hub, monitors, advance } = hubWith("rates-server");
  for (let i = 0; i < 40; i++) monitors[0].served(0.03, i < 4, "127.0.0.1:9", "ERR x");
  advance(2000);
  hub.tick();
  const s = hub.snapshot().services[0];
  assertEquals([s.requests, s.errors, s.rate, s.errorRate], [40, 4, 20, 2]);
  assertEquals(s.series.rate.slice(-2), [0, 20]);
  assertOk(s.p50! > 0.025 && s.p50! <= 0.05, String(s.p50));
  hub.setUp("rates-server", false);
  assertEquals(hub.snapshot().services[0].up, false);
  throws(
    () => hub.add({ label: "rates-server", transport: "udp", address: "", monitor: monitors[0] }),
    /twice/,
  );
  hub.close();
});

Deno.test("ConsoleHub keeps the last events newest first and bounds an event storm per flush", async () => {
  const { hub, monitors } = hubWith("registry-server");
  for (let i = 0; i < 8; i++) monitors[0].event("register", `n${i}`); // nobody listens yet
  assertEquals(hub.snapshot().events.map((e) => e.text), ["n7", "n6", "n5", "n4", "n3"]);
  const stream = hub.connect()!;
  const frames = framesOf(stream.body);
  const first = (await frames.next()).value!;
  assertEquals(first.event, "snapshot");
  assertEquals(first.data.events.length, 5);
  for (let i = 0; i < 1000; i++) monitors[0].served(0.01, true, "127.0.0.1:9", `bad ${i}`);
  const next = (await frames.next()).value!;
  assertEquals(next.event, "events");
  assertEquals(next.data.events.length, 5, "at most maxEvents per flush");
  assertEquals(next.data.suppressed, 995);
  assertEquals(next.data.events[0].text, "bad 4", "newest first");
  assertEquals(next.data.states, []);
  hub.close();
  assertEquals((await frames.next()).done, true, "close() ends the stream");
});

Deno.test("ConsoleHub refuses browsers past maxClients and forgets those that leave", async () => {
  const { hub } = hubWith("udp-server");
  const a = hub.connect()!;
  const b = hub.connect()!;
  assertEquals(hub.connect(), undefined);
  assertEquals(hub.clientCount, 2);
  await a.body.cancel();
  assertEquals(hub.clientCount, 1);
  assertOk(hub.connect());
  hub.close();
  assertEquals([hub.clientCount, b.ended], [0, "closed"]);
});

Deno.test("ConsoleHub survives a state provider that throws (a server's bug)", () => {
  const { hub, monitors } = hubWith("binder", "registry-server");
  monitors[0].setState(() => {
    throw new Error("bug");
  });
  monitors[1].setState(() => ({ kind: "registry", names: ["alice"] }));
  hub.connect();
  hub.tick();
  assertEquals(hub.states().map((v) => v.service), ["registry-server"]);
  hub.close();
});
