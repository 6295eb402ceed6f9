/**
 * `deno task bundle` output runs `binder --redis`: node-redis stays out of
 * the bundle (inlined, its CommonJS made every bundled command load Deno's
 * Node layer at start-up) and is imported by its pinned npm: specifier only
 * when `--redis` is given.
 */
import { assertEquals, assertOk } from "../helpers/assert.ts";
import { portOf, ROOT, spawnProgram } from "../helpers/cli.ts";
import { RedisServer, redisTest } from "../helpers/redis.ts";
import { bundle } from "../../scripts/bundle.ts";
import { ask, rawSocket } from "./lab.ts";

redisTest("the bundle runs binder --redis, and carries no node-redis of its own", async () => {
  const dir = `${ROOT}.cache/bundle-binder-test`;
  await Deno.mkdir(dir, { recursive: true });
  const file = `${dir}/socklab.js`;
  assertEquals(await bundle(file), 0, "deno bundle failed");
  const text = await Deno.readTextFile(file);
  const pinned = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`)).imports.redis;
  assertOk(
    text.includes(`import(${JSON.stringify(pinned)})`),
    `no import(${pinned}) in the bundle`,
  );
  assertOk(!text.includes("createRequire"), "node-redis (CommonJS) was bundled in");

  await using redis = await RedisServer.start();
  const run = [Deno.execPath(), "run", "-A", "--unstable-net", "--no-config", file];
  const binders = [0, 1].map(() =>
    spawnProgram([...run, "binder", "--bind", "127.0.0.1", "--port", "0", "--redis", redis.url], {
      stdin: false,
      env: { DENO_TLS_CA_STORE: "mozilla,system" },
    })
  );
  try {
    const ports = await Promise.all(
      binders.map(async (b) => portOf(await b.stdout.waitFor(/listening on UDP/, 20_000))),
    );
    await using server = rawSocket();
    assertEquals(await ask(server, ports[0], "REGISTER MAX"), "OK REGISTER MAX");
    assertEquals(await ask(server, ports[1], "LOOKUP MAX"), `MAX 127.0.0.1 ${server.addr.port}`);
  } finally {
    await Promise.all(binders.map((b) => b[Symbol.asyncDispose]()));
  }
});
