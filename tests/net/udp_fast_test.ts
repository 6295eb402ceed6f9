import { assertEquals, assertOk } from "../helpers/assert.ts";
import { serveUdp, type UdpHandler } from "../../lib/net/udp_serve.ts";
import { formatIPv6, openFastUdp, parseIpBytes } from "../../lib/net/udp_fast.ts";
import { UdpSocket } from "../../lib/net/udp.ts";

const IPV6: [string, number[]][] = [
  ["::1", [0, 0, 0, 0, 0, 0, 0, 1]],
  ["::", [0, 0, 0, 0, 0, 0, 0, 0]],
  ["fe80::1:2", [0xfe80, 0, 0, 0, 0, 0, 1, 2]],
  ["2001:db8::", [0x2001, 0xdb8, 0, 0, 0, 0, 0, 0]],
  ["2001:db8:0:1:1:1:1:1", [0x2001, 0xdb8, 0, 1, 1, 1, 1, 1]],
  ["2001:db8::1:0:0:1", [0x2001, 0xdb8, 0, 0, 1, 0, 0, 1]],
  ["1:2:3:4:5:6:7:8", [1, 2, 3, 4, 5, 6, 7, 8]],
  ["::ffff:127.0.0.1", [0, 0, 0, 0, 0, 0xffff, 0x7f00, 1]],
];

const wordsToBytes = (w: number[]) => new Uint8Array(w.flatMap((x) => [x >> 8, x & 0xff]));

for (const [text, words] of IPV6) {
  Deno.test(`formatIPv6() writes ${text} as Deno reports it (RFC 5952)`, () => {
    assertEquals(formatIPv6(wordsToBytes(words), 0), text);
  });
  Deno.test(`parseIpBytes() reads ${text} back`, () => {
    assertEquals(parseIpBytes(text), wordsToBytes(words));
  });
}

Deno.test("parseIpBytes() maps IPv4 and refuses what is not an address", () => {
  assertEquals(Array.from(parseIpBytes("10.1.2.3")!.subarray(10)), [0xff, 0xff, 10, 1, 2, 3]);
  for (const bad of ["256.1.1.1", "1.2.3", "1:2:3", "1::2::3", "g::1", "localhost"]) {
    assertEquals(parseIpBytes(bad), null, bad);
  }
});

Deno.test({
  name: "openFastUdp() finds the socket of a bound conn on Linux with FFI allowed",
  ignore: Deno.build.os !== "linux",
  fn() {
    const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    try {
      const fast = openFastUdp(conn);
      assertOk(fast && fast.fd > 2, "the fast path is available here");
      fast.lib.close(fast.fd);
    } finally {
      conn.close();
    }
  },
});

/** Starts serveUdp with `mechanism` on `hostname`; dispose to stop and await it. */
function serve(
  mechanism: "auto" | "portable",
  handler: UdpHandler,
  hostname = "127.0.0.1",
  errors: unknown[] = [],
) {
  const conn = Deno.listenDatagram({ transport: "udp", hostname, port: 0 });
  const ac = new AbortController();
  const done = serveUdp(conn, handler, {
    signal: ac.signal,
    mechanism,
    onError: (err, from) => errors.push([err, from?.port]),
  });
  return {
    port: (conn.addr as Deno.NetAddr).port,
    ac,
    done,
    async [Symbol.asyncDispose]() {
      ac.abort();
      await done;
    },
  };
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);

/**
 * How many of this process's descriptors are UDP sockets bound to `port`
 * (from /proc; rebinding the port instead would race with other processes).
 */
function ourSocketsOnPort(port: number): number {
  const inodes = new Set<string>();
  for (const e of Deno.readDirSync("/proc/self/fd")) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(Deno.readLinkSync(`/proc/self/fd/${e.name}`));
      if (m) inodes.add(m[1]);
    } catch {
      // closed meanwhile
    }
  }
  let n = 0;
  for (const table of ["/proc/net/udp", "/proc/net/udp6"]) {
    for (const line of Deno.readTextFileSync(table).split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (
        cols.length >= 10 && parseInt(cols[1].split(":")[1], 16) === port && inodes.has(cols[9])
      ) {
        n++;
      }
    }
  }
  return n;
}

for (const mechanism of ["auto", "portable"] as const) {
  Deno.test(`serveUdp(${mechanism}) answers bursts from several senders in order, each to its sender`, async () => {
    let n = 0;
    await using server = serve(mechanism, (data, from) => `${n++} ${from.port} ${text(data)}`);
    const clients = [0, 1, 2].map(() => UdpSocket.bind({ hostname: "127.0.0.1", port: 0 }));
    try {
      const to = { hostname: "127.0.0.1", port: server.port };
      // Bursts sent without waiting, so the kernel queues many at once (60 each: well
      // inside the default socket buffers, so nothing is dropped for lack of room).
      const count = 60;
      await Promise.all(clients.map(async (c, k) => {
        for (let i = 0; i < count; i++) await c.send(`c${k} m${i}`, to);
      }));
      const seen = new Set<number>();
      for (const [k, c] of clients.entries()) {
        for (let i = 0; i < count; i++) {
          const got = await c.receive(5000);
          assertOk(got, `client ${k} got reply ${i}`);
          const [serial, port, ...words] = text(got[0]).split(" ");
          const message = words.join(" ");
          assertEquals(Number(port), c.addr.port, "the reply went to its own sender");
          assertEquals(message, `c${k} m${i}`, "replies in the order sent");
          seen.add(Number(serial));
        }
      }
      assertEquals(seen.size, 3 * count, "the handler saw every datagram once");
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  });

  Deno.test(`serveUdp(${mechanism}) awaits async handlers in order and keeps serving after errors`, async () => {
    const errors: unknown[] = [];
    await using server = serve(
      mechanism,
      async (data) => {
        const t = text(data);
        await new Promise((r) => setTimeout(r, t === "slow" ? 20 : 0));
        if (t === "boom") throw new Error("boom");
        if (t === "quiet") return null;
        return `re ${t}`;
      },
      "127.0.0.1",
      errors,
    );
    await using c = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
    const to = { hostname: "127.0.0.1", port: server.port };
    for (const m of ["slow", "boom", "quiet", "fast", "last"]) await c.send(m, to);
    const replies: string[] = [];
    for (let i = 0; i < 3; i++) replies.push(text((await c.receive(5000))![0]));
    assertEquals(replies, ["re slow", "re fast", "re last"]);
    assertEquals(errors.length, 1);
    assertEquals((errors[0] as [Error, number])[1], c.addr.port, "the error names the sender");
  });

  Deno.test(`serveUdp(${mechanism}) passes 65,507 bytes in and out whole, and empty datagrams`, async () => {
    await using server = serve(mechanism, (data) => data.length ? data.slice().reverse() : "empty");
    await using c = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
    const to = { hostname: "127.0.0.1", port: server.port };
    const big = new Uint8Array(65507).map((_, i) => i % 251);
    await c.send(big, to);
    await c.send(new Uint8Array(0), to);
    const got = (await c.receive(5000))![0];
    assertEquals(got.length, 65507);
    assertEquals(got[0], big[65506]);
    assertEquals(got[65506], big[0]);
    assertEquals(text((await c.receive(5000))![0]), "empty");
  });

  Deno.test(`serveUdp(${mechanism}) on "::" sees an IPv4 sender as Deno does and answers it`, async () => {
    await using server = serve(mechanism, (_d, from) => `${from.transport} ${from.hostname}`, "::");
    await using v4 = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
    await using v6 = UdpSocket.bind({ hostname: "::1", port: 0 });
    await v4.send("x", { hostname: "127.0.0.1", port: server.port });
    assertEquals(text((await v4.receive(5000))![0]), "udp ::ffff:127.0.0.1");
    await v6.send("x", { hostname: "::1", port: server.port });
    assertEquals(text((await v6.receive(5000))![0]), "udp ::1");
  });

  Deno.test(`serveUdp(${mechanism}) stops under load, closes the socket and frees the port`, async () => {
    const server = serve(mechanism, (data) => data.slice());
    await using c = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
    const to = { hostname: "127.0.0.1", port: server.port };
    for (let i = 0; i < 500; i++) await c.send("load", to);
    await c.receive(5000); // the server is busy answering
    server.ac.abort();
    await server.done;
    assertEquals(ourSocketsOnPort(server.port), 0, "no descriptor keeps the socket alive");
  });
}

for (const mechanism of ["auto", "portable"] as const) {
  Deno.test(`serveUdp(${mechanism}) keeps a handler's own sends in program order`, async () => {
    const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    const ac = new AbortController();
    const encoder = new TextEncoder();
    const done = serveUdp(conn, async (data, from) => {
      // A broadcast-like handler: it sends on the conn itself, then replies.
      await conn.send(encoder.encode(`a ${text(data)}`), from);
      conn.send(encoder.encode(`b ${text(data)}`), from);
      return `c ${text(data)}`;
    }, { signal: ac.signal, mechanism });
    try {
      await using c = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
      const to = { hostname: "127.0.0.1", port: (conn.addr as Deno.NetAddr).port };
      for (let i = 0; i < 30; i++) await c.send(String(i), to);
      const got: string[] = [];
      for (let i = 0; i < 90; i++) got.push(text((await c.receive(5000))![0]));
      const expected = Array.from({ length: 30 }, (_, i) => [`a ${i}`, `b ${i}`, `c ${i}`]).flat();
      assertEquals(got, expected);
    } finally {
      ac.abort();
      await done;
    }
  });
}

Deno.test({
  name: "serveUdp(auto) stays correct when the garbage collector runs on every datagram",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const script = new URL("./udp_fast_gc_script.ts", import.meta.url).pathname;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", "--v8-flags=--expose-gc", script],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assertEquals(out.code, 0, stderr);
    assertEquals(new TextDecoder().decode(out.stdout), "ok 400\n");
  },
});
