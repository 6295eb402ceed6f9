import { assertEquals, assertOk } from "../helpers/assert.ts";
import { type ServiceEvent, ServiceMonitor } from "../../lib/net/monitor.ts";
import { runBinder } from "../../lib/binder/server.ts";
import { RedisStore } from "../../lib/binder/redis_store.ts";
import { connectRedis, parseRedisUrl } from "../../lib/redis/connection.ts";
import { RedisServer, redisTest } from "../helpers/redis.ts";
import { ask, rawSocket } from "./lab.ts";

Deno.test("runBinder({ monitor }) reports its records, its table changes and every request once", async () => {
  const monitor = new ServiceMonitor("binder");
  const events: ServiceEvent[] = [];
  const stop = monitor.subscribe((e) => events.push(e));
  const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const port = (conn.addr as Deno.NetAddr).port;
  const ac = new AbortController();
  const running = runBinder(conn, { signal: ac.signal, ttlSeconds: 1, log: () => {}, monitor });
  try {
    await using server = rawSocket();
    await using client = rawSocket();
    assertEquals(await ask(server, port, "REGISTER MAX MIN"), "OK REGISTER MAX MIN");
    const state = monitor.state();
    assertOk(state?.kind === "binder");
    assertEquals(state.records.map((r) => [r.command, r.host, r.port]), [
      ["MAX", "127.0.0.1", server.addr.port],
      ["MIN", "127.0.0.1", server.addr.port],
    ]);
    assertOk(state.records.every((r) => r.expiresInMs > 0 && r.expiresInMs <= 1000));
    assertEquals(await ask(client, port, "LOOKUP MAX"), `MAX 127.0.0.1 ${server.addr.port}`);
    assertEquals(await ask(client, port, "LOOKUP NOPE"), "ERR no server for NOPE");
    assertEquals(await ask(server, port, "UNREGISTER"), "OK UNREGISTER 2");
    assertEquals(await ask(server, port, "REGISTER SORTU"), "OK REGISTER SORTU");
    // The expiry event comes after the ttl (1 s) without anyone asking.
    await new Promise<void>((resolve) => {
      const check = () =>
        events.some((e) => e.kind === "expiry") ? resolve() : setTimeout(check, 50);
      check();
    });
    assertEquals(events.map((e) => e.kind), [
      "register",
      "error",
      "unregister",
      "register",
      "expiry",
    ]);
    assertEquals(events[0].peer, `127.0.0.1:${server.addr.port}`);
    assertEquals(events[1].text, "ERR no server for NOPE");
    assertEquals(monitor.requests, 5, "each request counted once");
    assertEquals(monitor.errors, 1);
    assertEquals((monitor.state() as { records: unknown[] }).records, []);
  } finally {
    stop();
    ac.abort();
    await running;
  }
});

redisTest(
  "runBinder({ monitor }) on a Redis table shows records registered through another binder",
  async () => {
    await using redis = await RedisServer.start();
    const url = parseRedisUrl(redis.url);
    const monitor = new ServiceMonitor("binder");
    const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    const other = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    const ac = new AbortController();
    const store = new RedisStore(await connectRedis(url, { log: () => {} }), { ttlMs: 30_000 });
    const store2 = new RedisStore(await connectRedis(url, { log: () => {} }), { ttlMs: 30_000 });
    const running = [
      runBinder(conn, { signal: ac.signal, log: () => {}, monitor, store }),
      runBinder(other, { signal: ac.signal, log: () => {}, store: store2 }),
    ];
    try {
      await using server = rawSocket();
      const otherPort = (other.addr as Deno.NetAddr).port;
      assertEquals(await ask(server, otherPort, "REGISTER MAX"), "OK REGISTER MAX");
      // The shared table is swept (and the console's copy read) every second.
      const started = performance.now();
      while ((monitor.state() as { records: unknown[] }).records.length === 0) {
        assertOk(performance.now() - started < 3000, "the record never showed");
        await new Promise((r) => setTimeout(r, 50));
      }
      const state = monitor.state();
      assertOk(state?.kind === "binder");
      assertEquals(state.records.map((r) => [r.command, r.port]), [["MAX", server.addr.port]]);
    } finally {
      ac.abort();
      await Promise.all(running);
    }
  },
);
