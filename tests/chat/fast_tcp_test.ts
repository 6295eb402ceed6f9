/**
 * The TCP chat's Linux fast path (lib/chat/fast_tcp.ts) on its own: accept,
 * chunks handed over as they arrive, pause/resume, a write that waits for
 * room, end of stream, and closing. (Every chat-server test runs on it too.)
 */
import { assertEquals, assertOk } from "../helpers/assert.ts";
import { type FastConn, type FastListener, openFastTcp } from "../../lib/chat/fast_tcp.ts";
import { until } from "./peers.ts";

const linux = Deno.build.os === "linux";

async function withFast(fn: (fast: FastListener, port: number) => Promise<void>): Promise<void> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  const fast = openFastTcp(listener);
  assertOk(fast, "the fast path opens on Linux with FFI allowed");
  try {
    await fn(fast, port);
  } finally {
    fast.close();
    await fast.done;
  }
}

/**
 * A test (on Linux) of one connection the fast path accepted from `client`;
 * the connection's remote port must be the client's.
 */
function connTest(name: string, fn: (conn: FastConn, client: Deno.TcpConn) => Promise<void>) {
  Deno.test({
    name,
    ignore: !linux,
    fn: () =>
      withFast(async (fast, port) => {
        using client = await Deno.connect({ hostname: "127.0.0.1", port });
        const conn = await fast.accept();
        assertEquals(conn.remoteAddr.port, client.localAddr.port);
        await fn(conn, client);
      }),
  });
}

function collect(conn: FastConn) {
  const got = { text: "", ended: false, error: undefined as Error | undefined };
  const decoder = new TextDecoder();
  conn.start({
    data: (b) => (got.text += decoder.decode(b)),
    end: (err) => {
      got.ended = true;
      got.error = err;
    },
  });
  return got;
}

connTest(
  "FastListener accepts, hands chunks over, writes back and sees the end",
  async (conn, client) => {
    const got = collect(conn);
    await client.write(new TextEncoder().encode("hello\nworld\n"));
    await until(() => got.text === "hello\nworld\n", "both lines");
    assertEquals(await conn.write(new TextEncoder().encode("back\n")), 5);
    const buf = new Uint8Array(16);
    assertEquals(new TextDecoder().decode(buf.subarray(0, (await client.read(buf))!)), "back\n");
    client.closeWrite();
    await until(() => got.ended, "the end of stream");
    assertEquals(got.error, undefined);
    conn.close();
  },
);

connTest("FastConn.pause holds data in the kernel until resume", async (conn, client) => {
  const got = collect(conn);
  conn.pause();
  await client.write(new TextEncoder().encode("held\n"));
  await new Promise((r) => setTimeout(r, 50)); // (nothing may arrive meanwhile)
  assertEquals(got.text, "");
  conn.resume();
  await until(() => got.text === "held\n", "the held line after resume");
  conn.close();
});

connTest(
  "FastConn.write waits for room, then finishes; close fails a waiting write",
  async (conn, client) => {
    collect(conn);
    const big = new Uint8Array(8 << 20); // far more than the socket buffers
    let sent = 0;
    while (sent < big.length) {
      const n = conn.tryWrite(big.subarray(sent));
      if (n === undefined) break;
      sent += n;
    }
    assertOk(sent < big.length, "the kernel buffers filled");
    const waiting = conn.write(big.subarray(sent));
    // The client reads: room comes back, the write finishes.
    const buf = new Uint8Array(1 << 20);
    let read = 0;
    const n = await Promise.race([
      waiting,
      (async () => {
        while (read < big.length) read += (await client.read(buf)) ?? 0;
        return -1;
      })(),
    ]);
    assertOk(n > 0, "the waiting write finished once the client read");
    const stuck = conn.write(new Uint8Array(64 << 20));
    const failed = stuck.then(() => "written", (e) => e.constructor.name);
    conn.close();
    assertOk(["BadResource", "written"].includes(await failed));
  },
);
