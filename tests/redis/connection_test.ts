import { assertEquals, assertMatch, assertOk, errorOf, throws } from "../helpers/assert.ts";
import { freePort } from "../helpers/cli.ts";
import { RedisServer, redisTest } from "../helpers/redis.ts";
import {
  backoffMs,
  connectRedis,
  parseRedisUrl,
  type RedisConnection,
  type RedisConnectOptions,
  redisFlag,
  RedisUnavailableError,
} from "../../lib/redis/connection.ts";
import { FailError } from "../../lib/cli/errors.ts";

/** Connects to `redis`; the connection's log lines are collected in its `lines`. */
async function connectLogged(
  redis: RedisServer,
  options: RedisConnectOptions = {},
): Promise<RedisConnection & { lines: string[] }> {
  const lines: string[] = [];
  return Object.assign(await redis.connect({ log: (l) => lines.push(l), ...options }), { lines });
}

/** Resolves when `conn` next reports the link down (`up` false) or back (`up` true). */
function nextStatus(conn: RedisConnection, up: boolean): Promise<void> {
  return new Promise((resolve) => conn.onStatus((now) => now === up && resolve()));
}

const GOOD: [string, string, { host: string; port: number; database: number; label: string }][] = [
  ["takes host and port", "redis://127.0.0.1:6380", {
    host: "127.0.0.1",
    port: 6380,
    database: 0,
    label: "redis://127.0.0.1:6380",
  }],
  ["defaults the port to 6379", "redis://localhost", {
    host: "localhost",
    port: 6379,
    database: 0,
    label: "redis://localhost",
  }],
  ["takes a database number and hides the password", "redis://user:secret@10.0.0.5:7000/3", {
    host: "10.0.0.5",
    port: 7000,
    database: 3,
    label: "redis://10.0.0.5:7000/3",
  }],
  ["takes a bracketed IPv6 host", "redis://[::1]:6390/", {
    host: "::1",
    port: 6390,
    database: 0,
    label: "redis://[::1]:6390",
  }],
];

for (const [name, text, want] of GOOD) {
  Deno.test(`parseRedisUrl() ${name}`, () => {
    const t = parseRedisUrl(text);
    assertEquals({ host: t.host, port: t.port, database: t.database, label: t.label }, want);
    assertEquals(t.url, text);
  });
}

const BAD: [string, string, RegExp][] = [
  ["a host without a scheme", "127.0.0.1:6379", /not a URL/],
  ["an http URL", "http://127.0.0.1:6379", /scheme "http" is not redis or rediss/],
  ["plain text", "localhost", /not a URL/],
  ["a port out of range", "redis://h:70000", /not a URL|port must be/],
  ["a database that is not a number", "redis://h:1/abc", /database "abc" is not a number/],
  ["a query", "redis://h:1/?db=2", /no query or fragment/],
  ["no host", "redis://:6379", /not a URL|no host/],
];

for (const [name, text, pattern] of BAD) {
  Deno.test(`parseRedisUrl() refuses ${name}`, () => {
    throws(() => parseRedisUrl(text), pattern, SyntaxError);
    throws(() => parseRedisUrl(text), /expected redis:\/\/\[\[USER\]:PASSWORD@\]HOST/, SyntaxError);
  });
}

Deno.test("redisFlag() turns a bad URL into one FailError line naming --redis", () => {
  throws(() => redisFlag("http://x"), /^--redis: Cannot parse Redis URL "http:\/\/x"/, FailError);
});

Deno.test("backoffMs() doubles from 50 ms up to the cap, with bounded jitter", () => {
  const noJitter = () => 0;
  assertEquals([0, 1, 2, 3, 10, 40].map((n) => backoffMs(n, 2000, noJitter)), [
    50,
    100,
    200,
    400,
    2000,
    2000,
  ]);
  assertOk(backoffMs(0, 2000, () => 0.999) <= 149);
});

Deno.test("connectRedis() with nothing listening fails at once with one line", async () => {
  const port = freePort("tcp");
  const started = performance.now();
  const err = await errorOf(connectRedis(parseRedisUrl(`redis://127.0.0.1:${port}`)));
  assertOk(err instanceof RedisUnavailableError, String(err));
  assertEquals(
    err.message,
    `cannot reach Redis redis://127.0.0.1:${port}: connection refused`,
  );
  // No retries and no time-out wait (loading node-redis the first time is most of it).
  assertOk(performance.now() - started < 3000);
});

redisTest(
  "connectRedis() gives up on a Redis that does not answer within the time-out",
  async () => {
    await using redis = await RedisServer.start();
    await redis.pause(); // TCP is accepted by the kernel, nothing answers
    const started = performance.now();
    const err = await errorOf(connectRedis(parseRedisUrl(redis.url), { connectTimeoutMs: 500 }));
    const took = performance.now() - started;
    await redis.resume();
    assertOk(err instanceof RedisUnavailableError, String(err));
    assertEquals(err.message, `Redis ${redis.url} did not answer within 500 ms`);
    assertOk(took >= 450 && took < 3000, `gave up after ${took.toFixed(0)} ms`);
  },
);

redisTest(
  "RedisConnection logs one line when the link is lost and one when it is back (CLIENT KILL)",
  async () => {
    await using redis = await RedisServer.start();
    await using conn = await connectLogged(redis, {
      prefix: "socklab test",
      clientName: "conn-under-test",
    });
    const events: boolean[] = [];
    const back = new Promise<void>((resolve) =>
      conn.onStatus((up) => {
        events.push(up);
        if (up) resolve();
      })
    );
    assertEquals(await conn.client.set("k", "v"), "OK");
    assertOk(conn.isUp);
    assertEquals(await redis.clientKill("conn-under-test"), 1);
    await back;
    assertEquals(events, [false, true]);
    assertEquals(conn.lines.length, 2, conn.lines.join("\n"));
    assertMatch(
      conn.lines[0],
      /^socklab test: lost Redis redis:\/\/127\.0\.0\.1:\d+ \(connection closed by the server\); reconnecting$/,
    );
    assertMatch(
      conn.lines[1],
      /^socklab test: Redis redis:\/\/127\.0\.0\.1:\d+ is back after [\d.]+ s$/,
    );
    assertEquals(await conn.client.get("k"), "v");
  },
);

redisTest(
  "RedisConnection rejects commands at once while Redis is down and recovers after a restart",
  async () => {
    await using redis = await RedisServer.start();
    await using conn = await connectLogged(redis, { maxBackoffMs: 200 });
    const down = nextStatus(conn, false);
    await redis.kill();
    await down;
    const started = performance.now();
    const err = await errorOf(conn.client.get("k"));
    assertOk(err instanceof Error, "a command while down is rejected");
    assertOk(performance.now() - started < 500, "at once, not after a time-out");
    assertOk(!conn.isUp);
    const back = nextStatus(conn, true);
    await redis.restart();
    await back;
    assertEquals(await conn.client.set("k", "again"), "OK");
    assertEquals(conn.lines.length, 2, conn.lines.join("\n"));
    assertMatch(conn.lines[0], /lost Redis .*\(connection (closed by the server|reset|refused)\)/);
    assertMatch(conn.lines[1], /is back after/);
  },
);

redisTest(
  "RedisConnection sees a paused Redis through its health PING and a deadline bounds commands",
  async () => {
    await using redis = await RedisServer.start();
    await using conn = await connectLogged(redis, {
      healthIntervalMs: 100,
      healthTimeoutMs: 300,
    });
    const down = nextStatus(conn, false);
    await redis.pause();
    await down;
    const started = performance.now();
    const err = await errorOf(conn.client.withCommandOptions(conn.commandOptions(200)).get("k"));
    assertOk(err instanceof Error, "a command with a deadline is rejected");
    const took = performance.now() - started;
    assertOk(took < 1000, `after ${took.toFixed(0)} ms`);
    const back = nextStatus(conn, true);
    await redis.resume();
    await back;
    assertMatch(conn.lines[0], /lost Redis .*\(not answering within 300 ms\); reconnecting$/);
    assertMatch(conn.lines[1], /is back after/);
  },
);

redisTest(
  "RedisConnection.duplicate() gives a second connection for blocking reads, closed with it",
  async () => {
    await using redis = await RedisServer.start();
    const conn = await connectRedis(parseRedisUrl(redis.url), { clientName: "dup-test" });
    const reader = await conn.duplicate();
    const blocked = reader.xRead({ key: "s", id: "$" }, { BLOCK: 5000 });
    await conn.client.xAdd("s", "*", { line: "hello" });
    const got = await blocked;
    assertEquals(JSON.stringify(got).includes("hello"), true, JSON.stringify(got));
    assertEquals((await redis.clientNames()).filter((n) => n === "dup-test").length, 2);
    await conn.close();
    assertOk(!reader.isOpen);
  },
);
