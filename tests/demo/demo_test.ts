import { assertEquals, assertMatch, assertOk } from "../helpers/assert.ts";
import { runCli } from "../helpers/cli.ts";
import { demoCommand, runDemo } from "../../lib/demo/main.ts";
import { serveUdp } from "../../lib/net/udp_serve.ts";
import { SECTIONS } from "../../lib/demo/sections.ts";
import type { DemoSection } from "../../lib/demo/context.ts";
import { scaleOutSection } from "../../lib/demo/scaleout.ts";
import { redisTest } from "../helpers/redis.ts";

// In-process, so Deno's resource and op sanitizers prove that no section leaves
// a socket or a pending operation behind.
Deno.test("every demo section gets its expected replies and frees every socket", async () => {
  const lines: string[] = [];
  const result = await runDemo(SECTIONS, (l) => lines.push(l));
  assertEquals(result.failed, [], lines.join("\n"));
  assertOk(result.passed >= SECTIONS.length);
});

Deno.test("the demo exits 1, names each failed step on stderr, carries on, and frees the failed section's sockets", async () => {
  const broken: DemoSection = {
    title: "Broken",
    async run(ctx) {
      // A server the failing step leaves running: the runner must still stop it.
      const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
      ctx.track(serveUdp(conn, (d) => d.slice(), { signal: ctx.signal }));
      await ctx.step("expects the impossible", () => {
        ctx.expectEqual("reply", "other reply", "the reply");
        return Promise.resolve();
      });
      await ctx.step("never runs", () => Promise.resolve());
    },
  };
  const setUp: DemoSection = {
    title: "No server",
    run: () => Promise.reject(new Error("cannot bind UDP 127.0.0.1:1: permission denied")),
  };
  const fine: DemoSection = {
    title: "Fine",
    run: (ctx) => ctx.step("works", () => Promise.resolve()),
  };
  const out: string[] = [];
  const err: string[] = [];
  const code = await demoCommand([broken, setUp, fine], {
    print: (l) => out.push(l),
    printErr: (l) => err.push(l),
  });
  assertEquals(code, 1);
  assertEquals(err, [
    'socklab demo: step failed: Broken / expects the impossible: the reply: expected "other reply", got "reply"',
    "socklab demo: step failed: No server / (set-up): cannot bind UDP 127.0.0.1:1: permission denied",
  ]);
  assertOk(out.some((l) => l.includes("ok   works")), "the next section still ran");
  assertOk(!out.some((l) => l.includes("never runs")), "a section stops at its failed step");
  assertMatch(out.at(-1)!, /^demo: 1 steps ok, 2 failed \([\d.]+ s\)$/);
});

Deno.test("the demo exits 0 and says how many steps passed when all pass", async () => {
  const out: string[] = [];
  const code = await demoCommand(
    [{ title: "Fine", run: (ctx) => ctx.step("works", () => Promise.resolve()) }],
    { print: (l) => out.push(l), printErr: (l) => out.push(`stderr: ${l}`) },
  );
  assertEquals(code, 0);
  assertMatch(out.at(-1)!, /^demo: all 1 steps got the expected reply \([\d.]+ s\)$/);
});

Deno.test("socklab demo exits 0 by itself within 10 s with a plain transcript when piped", async () => {
  const started = performance.now();
  // In-process servers only: exiting by itself (not killed at 10 s) means
  // nothing was left running; the sanitizer test above proves every socket closed.
  const { code, stdout, stderr } = await runCli(["demo"], { timeoutMs: 10_000 });
  const secs = (performance.now() - started) / 1000;
  assertEquals(code, 0, stderr);
  assertMatch(stdout, /^demo: all \d+ steps got the expected reply/m);
  assertOk(!stdout.includes("\x1b["), "no colour when piped");
  assertOk(secs < 10, `demo took ${secs.toFixed(1)} s`);
});

redisTest(
  "the demo's scale-out section: two chat-servers share one room through a private redis-server",
  async () => {
    const lines: string[] = [];
    const result = await runDemo([scaleOutSection], (l) => lines.push(l));
    assertEquals(result.failed, [], lines.join("\n"));
    assertEquals(result.passed, 6, lines.join("\n"));
    assertOk(lines.some((l) => l.includes("[chat-client bob] Msg alice says: hello from A")));
  },
);

Deno.test("without redis-server on PATH the demo says the scale-out section was skipped, and still exits 0", async () => {
  const empty = await Deno.makeTempDir();
  try {
    const { code, stdout, stderr } = await runCli(["demo"], { env: { PATH: empty } });
    assertEquals(code, 0, stderr);
    assertMatch(stdout, /Scale-out[^\n]*\n\s+skipped: redis-server is not on PATH/);
  } finally {
    await Deno.remove(empty);
  }
});
