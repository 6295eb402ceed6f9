import { assertEquals, assertMatch, assertOk } from "../helpers/assert.ts";
import { argv, freePort, runCli, spawnProgram } from "../helpers/cli.ts";
import { peerPath, peerTest } from "../helpers/peers.ts";
import { expectCleanStop, startServer } from "../helpers/server.ts";
import { UdpSocket } from "../../lib/net/udp.ts";

const START = /^socklab udp-server: waiting for data on port UDP (\d+)$/;

/** udp-server on a free port of `bind`. */
const startUdp = (bind = "127.0.0.1") =>
  startServer(argv`udp-server --port 0 --bind ${bind}`, START);

Deno.test("udp-server --port 0 names the real port and prints our client's datagrams", async () => {
  await using server = await startUdp();
  assertOk(server.port > 0);
  const client = await runCli(
    argv`udp-client 127.0.0.1 hello ${"two words"} --port ${server.port}`,
  );
  assertEquals(client.code, 0);
  assertEquals(client.stdout, "socklab udp-client: sending data to '127.0.0.1' (IP : 127.0.0.1)\n");
  assertMatch(
    await server.proc.stdout.waitFor(/ : hello$/),
    /^socklab udp-server: from 127\.0\.0\.1:UDP\d+ : hello$/,
  );
  await server.proc.stdout.waitFor(/ : two words$/);
  await expectCleanStop(server.proc);
});

Deno.test("udp-client resolves a name and accepts HOST:PORT", async () => {
  await using server = await startUdp();
  const client = await runCli(argv`udp-client ${server.at("localhost")} named`);
  assertEquals(client.code, 0);
  assertEquals(client.stdout, "socklab udp-client: sending data to 'localhost' (IP : 127.0.0.1)\n");
  await server.proc.stdout.waitFor(/ : named$/);
});

Deno.test("udp-server survives empty, binary and 65,507-byte datagrams and keeps serving", async () => {
  await using server = await startUdp();
  await using sock = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
  const to = { hostname: "127.0.0.1", port: server.port };
  await sock.send(new Uint8Array(0), to);
  await sock.send(new Uint8Array([0xff, 0x00, 0x1b, 0x0a, 0x41]), to);
  await sock.send(new Uint8Array(65507).fill(0x7a), to);
  await sock.send("still here", to);
  await server.proc.stdout.waitFor(/ : still here$/);
  const lines = server.proc.stdout.lines.slice(1);
  assertEquals(lines.length, 4, "one line per datagram");
  assertMatch(lines[0], /:UDP\d+ : $/);
  assertMatch(lines[1], /: \\xff\\x00\\x1b\\x0aA$/);
  assertEquals(lines[2].split(" : ")[1].length, 65507, "the big datagram is printed whole");
  assertOk(!server.proc.stderr.text.includes("at "), "no stack trace");
});

Deno.test("udp-server over IPv6 prints the bracketed source", async () => {
  await using server = await startUdp("::1");
  const client = await runCli(argv`udp-client [::1]:${server.port} six`);
  assertEquals(client.code, 0);
  assertMatch(await server.proc.stdout.waitFor(/ : six$/), /from \[::1\]:UDP\d+ : six$/);
});

Deno.test("udp-client without enough arguments prints the lecture's usage and exits 2", async () => {
  const r = await runCli(argv`udp-client localhost`);
  assertEquals(r.code, 2);
  assertMatch(r.stderr, /^usage : socklab udp-client <server> <data1> \.\.\. <dataN>$/m);
});

Deno.test("udp-client with an unknown host exits 1 with one line", async () => {
  const r = await runCli(argv`udp-client no-such-host.invalid x`);
  assertEquals(r.code, 1);
  assertEquals(r.stderr, "socklab udp-client: unknown host 'no-such-host.invalid'\n");
});

Deno.test("udp-server on a busy port exits 1 naming the port", async () => {
  await using server = await startUdp();
  const r = await runCli(argv`udp-server --port ${server.port} --bind 127.0.0.1`);
  assertEquals(r.code, 1);
  assertEquals(
    r.stderr,
    `socklab udp-server: cannot bind UDP ${server.at()}: address already in use\n`,
  );
});

peerTest("the lecture's C client talks to udp-server without its trailing NUL showing", [
  "lecture:udp_client_ex1",
], async () => {
  await using server = await startUdp();
  const c = spawnProgram(argv`${peerPath("lecture:udp_client_ex1")} 127.0.0.1 from C`, {
    env: { REMOTE_SERVER_PORT: String(server.port) },
  });
  await c.exit();
  assertMatch(
    await server.proc.stdout.waitFor(/ : from$/),
    /^socklab udp-server: from 127\.0\.0\.1:UDP\d+ : from$/,
  );
  await server.proc.stdout.waitFor(/ : C$/);
  assertOk(!server.proc.stdout.text.includes("\\x00"), "no NUL shown");
});

peerTest(
  "udp-client's datagrams show on the lecture's C server",
  ["lecture:udp_server_ex1"],
  async () => {
    const port = freePort("udp");
    await using c = spawnProgram(argv`${peerPath("lecture:udp_server_ex1")} ${port}`);
    await c.stdout.waitFor(`waiting for data on port UDP ${port}`);
    const r = await runCli(argv`udp-client 127.0.0.1 to-C --port ${port}`);
    assertEquals(r.code, 0);
    assertMatch(await c.stdout.waitFor(/to-C/), /: from 127\.0\.0\.1:UDP\d+ : to-C $/);
  },
);

peerTest("nc -u talks to udp-server", ["nc.openbsd"], async () => {
  await using server = await startUdp();
  await using nc = spawnProgram(argv`${peerPath("nc.openbsd")} -u -w 1 127.0.0.1 ${server.port}`);
  await nc.write("from nc\n");
  await server.proc.stdout.waitFor(/ : from nc$/);
});
