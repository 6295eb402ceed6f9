import { assertEquals, assertOk } from "../helpers/assert.ts";
import { runUdpLoad } from "../../lib/loadgen/udp.ts";
import { serveUdp } from "../../lib/net/udp_serve.ts";
import { bindUdp } from "../../lib/net/udp.ts";

const payload = new TextEncoder().encode("USD");

/** Runs `handler` as an in-process UDP server on 127.0.0.1 for the test's duration. */
async function withServer(
  handler: (data: Uint8Array) => Uint8Array | null,
  fn: (port: number) => Promise<void>,
): Promise<void> {
  const controller = new AbortController();
  const conn = bindUdp({ hostname: "127.0.0.1", port: 0 });
  const serving = serveUdp(conn, (data) => handler(data), { signal: controller.signal });
  try {
    await fn((conn.addr as Deno.NetAddr).port);
  } finally {
    controller.abort();
    await serving;
  }
}

/** Both ways of moving datagrams: batched (Linux, FFI) and Deno's DatagramConn. */
const IO_MODES = [["batched", "auto"], ["portable", "portable"]] as const;

for (const [io, option] of IO_MODES) {
  Deno.test(`runUdpLoad() (${io}) pairs every reply of an echo server and loses none`, async () => {
    let served = 0;
    await withServer((d) => (served++, d.slice()), async (port) => {
      const r = await runUdpLoad({ hostname: "127.0.0.1", port }, {
        payload,
        concurrency: 8,
        durationMs: 300,
        io: option,
      });
      assertEquals(r.io, Deno.build.os === "linux" ? io : "portable");
      assertOk(r.replies > 100, `only ${r.replies} replies`);
      assertEquals(r.lost, 0);
      assertEquals(r.sent, r.replies + r.unanswered);
      assertOk(r.unanswered <= 8);
      assertEquals(r.latency.count, r.replies);
      assertOk(r.latency.max < 1_000_000, "no round trip near the loss time-out");
      assertOk(served >= r.replies);
      assertOk(r.elapsedMs >= 300 && r.elapsedMs < 1000, `ran ${r.elapsedMs} ms`);
    });
  });

  Deno.test(`runUdpLoad() (${io}) counts the requests a server drops as lost and keeps the window full`, async () => {
    let seen = 0;
    let dropped = 0;
    await withServer((d) => (++seen % 10 === 0 ? (dropped++, null) : d.slice()), async (port) => {
      const r = await runUdpLoad({ hostname: "127.0.0.1", port }, {
        payload,
        concurrency: 4,
        durationMs: 600,
        timeoutMs: 30,
        io: option,
      });
      assertEquals(r.sent, r.replies + r.lost + r.unanswered);
      // Drops in the last time-out before the end are still unanswered, not lost.
      assertOk(
        r.lost <= dropped && r.lost >= dropped - 4 - r.unanswered,
        `lost ${r.lost}, dropped ${dropped}`,
      );
      assertOk(r.lost > 0 && r.replies > r.lost * 5, `replies ${r.replies}, lost ${r.lost}`);
    });
  });

  Deno.test(`runUdpLoad() (${io}) against a silent server reports no replies and every expired request lost`, async () => {
    await withServer(() => null, async (port) => {
      const r = await runUdpLoad({ hostname: "127.0.0.1", port }, {
        payload,
        concurrency: 2,
        durationMs: 200,
        timeoutMs: 40,
        io: option,
      });
      assertEquals(r.replies, 0);
      assertOk(r.lost >= 4, `lost ${r.lost}`);
      assertEquals(r.sent, r.lost + r.unanswered);
    });
  });

  Deno.test(`runUdpLoad() (${io}) stops at once when its signal aborts and says it was interrupted`, async () => {
    await withServer((d) => d.slice(), async (port) => {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 100);
      const r = await runUdpLoad({ hostname: "127.0.0.1", port }, {
        payload,
        durationMs: 10_000,
        signal: controller.signal,
        io: option,
      });
      assertEquals(r.interrupted, true);
      assertOk(r.elapsedMs < 2000, `ran ${r.elapsedMs} ms`);
      assertOk(r.replies > 0);
    });
  });
}

Deno.test("runUdpLoad() reports what the generator itself spent", async () => {
  await withServer((d) => d.slice(), async (port) => {
    const r = await runUdpLoad({ hostname: "127.0.0.1", port }, {
      payload,
      durationMs: 300,
    });
    const g = r.generator;
    assertOk(g.cpuMs > 0 && g.cores > 0, `cpu ${g.cpuMs} ms`);
    assertOk(g.sendMs > 0 && g.receiveMs > 0, `send ${g.sendMs} ms, receive ${g.receiveMs} ms`);
    assertOk(Math.abs(g.sendMs + g.receiveMs + g.waitMs - r.elapsedMs) < 1);
  });
});
