import { assertEquals, assertMatch, assertOk } from "../helpers/assert.ts";
import { portOf, runCli, spawnCli } from "../helpers/cli.ts";
import { bindUdp } from "../../lib/net/udp.ts";
import { runRegistryServer } from "../../lib/registry/server.ts";
import { BAD_INPUTS, Probe, serveInProcess } from "../time/udp_probe.ts";

const START = /^socklab registry-server: listening on UDP (\S+)$/;

async function startServer() {
  const server = spawnCli(["registry-server", "--port", "0", "--bind", "127.0.0.1"]);
  const port = portOf(await server.stdout.waitFor(START));
  return { server, port };
}

const client = (port: number, ...args: string[]) =>
  runCli(["registry-client", "127.0.0.1", ...args, "--port", String(port)]);

Deno.test("registry-client gets the SPEC's exact replies; the server prints each change", async () => {
  const { server, port } = await startServer();
  await using _ = server;
  assertEquals((await client(port, "register", "alice")).stdout, "OK registered alice\n");
  assertEquals((await client(port, "register", "bob")).stdout, "OK registered bob\n");
  assertEquals((await client(port, "who", "alice")).stdout, "USERS alice bob\n");
  assertEquals((await client(port, "unregister", "alice")).stdout, "OK unregistered alice\n");
  assertEquals((await client(port, "who")).stdout, "USERS bob\n");
  await server.stdout.waitFor(/alice unregistered by 127\.0\.0\.1:\d+$/);
  assertMatch(
    server.stdout.lines[1],
    /^socklab registry-server: alice registered by 127\.0\.0\.1:\d+$/,
  );
  server.kill("SIGTERM");
  assertEquals((await server.exit()).code, 0);
  assertEquals(server.stderr.text, "");
});

Deno.test("registry-client shows ERR replies on stderr and exits 1", async () => {
  const { server, port } = await startServer();
  await using _ = server;
  await client(port, "register", "alice");
  const again = await client(port, "register", "alice");
  assertEquals([again.code, again.stdout], [1, ""]);
  assertEquals(
    again.stderr,
    "socklab registry-client: server replied: ERR alice is already registered\n",
  );
  const missing = await client(port, "unregister", "carol");
  assertEquals(
    missing.stderr,
    "socklab registry-client: server replied: ERR carol is not registered\n",
  );
});

Deno.test("registry-client checks its arguments before sending (exit 2)", async () => {
  for (const args of [["delete", "x"], ["register"], ["register", "bad name!"]]) {
    const r = await runCli(["registry-client", "127.0.0.1", ...args]);
    assertEquals(r.code, 2, args.join(" "));
    assertMatch(r.stderr, /^usage: socklab registry-client SERVER/m);
  }
});

Deno.test("registry-client with no request reads requests from piped stdin, one socket for all", async () => {
  const { server, port } = await startServer();
  await using _ = server;
  const r = await runCli(["registry-client", "127.0.0.1", "--port", String(port)], {
    stdin:
      "register carol\n\nregister carol\nwho me\nbogus\nregister bad/name\nunregister carol\nwho\n",
  });
  assertEquals(r.code, 0, r.stderr);
  assertEquals(
    r.stdout,
    [
      "OK registered carol",
      "OK registered carol", // the same sender repeating itself: answered as a retry
      "USERS carol",
      'ERR unknown command "bogus" (register, unregister, who)',
      'ERR invalid name "bad/name" (1-32 letters, digits, _ . -)',
      "OK unregistered carol",
      "USERS",
      "",
    ].join("\n"),
  );
});

/**
 * A UDP relay between one client and the server that drops the server's
 * first reply: the client times out and retries, as after a lost datagram.
 */
function lossyRelay(serverPort: number) {
  const conn = bindUdp({ hostname: "127.0.0.1", port: 0 });
  let client: Deno.NetAddr | undefined;
  let dropped = 0;
  const relaying = (async () => {
    try {
      for await (const [data, from] of conn) {
        const addr = from as Deno.NetAddr;
        if (addr.port !== serverPort) {
          client = addr;
          await conn.send(data, { transport: "udp", hostname: "127.0.0.1", port: serverPort });
        } else if (dropped++ > 0 && client) {
          await conn.send(data, client);
        }
      }
    } catch {
      // closed
    }
  })();
  return {
    port: (conn.addr as Deno.NetAddr).port,
    dropped: () => dropped,
    async [Symbol.asyncDispose]() {
      conn.close();
      await relaying;
    },
  };
}

Deno.test("a retried register whose first reply was lost still gets OK registered", async () => {
  const { server, port } = await startServer();
  await using _ = server;
  await using relay = lossyRelay(port);
  const r = await runCli([
    "registry-client",
    "127.0.0.1",
    "register",
    "alice",
    "--port",
    String(relay.port),
    "--timeout",
    "300",
  ]);
  assertEquals([r.code, r.stdout, r.stderr], [0, "OK registered alice\n", ""]);
  assertEquals(relay.dropped(), 2, "the first reply was dropped, the retry's passed");
  assertEquals((await client(port, "who")).stdout, "USERS alice\n", "registered once");
});

/** What registry-server answers to each bad input: an ERR line, or nothing. */
const BAD_REPLIES: Record<string, string | null> = {
  "65,507 bytes of text": "ERR request too long (max 256 bytes)",
  "binary bytes": "ERR request is not text (UTF-8 without control characters)",
  "inner NULs": "ERR request is not text (UTF-8 without control characters)",
  "invalid UTF-8": "ERR request is not text (UTF-8 without control characters)",
  "one line of 10,000 words": "ERR request too long (max 256 bytes)",
  "only NULs": "ERR empty request (register, unregister, who)",
};

for (const [name, data] of BAD_INPUTS) {
  Deno.test(`registry-server survives ${name} (${BAD_REPLIES[name] ?? "silence"})`, async () => {
    await using server = serveInProcess(runRegistryServer);
    await using probe = new Probe(server.port);
    await probe.send(data);
    await probe.send("who");
    const expected = BAD_REPLIES[name];
    if (expected !== null) assertEquals(await probe.next(), expected);
    assertEquals(await probe.next(), "USERS", "and the server keeps serving");
  });
}

Deno.test("registry-server answers over IPv6", async () => {
  await using server = serveInProcess(runRegistryServer, "::1");
  await using probe = new Probe(server.port, "::1");
  assertEquals(await probe.ask("register six"), "OK registered six");
  assertMatch(server.lines[1], /^socklab registry-server: six registered by \[::1\]:\d+$/);
});

// Issue 17's attack row: "who" at a registry holding 1,000 names answered
// 3 bytes with 33,005 (11,000x). Names come from 4 loopback addresses (each
// within its quota); the attacker is a fifth.
Deno.test("who at a registry of 1,000 names: an unvalidated source gets at most 512 bytes, registry-client all 1,000", async () => {
  const { server, port } = await startServer();
  await using _ = server;
  const fillers = [1, 2, 3, 4].map((i) =>
    Deno.listenDatagram({ transport: "udp", hostname: `127.0.0.${i + 1}`, port: 0 })
  );
  const to: Deno.NetAddr = { transport: "udp", hostname: "127.0.0.1", port };
  try {
    for (let i = 0; i < 1000; i++) {
      const sock = fillers[i % 4];
      await sock.send(new TextEncoder().encode(`register ${String(i).padStart(32, "n")}`), to);
      const [reply] = await sock.receive();
      assertMatch(new TextDecoder().decode(reply), /^OK registered/);
    }
  } finally {
    fillers.forEach((s) => s.close());
  }
  const attacker = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.6", port: 0 });
  let out: Uint8Array;
  try {
    await attacker.send(new TextEncoder().encode("who"), to);
    [out] = await attacker.receive();
  } finally {
    attacker.close();
  }
  console.log(`who: 3 B in -> ${out.length} B out (${(out.length / 3).toFixed(0)}x; was 33,005 B)`);
  assertOk(out.length <= 512, `${out.length} bytes`);
  assertMatch(
    new TextDecoder().decode(out),
    /\(\+\d+ more: send "who cookie=[0-9a-f]{16}" for all\)$/,
  );

  const all = await client(port, "who", "--json");
  assertEquals(all.code, 0, all.stderr);
  assertEquals(JSON.parse(all.stdout).names.length, 1000);
});

Deno.test("registry-client --json shows the reply and ok", async () => {
  const { server, port } = await startServer();
  await using _ = server;
  const r = await client(port, "register", "alice", "--json");
  assertEquals(JSON.parse(r.stdout), {
    server: `127.0.0.1:${port}`,
    request: "register alice",
    reply: "OK registered alice",
    ok: true,
  });
  const again = await client(port, "register", "alice", "--json");
  assertEquals([again.code, JSON.parse(again.stdout).ok], [1, false]);
});
