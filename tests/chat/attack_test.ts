/**
 * Issue 17's chat rows, each attack reproduced against the real server with
 * its figure printed (before: what the issue measured; after: now). On
 * loopback every 127.x.y.z address is a distinct source, so "another host"
 * is a socket bound to 127.0.0.2. Each test runs against a lone server and
 * against an instance sharing its room through Redis (the rules hold there too).
 */
import { assertEquals, assertMatch, assertOk } from "../helpers/assert.ts";
import { type CliProcess, portOf, spawnCli, spawnProgram } from "../helpers/cli.ts";
import { peerPath, peerTest } from "../helpers/peers.ts";
import { RedisServer, redisTest } from "../helpers/redis.ts";
import { closeQuietly } from "../../lib/net/tcp.ts";
import { lineAfter, UdpPeer, until } from "./peers.ts";

const LISTENING = /^socklab chat-server: listening on (TCP|UDP) 127\.0\.0\.1:(\d+)$/;

type Start = (...flags: string[]) => Promise<{ server: CliProcess; port: number }>;

/** Defines `name` twice: a lone chat-server, and one started with --redis. */
function bothWays(name: string, peers: string[], fn: (start: Start) => Promise<void>): void {
  const spawn = async (flags: string[]) => {
    const server = spawnCli(["chat-server", "--port", "0", "--bind", "127.0.0.1", ...flags]);
    return { server, port: portOf(await server.stdout.waitFor(LISTENING, 20_000)) };
  };
  peerTest(name, peers, () => fn((...flags) => spawn(flags)));
  redisTest(`${name} (--redis)`, async () => {
    await using redis = await RedisServer.start();
    await fn((...flags) => spawn(["--redis", redis.url, ...flags]));
  }, { peers });
}

bothWays(
  "1,100 idle TCP connections from one host cannot keep a user from another address out",
  ["nc.openbsd"],
  async (start) => {
    const { server, port } = await start();
    await using _ = server;
    const conns: Deno.TcpConn[] = [];
    try {
      for (let i = 0; i < 1100; i++) {
        conns.push(await Deno.connect({ hostname: "127.0.0.1", port }));
      }
      const refused = () => server.stdout.lines.filter((l) => l.includes("refused"));
      await server.stdout.waitFor(/refused 127\.0\.0\.1:\d+: too many connections/);
      // A person on another host (127.0.0.2) still gets in.
      await using user = spawnProgram([
        peerPath("nc.openbsd"),
        "-s",
        "127.0.0.2",
        "127.0.0.1",
        String(port),
      ]);
      await user.write("signin dora\n");
      assertEquals(await user.stdout.waitFor(/./), "OK signed in as dora");
      // Every refusal was logged before dora's connection was accepted; the log may lag a little.
      await until(() => refused().length >= 1100 - 256, "the refusals in the log");
      assertMatch(
        refused()[0],
        /refused 127\.0\.0\.1:\d+: too many connections from 127\.0\.0\.1 \(at most 256 per source\)$/,
      );
      console.log(
        `1,100 idle connections from 127.0.0.1: ${1100 - refused().length} held, ` +
          `${refused().length} refused; a user from 127.0.0.2 signed in ` +
          `(before: ERR server full (1024 clients) for everyone)`,
      );
      assertEquals(refused().length, 1100 - 256);
    } finally {
      conns.forEach(closeQuietly);
    }
  },
);

bothWays(
  "UDP chat: addresses that never answer the challenge never join, so one chat line reaches only real members",
  [],
  async (start) => {
    const VICTIMS = 200;
    const { server, port } = await start("--udp");
    await using _ = server;
    // Signins "from" 200 addresses that never answer (a spoofer cannot: it
    // never sees the reply). Here they are real sockets that only listen.
    const victims = Array.from({ length: VICTIMS }, () => new UdpPeer(port));
    try {
      for (const [i, v] of victims.entries()) await v.send(`signin v${i}`);
      for (const v of victims) await v.log.waitFor(/^CONFIRM /);
      const challenge = Math.max(...victims.flatMap((v) => v.sizes));
      await using mallory = new UdpPeer(port);
      await mallory.signin("mallory");
      const before = victims.map((v) => v.log.lines.length);
      await mallory.send("chat x");
      await mallory.log.waitFor("Msg mallory says: x");
      const from = mallory.log.lines.length;
      await mallory.send("who");
      assertEquals(await lineAfter(mallory.log, from, /^Users:/), "Users: mallory");
      const reached = victims.reduce((n, v, i) => n + v.log.lines.length - before[i], 0);
      console.log(
        `"chat x" (6 B) with ${VICTIMS} signins that never answered: ${reached} datagrams to them ` +
          `(before: 200 datagrams, 2,800 B, 467x); each signin (${"signin v199".length} B) got ` +
          `only the challenge (${challenge} B, under the 512 B budget)`,
      );
      assertEquals(reached, 0);
      assertOk(challenge <= 512, `${challenge} B`);
    } finally {
      for (const v of victims) await v[Symbol.asyncDispose]();
    }
  },
);

bothWays(
  "UDP chat: one host holds at most --max-per-source members; another host still joins",
  [],
  async (start) => {
    const { server, port } = await start("--udp", "--max-per-source", "3");
    await using _ = server;
    const peers = Array.from({ length: 4 }, () => new UdpPeer(port));
    try {
      for (const [i, p] of peers.slice(0, 3).entries()) await p.signin(`m${i}`);
      await peers[3].send("signin m3");
      const confirm = await peers[3].log.waitFor(/^CONFIRM /);
      await peers[3].send(/send: (\S+ \S+ \S+) /.exec(confirm)![1]);
      assertEquals(
        await peers[3].log.waitFor(/^ERR/),
        "ERR too many members from 127.0.0.1 (at most 3 per source)",
      );
      await using other = new UdpPeer(port, "127.0.0.2");
      await other.signin("elsewhere");
      console.log("127.0.0.1 held 3 members, its 4th was refused; 127.0.0.2 signed in");
    } finally {
      for (const p of peers) await p[Symbol.asyncDispose]();
    }
  },
);

Deno.test("UDP chat: no reply to a stranger exceeds max(3x its datagram, 512 B), whatever the room holds", async () => {
  const server = spawnCli(["chat-server", "--udp", "--port", "0", "--bind", "127.0.0.1"]);
  await using _ = server;
  const port = portOf(await server.stdout.waitFor(LISTENING));
  // 40 members with 32-character names: the full list is 1,319 bytes.
  const members = Array.from({ length: 40 }, () => new UdpPeer(port));
  try {
    for (const [i, m] of members.entries()) await m.signin(`member${String(i).padStart(26, "0")}`);
    const requests = ["who", "help", "w", "signin x", "chat hi", "signout", `x${"y".repeat(5000)}`];
    const rows: string[] = [];
    for (const request of requests) {
      await using stranger = new UdpPeer(port);
      await stranger.send(request, "help"); // help always answers: the end of its replies
      const last = request === "help" ? 1 : 0;
      await lineAfter(stranger.log, last, /^Commands: /);
      const reply = stranger.sizes.slice(0, -1);
      const budget = Math.max(3 * request.length, 512);
      rows.push(`${request.slice(0, 12)} (${request.length} B) -> ${reply.join("+") || 0} B`);
      for (const size of reply) assertOk(size <= budget, `${request}: ${size} > ${budget}`);
    }
    const from = members[0].log.lines.length;
    await members[0].send("who");
    const list = await lineAfter(members[0].log, from, /^Users:/);
    console.log(`to strangers: ${rows.join("; ")}; a member's who: ${list.length} B`);
    assertOk(list.length > 1300, "a member still gets the whole list");
  } finally {
    for (const m of members) await m[Symbol.asyncDispose]();
  }
});

Deno.test("UDP chat: silent members are signed out after --member-ttl; socklab's chat-client keeps itself in", async () => {
  const server = spawnCli([
    "chat-server",
    "--udp",
    "--port",
    "0",
    "--bind",
    "127.0.0.1",
    "--member-ttl",
    "2",
  ]);
  await using _ = server;
  const port = portOf(await server.stdout.waitFor(LISTENING));
  await using silent = new UdpPeer(port);
  await silent.signin("silent");
  const client = spawnCli(["chat-client", "--udp", "127.0.0.1", String(port), "alice"]);
  await using _client = client;
  await client.stderr.waitFor("signed in as alice");
  const started = performance.now();
  assertEquals(
    await silent.log.waitFor(/^ERR signed out/, 10_000),
    "ERR signed out: silent for 2 s; sign in again",
  );
  const seconds = (performance.now() - started) / 1000;
  await server.stdout.waitFor(/dropped silent \(127\.0\.0\.1:\d+\): silent for 2 s$/);
  await client.stdout.waitFor("*** silent was disconnected (silent for 2 s)");
  // Twice the ttl later the client, which never typed, is still a member.
  await new Promise((r) => setTimeout(r, 4000));
  await client.write("/who\n");
  await client.stdout.waitFor("Users: alice");
  assertEquals(server.stdout.lines.filter((l) => l.includes("dropped alice")), []);
  console.log(`a silent member left after ${seconds.toFixed(1)} s (ttl 2 s); chat-client stayed`);
});
