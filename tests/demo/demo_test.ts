import { assertEquals, assertMatch, assertOk } from "../helpers/assert.ts";
import { runCli } from "../helpers/cli.ts";
import { runDemo } from "../../lib/demo/main.ts";
import { SECTIONS } from "../../lib/demo/sections.ts";
import type { DemoSection } from "../../lib/demo/context.ts";

// In-process, so Deno's resource and op sanitizers prove that no section leaves
// a socket or a pending operation behind.
Deno.test("every demo section gets its expected replies and frees every socket", async () => {
  const lines: string[] = [];
  const result = await runDemo(SECTIONS, (l) => lines.push(l));
  assertEquals(result.failed, [], lines.join("\n"));
  assertOk(result.passed >= SECTIONS.length);
});

Deno.test("the demo names a failed step and carries on with the next section", async () => {
  const broken: DemoSection = {
    title: "Broken",
    async run(ctx) {
      await ctx.step("expects the impossible", () => {
        ctx.expectEqual("reply", "other reply", "the reply");
        return Promise.resolve();
      });
    },
  };
  const fine: DemoSection = {
    title: "Fine",
    run: (ctx) => ctx.step("works", () => Promise.resolve()),
  };
  const lines: string[] = [];
  const result = await runDemo([broken, fine], (l) => lines.push(l));
  assertEquals(result.passed, 1);
  assertEquals(result.failed, [{
    section: "Broken",
    step: "expects the impossible",
    reason: 'the reply: expected "other reply", got "reply"',
  }]);
});

Deno.test("socklab demo exits 0 with a plain transcript when piped", async () => {
  const started = performance.now();
  const { code, stdout, stderr } = await runCli(["demo"]);
  const secs = (performance.now() - started) / 1000;
  assertEquals(code, 0, stderr);
  assertMatch(stdout, /^demo: all \d+ steps got the expected reply/m);
  assertOk(!stdout.includes("\x1b["), "no colour when piped");
  assertOk(secs < 10, `demo took ${secs.toFixed(1)} s`);
});
