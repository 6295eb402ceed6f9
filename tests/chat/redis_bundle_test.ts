/**
 * `deno task bundle` output runs `chat-server --redis`: two bundled
 * instances share one room (node-redis is imported by its pinned npm:
 * specifier only when --redis is given; tests/binder/redis_bundle_test.ts
 * checks that it is not inlined).
 */
import { assertEquals } from "../helpers/assert.ts";
import { portOf, ROOT, spawnProgram } from "../helpers/cli.ts";
import { RedisServer, redisTest } from "../helpers/redis.ts";
import { bundle } from "../../scripts/bundle.ts";
import { TcpPeer } from "./peers.ts";

redisTest("the bundle runs chat-server --redis: two bundled instances are one room", async () => {
  const dir = `${ROOT}.cache/bundle-chat-test`;
  await Deno.mkdir(dir, { recursive: true });
  const file = `${dir}/socklab.js`;
  assertEquals(await bundle(file), 0, "deno bundle failed");
  await using redis = await RedisServer.start();
  const run = [Deno.execPath(), "run", "-A", "--unstable-net", "--no-config", file];
  const servers = [0, 1].map(() =>
    spawnProgram(
      [...run, "chat-server", "--bind", "127.0.0.1", "--port", "0", "--redis", redis.url],
      { stdin: false, env: { DENO_TLS_CA_STORE: "mozilla,system" } },
    )
  );
  try {
    const [a, b] = await Promise.all(
      servers.map(async (s) => portOf(await s.stdout.waitFor(/listening on TCP/, 20_000))),
    );
    await using alice = await TcpPeer.connect(a);
    await using bob = await TcpPeer.connect(b);
    await alice.send("signin alice");
    await alice.log.waitFor("OK signed in as alice");
    await bob.send("signin bob", "chat hello across instances");
    await alice.log.waitFor("Msg bob says: hello across instances");
  } finally {
    await Promise.all(servers.map((s) => s[Symbol.asyncDispose]()));
  }
});
