/**
 * Demo section for exercise 4a: a binder, two exec servers, a client's calls,
 * then one server crashes (the client fails over and the binder lets its
 * records expire) and the other stops cleanly (its records vanish at once).
 * The ttl is 1 s and the client's time-out 150 ms, so the section stays fast.
 * @module
 */
import type { HostPort } from "../net/address.ts";
import { ExecClient } from "../exec/client.ts";
import type { DemoContext, DemoSection, Transcript } from "./context.ts";
import { startInDemo } from "./services.ts";

const BIG = "1234567890123456789012345678901234567890";

/** Starts one exec server in-process; resolves once it has registered. */
async function startExecServer(
  ctx: DemoContext,
  binder: HostPort,
  out: Transcript,
  options: { signal: AbortSignal; unregisterOnExit: boolean },
): Promise<{ port: number; running: Promise<void> }> {
  const server = await startInDemo(ctx, "exec-server", out, {
    signal: options.signal,
    binder,
    timeoutMs: 500,
    unregisterOnExit: options.unregisterOnExit,
  });
  const { port } = server.addr;
  const running = server.running;
  return { port, running };
}

/** Exercise 4a: binder, two exec servers, exec-client, crash and fail-over. */
export const binderSection: DemoSection = {
  title: "Exercise 4a: binder, two exec servers, exec-client with fail-over",
  async run(ctx) {
    const binderOut = ctx.writer("binder");
    const binderService = await startInDemo(ctx, "binder", binderOut, { ttlSeconds: 1 });
    const binder = { hostname: "127.0.0.1", port: binderService.addr.port };

    const crash = new AbortController();
    const stopB = new AbortController();
    const a = await startExecServer(ctx, binder, ctx.writer("exec-server A"), {
      signal: AbortSignal.any([ctx.signal, crash.signal]),
      unregisterOnExit: false, // A will "crash": it never says goodbye
    });
    const bOut = ctx.writer("exec-server B");
    const b = await startExecServer(ctx, binder, bOut, {
      signal: AbortSignal.any([ctx.signal, stopB.signal]),
      unregisterOnExit: true,
    });

    const clientOut = ctx.writer("exec-client");
    await using client = new ExecClient({
      binder,
      timeoutMs: 150,
      retries: 1,
      signal: ctx.signal,
      onFailover: (s) =>
        clientOut.log(`${s.hostname}:${s.port} did not answer in 150 ms; asking the binder again`),
    });
    const call = async (line: string, expected: string) => {
      clientOut.log(`> ${line}`);
      const r = await client.call(line);
      clientOut.log(r.reply);
      ctx.expectEqual(r.reply, expected, line);
      return r;
    };

    await ctx.step("the client looks each command up and calls the server named", async () => {
      await call("MAX 1 2 3 4", "MAX 4");
      await call("SORTU 8 1 4 0", "SORTU 0 1 4 8");
      await call(`MIN ${BIG} -${BIG} 7`, `MIN -${BIG}`);
      await call("REVERSE 1 2 3", "REVERSE 3 2 1");
    });

    await ctx.step("server A crashes (no UNREGISTER): the client fails over to B", async () => {
      crash.abort();
      await a.running;
      ctx.say(`exec-server A (port ${a.port}) is gone; the binder still names it until its ttl`);
      // The binder picks at random: call until it has named A once (P(12 misses) = 1/4096).
      let failovers = 0;
      for (let i = 1; i <= 12 && failovers === 0; i++) {
        const r = await call(`MAX ${i} ${i * 10} -${i}`, `MAX ${i * 10}`);
        ctx.expectEqual(r.server?.port, b.port, "the server that answered");
        failovers += r.failovers;
      }
      ctx.say(
        failovers > 0 ? "the fail-over was invisible to the caller" : "(the binder never named A)",
      );
    });

    await ctx.step("the binder drops A when its record expires (ttl 1 s)", async () => {
      await binderOut.waitFor(new RegExp(`127\\.0\\.0\\.1:${a.port} did not re-register`), 2500);
      const list = await client.list("MAX");
      ctx.expectEqual(
        "error" in list ? list.error : list.records.map((r) => r.port),
        [b.port],
        "servers offering MAX",
      );
    });

    await ctx.step("server B stops cleanly: its records vanish at once", async () => {
      stopB.abort();
      await b.running;
      await bOut.waitFor(/unregistered/);
      await call("MAX 1 2", "ERR no server for MAX");
    });
  },
};
