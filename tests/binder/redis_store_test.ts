import { storeContract } from "./store_contract.ts";
import { RedisStore, StoreUnavailableError } from "../../lib/binder/redis_store.ts";
import { RedisServer, redisTest } from "../helpers/redis.ts";
import { assertEquals, assertOk, errorOf } from "../helpers/assert.ts";

// Each case gets its own redis-server, stopped when its store closes.
storeContract(
  "RedisStore:",
  async (o) => {
    const server = await RedisServer.start();
    const redis = await server.connect();
    const store = new RedisStore(redis, { ttlMs: o.ttlMs ?? 30_000, ...o });
    const close = store.close.bind(store);
    store.close = async () => {
      await close();
      await server[Symbol.asyncDispose]();
    };
    return store;
  },
  (name, fn) => redisTest(name, fn),
);

redisTest("RedisStore: two binders' stores on one Redis share one table", async () => {
  await using server = await RedisServer.start();
  const shared = { ttlMs: 30_000, prefix: "shared:" };
  const a = new RedisStore(await server.connect(), shared);
  const b = new RedisStore(await server.connect(), shared);
  try {
    await a.register("10.0.0.1", 4001, ["MAX"]);
    assertEquals((await b.lookup("MAX"))?.port, 4001);
    assertEquals((await b.unregister("10.0.0.1", 4001)).length, 1, "removed through the other");
    assertEquals(await a.lookup("MAX"), undefined);
  } finally {
    await a.close();
    await b.close();
  }
});

redisTest(
  "RedisStore: with Redis gone, every operation fails at once with StoreUnavailableError",
  async () => {
    await using redis = await RedisServer.start();
    const conn = await redis.connect();
    const store = new RedisStore(conn, { ttlMs: 30_000 });
    try {
      const down = new Promise<void>((r) => conn.onStatus((up) => !up && r()));
      await redis.kill();
      await down;
      const started = performance.now();
      const err = await errorOf(store.lookup("MAX"));
      assertOk(err instanceof StoreUnavailableError, String(err));
      assertEquals(err.message, `Redis ${redis.url} is down`);
      assertOk(performance.now() - started < 100);
    } finally {
      await store.close();
    }
  },
);
