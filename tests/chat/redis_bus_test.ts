/**
 * The room contract on the Redis bus, against a real redis-server (one per
 * test, no persistence): the same behaviour tests as the in-process bus.
 */
import { RedisServer, redisTest } from "../helpers/redis.ts";
import { RedisBus } from "../../lib/chat/redis_bus.ts";
import { roomContract } from "./room_contract.ts";

roomContract("redis", async () => {
  const server = await RedisServer.start();
  const redis = await server.connect();
  const bus = await RedisBus.open(redis, { room: "contract", instance: "test/1", log: () => {} });
  return {
    bus,
    close: async () => {
      await redis.close();
      await server[Symbol.asyncDispose]();
    },
  };
}, (name, fn) => redisTest(name, fn));
