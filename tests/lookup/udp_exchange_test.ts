/**
 * dns's UDP exchange: the connected libc socket (a reply, a closed port known
 * at once as "refused", a time-out) and the portable Deno socket it falls
 * back to, each against a small UDP server in the test.
 */
import { openExchange, portableExchange, sockaddr } from "../../lib/lookup/udp_exchange.ts";
import { assertEquals, assertOk } from "../helpers/assert.ts";

Deno.test("sockaddr() lays out sockaddr_in and sockaddr_in6 (with a zone) in network order", () => {
  const v4 = sockaddr({ hostname: "127.0.0.1", port: 53 }, () => 0)!;
  assertEquals([...v4], [2, 0, 0, 53, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
  const v6 = sockaddr({ hostname: "fe80::1%eth9", port: 5353 }, (name) => name === "eth9" ? 7 : 0)!;
  assertEquals(v6.length, 28);
  assertEquals([...v6.subarray(0, 4)], [10, 0, 0x14, 0xe9]);
  assertEquals([v6[8], v6[9], v6[23], v6[24]], [0xfe, 0x80, 1, 7]);
  assertEquals(sockaddr({ hostname: "fe80::1%nosuch", port: 1 }, () => 0), null);
  assertEquals(sockaddr({ hostname: "example.test", port: 1 }, () => 0), null);
});

/**
 * A UDP server on loopback in a process of its own (the libc exchange blocks
 * this one while it waits): the first datagram is answered with [9], the
 * others with their bytes plus one; `silent` answers nothing.
 */
async function udpServer(silent = false) {
  const code = `const s = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
console.log(s.addr.port);
let n = 0;
for await (const [d, from] of s) {
  if (${silent}) continue;
  await s.send(n++ === 0 ? new Uint8Array([9]) : d.map((b) => b + 1), from);
}`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", "--unstable-net", code],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) text += (await reader.read()).value ?? "";
  return {
    port: Number(text.trim()),
    async [Symbol.asyncDispose]() {
      child.kill();
      await child.status;
      await reader.cancel();
    },
  };
}

/** A loopback UDP port nothing listens on. */
function closedPort(): number {
  const s = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const port = (s.addr as Deno.NetAddr).port;
  s.close();
  return port;
}

for (
  const [what, open] of [["connected (libc)", openExchange], [
    "portable",
    portableExchange,
  ]] as const
) {
  Deno.test(`${what} exchange: a reply it accepts, skipping one it does not`, async () => {
    await using server = await udpServer();
    const ex = open({ hostname: "127.0.0.1", port: server.port });
    try {
      // The first answer is refused by `accept`: the exchange keeps waiting... for none.
      assertEquals(await ex.request(new Uint8Array([1, 2]), 300, (d) => d[0] === 2), null);
      const r = await ex.request(new Uint8Array([1, 2]), 2000, (d) => d[0] === 2);
      assertOk(r !== null && r !== "refused", String(r));
      assertEquals([...r.data], [2, 3]);
    } finally {
      ex.close();
    }
  });
}

Deno.test("connected exchange: a closed port is refused at once, not a time-out", async () => {
  const ex = openExchange({ hostname: "127.0.0.1", port: closedPort() });
  const t0 = performance.now();
  try {
    assertEquals(await ex.request(new Uint8Array([1]), 5000, () => true), "refused");
  } finally {
    ex.close();
  }
  assertOk(performance.now() - t0 < 1000, `took ${performance.now() - t0} ms`);
});

Deno.test("portable exchange: a silent server is a time-out (null) after the time given", async () => {
  await using server = await udpServer(true);
  const ex = portableExchange({ hostname: "127.0.0.1", port: server.port });
  const t0 = performance.now();
  try {
    assertEquals(await ex.request(new Uint8Array([1]), 200, () => true), null);
  } finally {
    ex.close();
  }
  assertOk(performance.now() - t0 >= 190, "waited the time-out");
});
