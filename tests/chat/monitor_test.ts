/**
 * The lab console's view of the chat servers (lib/net/monitor.ts): lines
 * served and answered with ERR, sign-in/sign-out/drop events, and a state
 * snapshot of the members, across instances when the room is shared.
 */
import { assertEquals, assertOk } from "../helpers/assert.ts";
import { RedisServer, redisTest } from "../helpers/redis.ts";
import { type ServiceEvent, ServiceMonitor, type ServiceState } from "../../lib/net/monitor.ts";
import { listenTcp } from "../../lib/net/tcp.ts";
import { runTcpChatServer } from "../../lib/chat/tcp_server.ts";
import { runUdpChatServer } from "../../lib/chat/udp_server.ts";
import { RedisBus } from "../../lib/chat/redis_bus.ts";
import type { RoomBus } from "../../lib/chat/bus.ts";
import { TcpPeer, UdpPeer, until } from "./peers.ts";

/** A chat server in this process with a monitor; `stop` ends it. */
function serve(kind: "tcp" | "udp", bus?: RoomBus) {
  const monitor = new ServiceMonitor("chat-server");
  const events: ServiceEvent[] = [];
  monitor.subscribe((e) => events.push(e));
  const controller = new AbortController();
  const options = {
    signal: controller.signal,
    log: () => {},
    monitor,
    bus,
    maxLine: 64,
    memberTtlMs: 1000,
  };
  let port: number;
  let running: Promise<void>;
  if (kind === "tcp") {
    const listener = listenTcp({ hostname: "127.0.0.1", port: 0 });
    port = listener.addr.port;
    running = runTcpChatServer(listener, options);
  } else {
    const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    port = (conn.addr as Deno.NetAddr).port;
    running = runUdpChatServer(conn, options);
  }
  const state = () => monitor.state() as Extract<ServiceState, { kind: "chat" }>;
  return {
    monitor,
    events,
    port,
    state,
    stop: async () => {
      controller.abort();
      await running;
    },
  };
}

Deno.test("TCP chat monitor: lines served, ERR answers, events and members", async () => {
  const s = serve("tcp");
  try {
    await using alice = await TcpPeer.connect(s.port);
    await using bob = await TcpPeer.connect(s.port);
    await alice.send("signin alice", "chat hi", "bogus", `chat ${"x".repeat(100)}`);
    await alice.log.waitFor("ERR line too long");
    await bob.send("signin bob");
    await bob.log.waitFor("OK signed in as bob");
    assertEquals([s.monitor.requests, s.monitor.errors], [5, 2]);
    assertEquals(s.state(), {
      kind: "chat",
      members: [
        { name: "alice", peer: `127.0.0.1:${alice.conn.localAddr.port}` },
        { name: "bob", peer: `127.0.0.1:${bob.conn.localAddr.port}` },
      ],
      lines: 1,
      droppedSlow: 0,
      droppedDead: 0,
    });
    await bob.send("signout");
    await bob.log.waitFor("OK signed out bob");
    alice.conn.close();
    await until(() => s.events.filter((e) => e.kind === "signout").length === 2, "two signouts");
    assertEquals(
      s.events.filter((e) => e.kind !== "error").map((e) => `${e.kind} ${e.text}`),
      ["signin alice joined", "signin bob joined", "signout bob left", "signout alice left"],
    );
    assertEquals(s.state().members, []);
  } finally {
    await s.stop();
  }
});

Deno.test("UDP chat monitor: a member that falls silent counts as dropped dead", async () => {
  const s = serve("udp");
  try {
    await using gone = new UdpPeer(s.port);
    await gone.signin("gone");
    assertEquals(s.state().members.map((m) => m.name), ["gone"]);
    await until(() => s.state().droppedDead === 1, "a dead member", 5000);
    assertEquals(s.state().members, []);
    assertOk(s.events.some((e) => e.kind === "drop" && e.text === "gone dropped: silent for 1 s"));
  } finally {
    await s.stop();
  }
});

redisTest(
  "chat monitor with --redis: members of every instance, each with its instance",
  async () => {
    await using server = await RedisServer.start();
    const redis = await server.connect();
    const busA = await RedisBus.open(redis, {
      room: "m",
      instance: "A",
      log: () => {},
      heartbeatMs: 100,
    });
    const busB = await RedisBus.open(redis, {
      room: "m",
      instance: "B",
      log: () => {},
      heartbeatMs: 100,
    });
    const a = serve("tcp", busA);
    const b = serve("udp", busB);
    try {
      await using alice = await TcpPeer.connect(a.port);
      await alice.send("signin alice");
      await alice.log.waitFor("OK signed in as alice");
      await using bob = new UdpPeer(b.port);
      await bob.signin("bob");
      const names = () => a.state().members.map((m) => `${m.name}@${m.instance}`).sort();
      await until(() => names().length === 2, "both members in A's state");
      assertEquals(names(), ["alice@A", "bob@B"]);
    } finally {
      await a.stop();
      await b.stop();
      await busA.close();
      await busB.close();
      await redis.close();
    }
  },
);
