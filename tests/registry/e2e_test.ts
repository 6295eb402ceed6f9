import { assertEquals, assertMatch, assertOk } from "../helpers/assert.ts";
import { testBadInputs, textRequestReplies } from "../helpers/bad_inputs.ts";
import { argv, runCli } from "../helpers/cli.ts";
import { expectCleanStop, startServer } from "../helpers/server.ts";
import { ServiceMonitor } from "../../lib/net/monitor.ts";
import { bindUdp } from "../../lib/net/udp.ts";
import { runRegistryServer } from "../../lib/registry/server.ts";
import { Probe, serveInProcess } from "../helpers/udp_probe.ts";

const START = /^socklab registry-server: listening on UDP (\S+)$/;

/** registry-server on 127.0.0.1, a free port. */
const startRegistry = () => startServer(argv`registry-server --port 0 --bind 127.0.0.1`, START);

const client = (port: number, ...args: string[]) =>
  runCli(argv`registry-client 127.0.0.1 ${args} --port ${port}`);

Deno.test("registry-client gets the SPEC's exact replies; the server prints each change", async () => {
  await using server = await startRegistry();
  const port = server.port;
  assertEquals((await client(port, "register", "alice")).stdout, "OK registered alice\n");
  assertEquals((await client(port, "register", "bob")).stdout, "OK registered bob\n");
  assertEquals((await client(port, "who", "alice")).stdout, "USERS alice bob\n");
  assertEquals((await client(port, "unregister", "alice")).stdout, "OK unregistered alice\n");
  assertEquals((await client(port, "who")).stdout, "USERS bob\n");
  await server.proc.stdout.waitFor(/alice unregistered by 127\.0\.0\.1:\d+$/);
  assertMatch(
    server.proc.stdout.lines[1],
    /^socklab registry-server: alice registered by 127\.0\.0\.1:\d+$/,
  );
  await expectCleanStop(server.proc);
});

Deno.test("registry-client shows ERR replies on stderr and exits 1", async () => {
  await using server = await startRegistry();
  const port = server.port;
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
    const r = await runCli(argv`registry-client 127.0.0.1 ${args}`);
    assertEquals(r.code, 2, args.join(" "));
    assertMatch(r.stderr, /^usage: socklab registry-client SERVER/m);
  }
});

Deno.test("registry-client with no request reads requests from piped stdin, one socket for all", async () => {
  await using server = await startRegistry();
  const r = await runCli(argv`registry-client 127.0.0.1 --port ${server.port}`, {
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
  await using server = await startRegistry();
  await using relay = lossyRelay(server.port);
  const r = await runCli(
    argv`registry-client 127.0.0.1 register alice --port ${relay.port} --timeout 300`,
  );
  assertEquals([r.code, r.stdout, r.stderr], [0, "OK registered alice\n", ""]);
  assertEquals(relay.dropped(), 2, "the first reply was dropped, the retry's passed");
  assertEquals((await client(server.port, "who")).stdout, "USERS alice\n", "registered once");
});

// What registry-server answers to each bad input, then to "who".
testBadInputs({
  service: "registry-server",
  run: runRegistryServer,
  replies: {
    ...textRequestReplies(256),
    "only NULs": "ERR empty request (register, unregister, who)",
  },
  then: ["who", "USERS"],
});

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
  await using server = await startRegistry();
  const port = server.port;
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
  await using server = await startRegistry();
  const port = server.port;
  const r = await client(port, "register", "alice", "--json");
  assertEquals(JSON.parse(r.stdout), {
    server: server.at(),
    request: "register alice",
    reply: "OK registered alice",
    ok: true,
  });
  const again = await client(port, "register", "alice", "--json");
  assertEquals([again.code, JSON.parse(again.stdout).ok], [1, false]);
});

Deno.test("registry-server tells a monitor its names, each change and each reply", async () => {
  const monitor = new ServiceMonitor("registry-server");
  const events: string[] = [];
  monitor.subscribe((e) => events.push(`${e.kind} ${e.text}`));
  await using server = serveInProcess((conn, options) =>
    runRegistryServer(conn, { ...options, monitor })
  );
  await using probe = new Probe(server.port);
  assertEquals(await probe.ask("register ann"), "OK registered ann");
  assertEquals(await probe.ask("register bo"), "OK registered bo");
  assertEquals(monitor.state(), { kind: "registry", names: ["ann", "bo"] });
  assertEquals(await probe.ask("unregister ann"), "OK unregistered ann");
  assertEquals(await probe.ask("unregister ann"), "OK unregistered ann"); // a retry: no change
  assertEquals(await probe.ask("register bo"), "ERR bo is already registered");
  assertEquals(monitor.state(), { kind: "registry", names: ["bo"] });
  assertEquals(events, [
    "register ann",
    "register bo",
    "unregister ann",
    "error ERR bo is already registered",
  ]);
  assertEquals([monitor.requests, monitor.errors], [5, 1]);
});
