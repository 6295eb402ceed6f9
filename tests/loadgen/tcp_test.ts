import { assertEquals, assertOk, rejects } from "../helpers/assert.ts";
import { runTcpThroughput } from "../../lib/loadgen/tcp.ts";
import { closeQuietly, listenTcp } from "../../lib/net/tcp.ts";
import { freePort } from "../helpers/cli.ts";

type Peer = (conn: Deno.TcpConn) => Promise<void>;

/** Serves one connection with `peer` on 127.0.0.1 and runs `fn` with the port. */
async function withPeer(peer: Peer, fn: (port: number) => Promise<void>): Promise<void> {
  const listener = listenTcp({ hostname: "127.0.0.1", port: 0 });
  const serving = (async () => {
    const conn = await listener.accept();
    try {
      await peer(conn);
    } finally {
      closeQuietly(conn);
    }
  })();
  try {
    await fn((listener.addr as Deno.NetAddr).port);
  } finally {
    listener.close();
    await serving.catch(() => {});
  }
}

/** Reads everything, then closes (what `nc -l > /dev/null` does). */
const sink = (count: { n: number }): Peer => async (conn) => {
  const buf = new Uint8Array(65536);
  for (let n; (n = await conn.read(buf)) !== null;) count.n += n;
};

Deno.test("runTcpThroughput() sends every byte and times it to the peer's close", async () => {
  const got = { n: 0 };
  await withPeer(sink(got), async (port) => {
    const bytes = 8 * 1024 * 1024 + 123;
    const r = await runTcpThroughput({ hostname: "127.0.0.1", port }, { bytes });
    assertEquals([r.sent, got.n, r.received], [bytes, bytes, 0]);
    assertEquals(r.peerClosed, true);
    assertEquals(r.stoppedBy, undefined);
    assertOk(r.elapsedMs > 0);
  });
});

Deno.test("runTcpThroughput() reads what an echoing peer sends back, without deadlock", async () => {
  await withPeer(async (conn) => {
    const buf = new Uint8Array(65536);
    for (let n; (n = await conn.read(buf)) !== null;) {
      let off = 0;
      while (off < n) off += await conn.write(buf.subarray(off, n));
    }
  }, async (port) => {
    const bytes = 16 * 1024 * 1024; // far more than both socket buffers
    const r = await runTcpThroughput({ hostname: "127.0.0.1", port }, { bytes });
    assertEquals([r.sent, r.received, r.peerClosed], [bytes, bytes, true]);
  });
});

Deno.test("runTcpThroughput() times to the last write when the peer keeps its side open", async () => {
  let release = () => {};
  const held = new Promise<void>((r) => (release = r));
  await withPeer(async (conn) => {
    const buf = new Uint8Array(65536);
    while ((await conn.read(buf)) !== null);
    await held; // read everything, but do not close yet
  }, async (port) => {
    const r = await runTcpThroughput({ hostname: "127.0.0.1", port }, {
      bytes: 1024 * 1024,
      closeWaitMs: 100,
    });
    release();
    assertEquals([r.sent, r.peerClosed], [1024 * 1024, false]);
  });
});

Deno.test("runTcpThroughput() stops at the time limit against a peer that never reads", async () => {
  let release = () => {};
  const held = new Promise<void>((r) => (release = r));
  await withPeer(() => held, async (port) => {
    const r = await runTcpThroughput({ hostname: "127.0.0.1", port }, {
      bytes: 1024 ** 3,
      maxMs: 200,
    });
    release();
    assertEquals(r.stoppedBy, "time limit");
    assertOk(r.sent < 1024 ** 3);
  });
});

Deno.test("runTcpThroughput() fails with one line when the peer closes before reading everything", async () => {
  await withPeer(async (conn) => {
    await conn.read(new Uint8Array(1024));
    // Close with unread data: the kernel resets the connection.
  }, async (port) => {
    await rejects(
      runTcpThroughput({ hostname: "127.0.0.1", port }, { bytes: 256 * 1024 * 1024 }),
      /^127\.0\.0\.1:\d+ closed the connection after \d+ bytes$/,
    );
  });
});

Deno.test("runTcpThroughput() reports a refused connection", async () => {
  const port = freePort("tcp");
  await rejects(
    runTcpThroughput({ hostname: "127.0.0.1", port }, { bytes: 10 }),
    /^cannot connect to 127\.0\.0\.1:\d+: connection refused$/,
  );
});
