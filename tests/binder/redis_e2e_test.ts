/**
 * `binder --redis URL` end to end: three real binder processes sharing one
 * table through a private, real redis-server, and each row of the README's
 * failure table (an instance dies, Redis blips, Redis is paused, Redis is
 * down, Redis restarts empty, nothing answers at start-up) reproduced.
 */
import { assertEquals, assertMatch, assertOk } from "../helpers/assert.ts";
import { argv, freePort, runCli } from "../helpers/cli.ts";
import { RedisServer, redisTest } from "../helpers/redis.ts";
import { disposeTogether } from "../helpers/server.ts";
import { UdpSocket } from "../../lib/net/udp.ts";
import { signRegister } from "../../lib/binder/auth.ts";
import { ask, listOfMaxMin, rawSocket, registerInto, startBinder, startExecServer } from "./lab.ts";

/** Starts `n` binders sharing `redis`, in parallel. */
async function binders(redis: RedisServer, n: number, extra: string[] = []) {
  return await Promise.all(
    Array.from({ length: n }, () => startBinder(["--redis", redis.url, "--quiet", ...extra])),
  );
}

/** A private redis-server and `n` binders sharing it; disposing stops the binders, then Redis. */
async function sharedTable(n: number, extra: string[] = []) {
  const redis = await RedisServer.start();
  try {
    const list = await binders(redis, n, extra);
    const together = disposeTogether(...list);
    return {
      redis,
      binders: list,
      async [Symbol.asyncDispose]() {
        await together[Symbol.asyncDispose]();
        await redis[Symbol.asyncDispose]();
      },
    };
  } catch (e) {
    await redis[Symbol.asyncDispose]();
    throw e;
  }
}

/** The ports LOOKUP MAX names in `n` look-ups at `binderPort`. */
async function lookupPorts(binderPort: number, n: number): Promise<Set<number>> {
  await using sock = rawSocket();
  const ports = new Set<number>();
  for (let i = 0; i < n; i++) {
    const reply = await ask(sock, binderPort, "LOOKUP MAX");
    const m = reply.match(/^MAX 127\.0\.0\.1 (\d+)$/);
    if (m) ports.add(Number(m[1]));
  }
  return ports;
}

redisTest(
  "three binders on one Redis: register through one, LOOKUP and LIST through the others, UNREGISTER only by the owner",
  async () => {
    await using lab = await sharedTable(3);
    const { binders: [a, b, c] } = lab;
    assertMatch(
      a.proc.stdout.text,
      /the table is shared through Redis redis:\/\/127\.0\.0\.1:\d+/,
    );
    await using server = rawSocket();
    await using intruder = rawSocket();
    const p = server.addr.port;
    await registerInto(a, server, "REGISTER MAX MIN", "MAX MIN");
    assertEquals(await ask(intruder, b.port, "LOOKUP MAX"), `MAX 127.0.0.1 ${p}`);
    assertMatch(
      await ask(intruder, c.port, "LIST"),
      listOfMaxMin(p),
    );
    assertEquals(await ask(intruder, b.port, "UNREGISTER"), "OK UNREGISTER 0");
    assertEquals(await ask(intruder, c.port, "LOOKUP MIN"), `MIN 127.0.0.1 ${p}`);
    assertEquals(await ask(server, c.port, "UNREGISTER"), "OK UNREGISTER 2");
    assertEquals(await ask(intruder, a.port, "LOOKUP MAX"), "ERR no server for MAX");
    assertEquals(await ask(intruder, b.port, "LIST"), "OK LIST 0");
  },
);

redisTest(
  "three binders: exec servers registered through different binders are handed out by all; a SIGKILLed one stops within its ttl",
  async () => {
    const ttl = 3;
    await using lab = await sharedTable(3, ["--ttl", String(ttl)]);
    const { binders: [a, b, c] } = lab;
    await using x = await startExecServer(a.port, ["--commands", "MAX"]);
    await using y = await startExecServer(b.port, ["--commands", "MAX"]);
    for (const binder of [a, b, c]) {
      assertEquals([...await lookupPorts(binder.port, 40)].sort(), [x.port, y.port].sort());
    }
    x.proc.kill("SIGKILL");
    await x.proc.exit();
    const killed = performance.now();
    // Poll C's LIST (not LOOKUP: a random pick could miss X by chance) until X is gone: at
    // most the ttl after its last refresh, plus polling.
    await using probe = rawSocket();
    while ((await ask(probe, c.port, "LIST MAX")).includes(` ${x.port} `)) {
      assertOk(
        performance.now() - killed < (ttl + 2) * 1000,
        "X still handed out after its ttl",
      );
    }
    const took = performance.now() - killed;
    console.log(
      `SIGKILLed exec server no longer handed out after ${took.toFixed(0)} ms (ttl ${ttl} s)`,
    );
    for (const binder of [a, b, c]) {
      assertEquals([...await lookupPorts(binder.port, 20)], [y.port]);
    }
  },
);

redisTest(
  "Redis down: binders answer ERR at once, stay up, and the table refills from re-registrations when Redis is back",
  async () => {
    await using lab = await sharedTable(2, ["--ttl", "3"]);
    const { redis, binders: [a, b] } = lab;
    await using x = await startExecServer(a.port, ["--commands", "MAX"]);
    await using sock = rawSocket();
    assertEquals(await ask(sock, b.port, "LOOKUP MAX"), `MAX 127.0.0.1 ${x.port}`);
    await redis.kill();
    await b.proc.stdout.waitFor(
      /^socklab binder: lost Redis redis:\/\/127\.0\.0\.1:\d+ \(.*\); reconnecting$/,
    );
    const started = performance.now();
    const reply = await ask(sock, b.port, "LOOKUP MAX");
    const took = performance.now() - started;
    assertMatch(
      reply,
      /^ERR binder table unavailable \(Redis redis:\/\/127\.0\.0\.1:\d+ is down\); try again$/,
    );
    assertOk(took < 500, `answered in ${took.toFixed(0)} ms`);
    assertMatch(await ask(sock, a.port, "REGISTER MIN"), /^ERR binder table unavailable/);
    assertEquals(await ask(sock, a.port, "TTL"), "OK TTL 3", "what needs no table still works");
    await redis.restart(); // empty: nothing persisted
    await b.proc.stdout.waitFor(
      /^socklab binder: Redis redis:\/\/127\.0\.0\.1:\d+ is back after [\d.]+ s$/,
    );
    // X re-registers every ttl/3 = 1 s: the table refills without anyone's help.
    const back = performance.now();
    while (!(await ask(sock, b.port, "LOOKUP MAX")).startsWith("MAX ")) {
      assertOk(performance.now() - back < 4000, "X not back within a refresh period");
      await new Promise((r) => setTimeout(r, 100));
    }
    assertEquals(await ask(sock, b.port, "LOOKUP MAX"), `MAX 127.0.0.1 ${x.port}`);
    assertEquals(a.proc.stderr.text + b.proc.stderr.text, "", "no crash, no stack trace");
  },
);

redisTest(
  "Redis paused (SIGSTOP): concurrent requests each get ERR within about a second, none hangs",
  async () => {
    await using lab = await sharedTable(1);
    const { redis, binders: [a] } = lab;
    await using owner = rawSocket();
    assertEquals(await ask(owner, a.port, "REGISTER MAX"), "OK REGISTER MAX");
    await redis.pause();
    const started = performance.now();
    const clients = Array.from({ length: 20 }, () => rawSocket());
    try {
      const replies = await Promise.all(clients.map((s) => ask(s, a.port, "LOOKUP MAX")));
      const took = performance.now() - started;
      for (const r of replies) {
        assertMatch(
          r,
          /^ERR binder table unavailable \(Redis redis:\/\/127\.0\.0\.1:\d+(: no answer within 1000 ms| is down)\); try again$/,
        );
      }
      console.log(
        `20 concurrent LOOKUPs during a Redis pause: all ERR within ${took.toFixed(0)} ms`,
      );
      // One after another they would take 20 x 1 s; concurrently about one deadline.
      assertOk(took < 5000, `took ${took.toFixed(0)} ms`);
    } finally {
      await Promise.all(clients.map((s) => s.close()));
    }
    await redis.resume();
    // Redis works off what queued meanwhile, then answers again.
    const resumed = performance.now();
    while (await ask(owner, a.port, "LOOKUP MAX") !== `MAX 127.0.0.1 ${owner.addr.port}`) {
      assertOk(performance.now() - resumed < 5000, "not serving again after the pause");
    }
  },
);

redisTest(
  "CLIENT KILL of a binder's connection: one line lost, one line back, and it keeps serving",
  async () => {
    await using lab = await sharedTable(1);
    const { redis, binders: [a] } = lab;
    await using sock = rawSocket();
    assertEquals(await ask(sock, a.port, "REGISTER MAX"), "OK REGISTER MAX");
    assertEquals(await redis.clientKill(/^socklab-binder-\d+$/), 1);
    await a.proc.stdout.waitFor(/is back after/);
    const lines = a.proc.stdout.lines.filter((l) => /Redis/.test(l) && /lost|back/.test(l));
    assertEquals(lines.length, 2, lines.join("\n"));
    assertMatch(lines[0], /lost Redis .* \(connection closed by the server\); reconnecting$/);
    assertEquals(await ask(sock, a.port, "LOOKUP MAX"), `MAX 127.0.0.1 ${sock.addr.port}`);
  },
);

redisTest(
  "binder --redis at start-up: nothing listening, a Redis that does not answer, or a URL that is not Redis's: one line, exit 1, within seconds",
  async () => {
    const closed = freePort("tcp");
    let started = performance.now();
    const refused = await runCli(argv`binder --port 0 --redis redis://127.0.0.1:${closed}`);
    assertEquals([refused.code, refused.stdout], [1, ""]);
    assertEquals(
      refused.stderr,
      `socklab binder: cannot reach Redis redis://127.0.0.1:${closed}: connection refused\n`,
    );
    assertOk(performance.now() - started < 5000);

    await using redis = await RedisServer.start();
    await redis.pause();
    started = performance.now();
    const silent = await runCli(["binder", "--port", "0", "--redis", redis.url]);
    const took = performance.now() - started;
    await redis.resume();
    assertEquals(silent.code, 1);
    assertEquals(
      silent.stderr,
      `socklab binder: Redis ${redis.url} did not answer within 3000 ms\n`,
    );
    // 3 s deadline, plus Deno's start-up and loading node-redis (slow on a loaded machine).
    assertOk(took < 10_000, `gave up after ${took.toFixed(0)} ms`);

    const bad = await runCli(["binder", "--redis", "http://127.0.0.1:6379"]);
    assertEquals(bad.code, 1);
    assertMatch(
      bad.stderr,
      /^socklab binder: --redis: Cannot parse Redis URL "http:\/\/127\.0\.0\.1:6379": scheme "http" is not redis or rediss/,
    );
  },
);

redisTest(
  "exec-server --binder A,B keeps its records alive through B when A dies (one shared table)",
  async () => {
    const ttl = 3;
    await using lab = await sharedTable(3, ["--ttl", String(ttl)]);
    const { binders: [a, b, c] } = lab;
    const both = `${a.at()},${b.at()}`;
    await using x = await startExecServer(both, ["--commands", "MAX"]);
    assertMatch(
      x.proc.stdout.text,
      new RegExp(`registered MAX with binder 127\\.0\\.0\\.1:${a.port} `),
    );
    a.proc.kill("SIGKILL");
    await a.proc.exit();
    await x.proc.stdout.waitFor(
      new RegExp(
        `binder 127\\.0\\.0\\.1:${a.port} did not acknowledge the last REGISTER; re-registering with binder 127\\.0\\.0\\.1:${b.port}`,
      ),
      (ttl + 2) * 1000,
    );
    // Past a whole ttl after A died, C still names X every time.
    const died = performance.now();
    await using sock = rawSocket();
    while (performance.now() - died < (ttl + 0.5) * 1000) {
      assertEquals(await ask(sock, c.port, "LOOKUP MAX"), `MAX 127.0.0.1 ${x.port}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    x.proc.kill("SIGTERM");
    assertEquals((await x.proc.exit()).code, 0);
    assertMatch(
      x.proc.stdout.text,
      new RegExp(`unregistered from binder 127\\.0\\.0\\.1:${b.port} \\(1 record deleted\\)`),
    );
    assertEquals(await ask(sock, c.port, "LOOKUP MAX"), "ERR no server for MAX");
  },
);

redisTest(
  "binders on one Redis keep the security rules: a REGISTER replayed through another binder is refused, LIST stays within 512 B to a stranger",
  async () => {
    await using redis = await RedisServer.start();
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeTextFile(`${dir}/key`, "shared by every lab binder\n");
      const [a, b] = await binders(redis, 2, ["--key", `${dir}/key`]);
      await using _binders = disposeTogether(a, b);
      await using owner = rawSocket();
      await using stranger = UdpSocket.bind({ hostname: "127.0.0.2", port: 0 });
      const captured = signRegister(
        ["MAX"],
        new TextEncoder().encode("shared by every lab binder"),
      );
      assertEquals(await ask(owner, a.port, captured), "OK REGISTER MAX");
      assertEquals(
        await ask(stranger, b.port, captured),
        "ERR replayed REGISTER refused (this signature was used before)",
      );
      // 300 records from 10 signed servers: a stranger's 4-byte LIST gets at most 512 bytes.
      const servers = Array.from({ length: 10 }, () => rawSocket());
      const key = new TextEncoder().encode("shared by every lab binder");
      for (const s of servers) {
        const cmds = Array.from({ length: 30 }, (_, i) => `CMD${i}`);
        assertMatch(await ask(s, a.port, signRegister(cmds, key)), /^OK REGISTER/);
      }
      const got = await stranger.request(new TextEncoder().encode("LIST"), {
        hostname: "127.0.0.1",
        port: b.port,
      });
      console.log(`LIST through a Redis-backed binder: 4 B in, ${got.data.length} B out`);
      assertOk(got.data.length <= 512);
      const listed = await runCli(["exec-client", "--binder", b.at(), "--list"]);
      assertEquals(listed.stdout.split("\n")[0], `binder ${b.at()}: 301 records`);
      await Promise.all(servers.map((s) => s.close()));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
