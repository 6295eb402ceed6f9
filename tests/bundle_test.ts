import { assertEquals, assertMatch } from "./helpers/assert.ts";
import { portOf, ROOT, spawnProgram } from "./helpers/cli.ts";
import { COMMANDS, loadCommand } from "../lib/cli/commands.ts";

// `deno task bundle` is the offline way to ship socklab as one file: prove the
// bundle runs a server/client pair.
Deno.test("the bundle runs udp-server and udp-client", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = `${dir}/socklab.js`;
    const bundle = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "scripts/bundle.ts", out],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assertEquals(bundle.code, 0, new TextDecoder().decode(bundle.stderr));
    const run = [Deno.execPath(), "run", "-A", "--unstable-net", "--no-config", out];
    await using server = spawnProgram([...run, "udp-server", "--bind", "127.0.0.1", "--port", "0"]);
    const port = portOf(await server.stdout.waitFor(/waiting for data on port UDP \d+/));
    await using client = spawnProgram([
      ...run,
      "udp-client",
      "127.0.0.1",
      "bundled",
      "--port",
      String(port),
    ]);
    assertEquals((await client.exit()).code, 0, client.stderr.text);
    assertMatch(await server.stdout.waitFor(/ : bundled$/), /from 127\.0\.0\.1:UDP\d+ : bundled$/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("every command in the table loads and has a main()", async () => {
  for (const entry of COMMANDS) {
    const mod = await loadCommand(entry);
    assertEquals(typeof mod.main, "function", `${entry.name} (${entry.module})`);
  }
});
