/**
 * Demo section for the scale-out: two chat-server instances serve one room
 * through a private redis-server, alice on one and bob on the other. Without
 * redis-server on PATH the section says so plainly and runs no step.
 * @module
 */
import { openRedisRoom } from "../chat/server.ts";
import { runTcpChatServer } from "../chat/tcp_server.ts";
import { startPrivateRedis } from "../redis/private_server.ts";
import type { DemoContext, DemoSection } from "./context.ts";
import { aliceThenBob, secondAliceRefused, talkThenWho } from "./chat.ts";
import { addressText } from "./services.ts";

/** One room, two instances: lines, `who` and unique names cross instances. */
export const scaleOutSection: DemoSection = {
  title: "Scale-out: one chat room on two chat-servers through Redis (chat-server --redis)",
  async run(ctx) {
    const redis = await startPrivateRedis();
    if (!redis) {
      ctx.say("skipped: redis-server is not on PATH (apt-get install redis-server), no step run");
      return;
    }
    ctx.say(`redis-server (private, no persistence) at ${redis.url}`);
    // Redis goes last: once the section ends, after both instances have stopped.
    const instances: Promise<unknown>[] = [];
    ctx.track(
      new Promise((ended) => ctx.signal.addEventListener("abort", ended, { once: true }))
        .then(() => Promise.allSettled(instances))
        .finally(() => redis[Symbol.asyncDispose]()),
    );
    const a = await startInstance(ctx, redis.url, "A", instances);
    const b = await startInstance(ctx, redis.url, "B", instances);
    const { alice, bob } = await aliceThenBob(ctx, [a.port, b.port], [" on A", " on B"]);
    await talkThenWho(ctx, { alice, bob }, "hello from A", [
      "alice's line on A reaches bob on B, and alice",
      "/who on B lists the members of both instances, in sign-in order",
    ]);
    await secondAliceRefused(
      ctx,
      b.port,
      "a second alice, on B, is refused: names are unique across instances",
    );
    await ctx.step("bob signs out on B; alice, on A, is told", async () => {
      bob.input.end();
      await bob.done;
      await alice.out.waitFor("*** bob left");
    });
    alice.input.end();
    await alice.done;
  },
};

/** Starts one chat-server instance on a free port in the room "demo". */
async function startInstance(
  ctx: DemoContext,
  url: string,
  label: string,
  running: Promise<unknown>[],
): Promise<Deno.NetAddr> {
  const out = ctx.writer(`chat-server ${label}`);
  const room = await openRedisRoom(url, out.log);
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const where = addressText(listener.addr);
  const bus = await room.join("demo", `tcp/${where}`);
  out.log(`chat-server --redis ${url} --room demo on ${where}`);
  const served = runTcpChatServer(listener, { signal: ctx.signal, log: out.log, bus })
    .finally(async () => {
      await bus.close();
      await room.close();
    });
  running.push(ctx.track(served));
  return listener.addr as Deno.NetAddr;
}
