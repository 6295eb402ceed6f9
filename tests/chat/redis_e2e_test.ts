/**
 * `chat-server --redis URL`: several instances, one room, against a real
 * redis-server that the tests kill, pause, restart and `CLIENT KILL`. Every
 * behaviour of issue 16's chat half has a test here that fails without it.
 */
import { assertEquals, assertMatch, assertOk } from "../helpers/assert.ts";
import { type CliProcess, portOf, runCli, spawnCli, spawnProgram } from "../helpers/cli.ts";
import { peerPath } from "../helpers/peers.ts";
import { RedisServer, redisTest } from "../helpers/redis.ts";
import { lineAfter, messagesFrom, numbered, TcpPeer, UdpPeer } from "./peers.ts";

const LISTENING = /^socklab chat-server: listening on (TCP|UDP) 127\.0\.0\.1:(\d+)$/;

/** One chat-server instance on the shared room. */
async function instance(
  redis: RedisServer,
  ...flags: string[]
): Promise<{ proc: CliProcess; port: number }> {
  const proc = spawnCli([
    "chat-server",
    "--redis",
    redis.url,
    "--port",
    "0",
    "--bind",
    "127.0.0.1",
    ...flags,
  ]);
  const port = portOf(await proc.stdout.waitFor(LISTENING, 20_000));
  return { proc, port };
}

/** A private redis-server with two instances, A and B, on it; disposing stops all three. */
class Room implements AsyncDisposable {
  private constructor(
    readonly redis: RedisServer,
    readonly a: { proc: CliProcess; port: number },
    readonly b: { proc: CliProcess; port: number },
  ) {}

  /** Starts Redis, then A and B with the same `flags`. */
  static async start(...flags: string[]): Promise<Room> {
    const redis = await RedisServer.start();
    const up: { proc: CliProcess; port: number }[] = [];
    try {
      for (const _ of ["A", "B"]) up.push(await instance(redis, ...flags));
    } catch (e) {
      for (const { proc } of up) await proc[Symbol.asyncDispose]();
      await redis[Symbol.asyncDispose]();
      throw e;
    }
    return new Room(redis, up[0], up[1]);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.b.proc[Symbol.asyncDispose]();
    await this.a.proc[Symbol.asyncDispose]();
    await this.redis[Symbol.asyncDispose]();
  }
}

function member(port: number, name: string, keep?: number): Promise<TcpPeer> {
  return TcpPeer.signedIn(port, name, { keep });
}

async function udpMember(port: number, name: string): Promise<UdpPeer> {
  const peer = new UdpPeer(port);
  await peer.signin(name);
  return peer;
}

/** Sends `who` and returns its answer (the next Users line). */
async function who(peer: TcpPeer | UdpPeer): Promise<string> {
  const from = peer.log.lines.length;
  await peer.send("who");
  return await lineAfter(peer.log, from, /^Users:/);
}

redisTest(
  "chat-server --redis: two TCP instances and a UDP one are one room; nc users notice nothing; order per sender",
  async () => {
    const N = 50;
    await using room = await Room.start();
    const { redis, a, b } = room;
    const c = await instance(redis, "--udp");
    await using _c = c.proc;
    await using alice = await member(a.port, "alice");
    // bob is a person with nc on instance B.
    await using bob = spawnProgram([peerPath("nc.openbsd"), "127.0.0.1", String(b.port)]);
    await bob.write("signin bob\n");
    await bob.stdout.waitFor("OK signed in as bob");
    await using carol = await udpMember(c.port, "carol");
    await alice.log.waitFor("*** carol joined");

    // The name rules hold across instances: taken in any case, strangers told once.
    await using dup = await TcpPeer.connect(b.port);
    await dup.send("who", "chat hello?", "signin ALICE");
    await dup.log.waitFor("ERR name 'ALICE' is already taken");
    assertEquals(dup.log.lines, [
      'ERR not signed in: send "signin NAME" first (or "help")',
      "ERR name 'ALICE' is already taken",
    ]);

    // alice (A) and bob (B) talk at once; everyone hears both, in order, senders included.
    await Promise.all([
      alice.send(...numbered("chat a", N)),
      bob.write(numbered("chat b", N).map((l) => `${l}\n`).join("")),
    ]);
    await carol.send("chat from udp");
    for (const log of [alice.log, bob.stdout, carol.log]) {
      await log.waitFor(`Msg alice says: a ${N - 1}`);
      await log.waitFor(`Msg bob says: b ${N - 1}`);
      await log.waitFor("Msg carol says: from udp");
      assertEquals(messagesFrom(log.lines, "alice"), numbered("a", N));
      assertEquals(messagesFrom(log.lines, "bob"), numbered("b", N));
      assertEquals(log.lines.filter((l) => l.includes("hello?")), []);
    }
    assertEquals(await who(alice), "Users: alice bob carol");
    assertEquals(await who(carol), "Users: alice bob carol");
    await bob.write("signout\n");
    await bob.stdout.waitFor("OK signed out bob");
    await alice.log.waitFor("*** bob left");
    assertEquals(await who(carol), "Users: alice carol");
  },
);

redisTest(
  "chat-server --redis: a SIGKILLed instance's members leave who on the others within 10 s",
  async () => {
    await using room = await Room.start();
    const { a, b } = room;
    await using alice = await member(a.port, "alice");
    await using _bob = await member(b.port, "bob");
    assertEquals(await who(alice), "Users: alice bob");
    const killed = performance.now();
    b.proc.kill("SIGKILL");
    await alice.log.waitFor("*** bob was disconnected (its server stopped)", 10_000);
    const seconds = (performance.now() - killed) / 1000;
    console.log(`bob left the room ${seconds.toFixed(1)} s after his instance was SIGKILLed`);
    assertOk(seconds < 10, `${seconds} s`);
    assertEquals(await who(alice), "Users: alice");
    // The name is free again.
    await using bob2 = await member(a.port, "bob");
    assertEquals(await who(bob2), "Users: alice bob");
  },
);

redisTest(
  "chat-server --redis: a CLIENT KILL blip is one log line each way and its members miss no line",
  async () => {
    const N = 400;
    await using room = await Room.start();
    const { redis, a, b } = room;
    await using alice = await member(a.port, "alice");
    await using bob = await member(b.port, "bob");
    await alice.log.waitFor("*** bob joined");
    // bob keeps talking on B while A's connections to Redis are cut twice.
    const pid = a.proc.child.pid;
    const talking = (async () => {
      for (let i = 0; i < N; i += 10) {
        await bob.send(...numbered("chat b", i + 10).slice(i));
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    await alice.log.waitFor("Msg bob says: b 50");
    assertOk((await redis.clientKill(`socklab-${pid}`)) >= 2, "CLIENT KILL found A's connections");
    await a.proc.stdout.waitFor(
      /^socklab chat-server: Redis redis:\/\/127\.0\.0\.1:\d+ is back after/,
    );
    // alice talks during the next cut too: bob hears her once.
    await alice.log.waitFor("Msg bob says: b 200");
    await redis.clientKill(`socklab-${pid}`);
    await alice.send("chat during the blip");
    await talking;
    await alice.log.waitFor(`Msg bob says: b ${N - 1}`);
    await bob.log.waitFor("Msg alice says: during the blip");
    assertEquals(messagesFrom(alice.log.lines, "bob"), numbered("b", N));
    assertEquals(messagesFrom(bob.log.lines, "alice"), ["during the blip"]);
    assertEquals(messagesFrom(alice.log.lines, "alice"), ["during the blip"]);
    await a.proc.stdout.waitFor(/is back after/);
    const lost = a.proc.stdout.lines.filter((l) => l.includes("lost Redis"));
    const back = a.proc.stdout.lines.filter((l) => l.includes("is back after"));
    assertEquals([lost.length, back.length], [2, 2], a.proc.stdout.text);
    assertMatch(
      lost[0],
      /^socklab chat-server: lost Redis redis:\/\/127\.0\.0\.1:\d+ \(.*\); reconnecting$/,
    );
  },
);

redisTest(
  "chat-server --redis: Redis down, each instance serves its own; back, the room is one again",
  async () => {
    await using room = await Room.start();
    const { redis, a, b } = room;
    await using alice = await member(a.port, "alice");
    await using ann = await member(a.port, "ann");
    await using bob = await member(b.port, "bob");
    await redis.kill();
    await a.proc.stdout.waitFor(/^socklab chat-server: lost Redis /);
    // Local service goes on: A's members hear each other, who lists A's.
    await alice.send("chat while redis is down");
    await ann.log.waitFor("Msg alice says: while redis is down");
    assertEquals(await who(ann), "Users: alice ann");
    // A newcomer on B takes a name also taken on A meanwhile: one of them must give it up later.
    await using bea = await member(b.port, "bea");
    await using bea2 = await member(a.port, "BEA");
    await redis.restart();
    await a.proc.stdout.waitFor(/is back after/, 15_000);
    await b.proc.stdout.waitFor(/is back after/, 15_000);
    // What A said while Redis was down reaches B now; the room is one again.
    await bob.log.waitFor("Msg alice says: while redis is down", 10_000);
    await bob.send("chat after the restart");
    await alice.log.waitFor("Msg bob says: after the restart", 10_000);
    await ann.log.waitFor("Msg bob says: after the restart");
    const names = (await who(alice)).split(" ").slice(1).sort();
    assertEquals(names.filter((n) => n.toLowerCase() !== "bea"), ["alice", "ann", "bob"]);
    // Exactly one of the two BEAs kept the name; the other was told and is a stranger again.
    assertEquals(names.filter((n) => n.toLowerCase() === "bea").length, 1);
    const lostIt = [bea, bea2].filter((p) => p.log.lines.some((l) => l.includes("was taken")));
    assertEquals(lostIt.length, 1);
    assertMatch(lostIt[0].log.lines.at(-1)!, /^ERR name '\w+' was taken elsewhere in the room/);
  },
);

redisTest(
  "chat-server --redis refuses a bad URL and a Redis that does not answer: one line, exit 1, at once",
  async () => {
    const bad = await runCli(["chat-server", "--redis", "http://127.0.0.1:6379", "--port", "0"]);
    assertEquals(bad.code, 1);
    assertMatch(
      bad.stderr.trim(),
      /^socklab chat-server: --redis: Cannot parse Redis URL "http:\/\/127\.0\.0\.1:6379": scheme "http" is not redis or rediss/,
    );
    assertEquals(bad.stderr.trim().split("\n").length, 1);
    await using redis = await RedisServer.start();
    await redis.pause();
    const started = performance.now();
    const silent = await runCli(["chat-server", "--redis", redis.url, "--port", "0"]);
    const seconds = (performance.now() - started) / 1000;
    await redis.resume();
    assertEquals(silent.code, 1);
    assertEquals(
      silent.stderr.trim(),
      `socklab chat-server: Redis ${redis.url} did not answer within 3000 ms`,
    );
    assertOk(seconds < 8, `${seconds} s`);
    assertEquals(silent.stdout, ""); // no port was taken
  },
);

redisTest(
  "chat-server --redis: a slow reader on one instance is never dropped; it holds back its instance's feed",
  async () => {
    const N = 3000;
    // 18 MB from A, far more than the 64 KB queue: without flow control on B's
    // feed from Redis the slow reader is dropped as "client too slow".
    const pad = "x".repeat(6000);
    const KEEP = 80;
    const flags = ["--max-queue", "65536", "--max-line", "8192"];
    await using room = await Room.start(...flags);
    const { a, b } = room;
    await using slow = await TcpPeer.connect(b.port, {
      keep: KEEP,
      slow: { bytes: 64 * 1024, pauseMs: 5 },
    });
    await slow.signin("slow");
    await using fast = await member(b.port, "fast", KEEP);
    await using sender = await member(a.port, "sender", KEEP);
    const shown = (i: number) => `Msg sender says: s ${i} ${pad}`.slice(0, KEEP);
    await sender.send(...numbered("chat s", N).map((l) => `${l} ${pad}`));
    await slow.log.waitFor(shown(N - 1), 60_000);
    await fast.log.waitFor(shown(N - 1));
    for (const peer of [slow, fast]) {
      assertEquals(
        peer.log.lines.filter((l) => l.startsWith("Msg sender says: ")),
        Array.from({ length: N }, (_, i) => shown(i)),
      );
    }
    assertEquals(b.proc.stdout.lines.filter((l) => l.includes("dropped")), []);
    assertEquals(a.proc.stdout.lines.filter((l) => l.includes("dropped")), []);
  },
);
