/**
 * `deno task bundle` is the offline way to ship socklab as one file, and
 * `deno task install` puts it on PATH: prove the bundled file runs every
 * command's --help exactly as main.ts does, the demo, and a server/client
 * pair, and that the installed launcher runs without Deno on PATH.
 */
import { assertEquals, assertMatch, assertOk } from "./helpers/assert.ts";
import { portOf, ROOT, runCli, spawnProgram } from "./helpers/cli.ts";
import { COMMANDS, loadCommand } from "../lib/cli/commands.ts";
import { bundle } from "../scripts/bundle.ts";
import { which } from "../lib/cli/which.ts";

const OUT = `${ROOT}.cache/bundle-test`;
let built: Promise<string> | undefined;

/** The bundle, built once for this file (first use builds it). */
function bundled(): Promise<string> {
  built ??= (async () => {
    await Deno.mkdir(OUT, { recursive: true });
    const file = `${OUT}/socklab.js`;
    assertEquals(await bundle(file), 0, "deno bundle failed");
    return file;
  })();
  return built;
}

async function runBundle(file: string, args: string[], timeoutMs = 20_000) {
  const argv = [Deno.execPath(), "run", "-A", "--unstable-net", "--no-config", file, ...args];
  await using p = spawnProgram(argv, { stdin: false });
  const { code } = await p.exit(timeoutMs);
  return { code, stdout: p.stdout.text, stderr: p.stderr.text };
}

Deno.test("the bundle runs udp-server and udp-client", async () => {
  const file = await bundled();
  const run = [Deno.execPath(), "run", "-A", "--unstable-net", "--no-config", file];
  await using server = spawnProgram([...run, "udp-server", "--bind", "127.0.0.1", "--port", "0"]);
  const port = portOf(await server.stdout.waitFor(/waiting for data on port UDP \d+/));
  await using client = spawnProgram([
    ...run,
    "udp-client",
    "127.0.0.1",
    "bundled",
    "--port",
    `${port}`,
  ]);
  assertEquals((await client.exit()).code, 0, client.stderr.text);
  assertMatch(await server.stdout.waitFor(/ : bundled$/), /from 127\.0\.0\.1:UDP\d+ : bundled$/);
});

Deno.test("the bundle prints every command's --help exactly as main.ts does", async () => {
  const file = await bundled();
  const names = ["--help", ...COMMANDS.map((c) => c.name)];
  for (const name of names) {
    const args = name === "--help" ? [name] : [name, "--help"];
    const [fromBundle, fromMain] = await Promise.all([runBundle(file, args), runCli(args)]);
    assertEquals(fromBundle.code, 0, `${name}: ${fromBundle.stderr}`);
    assertEquals(fromBundle.stdout, fromMain.stdout, `${name} --help differs in the bundle`);
    assertOk(fromBundle.stdout.trim() !== "", `${name} --help printed nothing`);
  }
});

Deno.test("the bundle runs the demo to its end", async () => {
  const { code, stdout, stderr } = await runBundle(await bundled(), ["demo"], 120_000);
  assertEquals(code, 0, stderr);
  assertMatch(stdout, /demo: all \d+ steps got the expected reply/);
  // npm redis is loaded by the bundle too, when the scale-out section can run.
  if (which("redis-server")) assertMatch(stdout, /ok {3}a second alice, on B, is refused/);
});

Deno.test("deno task install writes a socklab launcher that needs no Deno on PATH", async () => {
  const prefix = await Deno.makeTempDir({ prefix: "socklab-install-" });
  try {
    const install = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "scripts/install.ts", "--prefix", prefix],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assertEquals(install.code, 0, new TextDecoder().decode(install.stderr));
    const out = await new Deno.Command(`${prefix}/bin/socklab`, {
      args: ["inet", "aton", "127.1"],
      clearEnv: true,
      env: { PATH: "/usr/bin:/bin" },
      stdout: "piped",
    }).output();
    assertEquals(out.code, 0);
    assertEquals(new TextDecoder().decode(out.stdout), "127.0.0.1  2130706433  0x7f000001\n");
    // node-redis was cached at install: --redis gets as far as connecting, in a clean environment.
    const denoDir = Deno.env.get("DENO_DIR");
    const redis = await new Deno.Command(`${prefix}/bin/socklab`, {
      args: ["binder", "--port", "0", "--bind", "127.0.0.1", "--redis", "redis://127.0.0.1:1"],
      clearEnv: true,
      env: {
        PATH: "/usr/bin:/bin",
        HOME: Deno.env.get("HOME") ?? prefix,
        ...(denoDir ? { DENO_DIR: denoDir } : {}),
      },
      stdout: "null",
      stderr: "piped",
    }).output();
    assertEquals(
      [redis.code, new TextDecoder().decode(redis.stderr)],
      [1, "socklab binder: cannot reach Redis redis://127.0.0.1:1: connection refused\n"],
    );
  } finally {
    await Deno.remove(prefix, { recursive: true });
  }
});

Deno.test("every command in the table loads and has a main()", async () => {
  for (const entry of COMMANDS) {
    const mod = await loadCommand(entry);
    assertEquals(typeof mod.main, "function", `${entry.name} (${entry.module})`);
  }
});
