import { assertEquals, assertOk, rejects } from "../helpers/assert.ts";
import { UdpSocket } from "../../lib/net/udp.ts";
import { serveUdp } from "../../lib/net/udp_serve.ts";

const LOOPBACK = { hostname: "127.0.0.1", port: 0 };
const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** Runs `handler` as a UDP server for the duration of `fn`. */
async function withServer(
  handler: Parameters<typeof serveUdp>[1],
  fn: (port: number) => Promise<void>,
  onError?: (err: unknown) => void,
): Promise<void> {
  const conn = Deno.listenDatagram({ transport: "udp", ...LOOPBACK });
  const ac = new AbortController();
  const done = serveUdp(conn, handler, { signal: ac.signal, onError });
  try {
    await fn((conn.addr as Deno.NetAddr).port);
  } finally {
    ac.abort();
    await done;
  }
}

Deno.test("UdpSocket.request() gets the reply of a serveUdp echo", async () => {
  await withServer((data) => data, async (port) => {
    await using sock = UdpSocket.bind(LOOPBACK);
    const reply = await sock.request("ping", { hostname: "127.0.0.1", port }, { timeoutMs: 1000 });
    assertEquals(text(reply.data), "ping");
    assertEquals(reply.tries, 1);
  });
});

Deno.test("UdpSocket.request() resends after a time-out and counts the tries", async () => {
  let seen = 0;
  await withServer(() => (++seen >= 3 ? "third time" : undefined), async (port) => {
    await using sock = UdpSocket.bind(LOOPBACK);
    const reply = await sock.request("x", { hostname: "127.0.0.1", port }, {
      timeoutMs: 40,
      retries: 5,
    });
    assertEquals(text(reply.data), "third time");
    assertEquals(reply.tries, 3);
  });
});

Deno.test("UdpSocket.request() fails with the SPEC's no-reply line", async () => {
  await withServer(() => undefined, async (port) => {
    await using sock = UdpSocket.bind(LOOPBACK);
    await rejects(
      sock.request("x", { hostname: "127.0.0.1", port }, {
        timeoutMs: 20,
        retries: 2,
        label: `box:${port}`,
      }),
      new RegExp(`^no reply from box:${port} after 3 tries$`),
    );
  });
});

Deno.test("UdpSocket.request() skips datagrams its accept() rejects", async () => {
  let n = 0;
  await withServer((data) => (++n === 1 ? "stale" : data), async (port) => {
    await using sock = UdpSocket.bind(LOOPBACK);
    const reply = await sock.request("fresh", { hostname: "127.0.0.1", port }, {
      timeoutMs: 40,
      retries: 3,
      accept: (d) => text(d) === "fresh",
    });
    assertEquals(text(reply.data), "fresh");
  });
});

Deno.test("UdpSocket.receive() keeps its pending receive across time-outs", async () => {
  await using a = UdpSocket.bind(LOOPBACK);
  await using b = UdpSocket.bind(LOOPBACK);
  assertEquals(await a.receive(10), null);
  assertEquals(await a.receive(10), null);
  await b.send("late", a.addr);
  const got = await a.receive(1000);
  assertOk(got);
  assertEquals(text(got[0]), "late");
});

Deno.test("serveUdp() keeps serving after a handler throws", async () => {
  const errors: unknown[] = [];
  await withServer((data) => {
    if (text(data) === "boom") throw new Error("bad input");
    return data;
  }, async (port) => {
    await using sock = UdpSocket.bind(LOOPBACK);
    await sock.send("boom", { hostname: "127.0.0.1", port });
    const reply = await sock.request("ok", { hostname: "127.0.0.1", port }, { timeoutMs: 1000 });
    assertEquals(text(reply.data), "ok");
  }, (err) => errors.push(err));
  assertEquals(errors.length, 1);
});

Deno.test("serveUdp() answers an empty datagram and a 65,507-byte one", async () => {
  await withServer((data) => String(data.length), async (port) => {
    await using sock = UdpSocket.bind(LOOPBACK);
    const to = { hostname: "127.0.0.1", port };
    assertEquals(text((await sock.request(new Uint8Array(0), to, { timeoutMs: 1000 })).data), "0");
    const big = new Uint8Array(65507).fill(0xff);
    assertEquals(text((await sock.request(big, to, { timeoutMs: 1000 })).data), "65507");
  });
});

Deno.test("a client UdpSocket fails at once when the port is closed (ICMP port unreachable)", async () => {
  const closed = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const port = (closed.addr as Deno.NetAddr).port;
  closed.close();
  await using sock = UdpSocket.forTarget("127.0.0.1");
  const started = performance.now();
  await rejects(
    sock.request("x", { hostname: "127.0.0.1", port }, { timeoutMs: 5000, retries: 2 }),
    new RegExp(`^no reply from 127\\.0\\.0\\.1:${port}: connection refused`),
  );
  const ms = performance.now() - started;
  assertOk(ms < 1000, `took ${ms.toFixed(0)} ms; three tries of 5 s would take 15 s`);
  // The socket stays usable: the next request to a live server gets its reply.
  await withServer((data) => data.slice(), async (live) => {
    const reply = await sock.request("again", { hostname: "127.0.0.1", port: live });
    assertEquals(text(reply.data), "again");
  });
});

Deno.test("a server-side UdpSocket ignores port-unreachable replies (one bad client cannot stop it)", async () => {
  const closed = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const port = (closed.addr as Deno.NetAddr).port;
  closed.close();
  await using sock = new UdpSocket(
    Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 }),
  );
  await rejects(
    sock.request("x", { hostname: "127.0.0.1", port }, { timeoutMs: 30, retries: 0 }),
    /after 1 try$/,
  );
});
