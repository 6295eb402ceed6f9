import { assertEquals, assertMatch, assertOk } from "../helpers/assert.ts";
import { runCli } from "../helpers/cli.ts";
import { ask, listOfMaxMin, rawSocket, registerInto, startBinder } from "./lab.ts";

Deno.test("binder answers REGISTER, LOOKUP, LIST, TTL and UNREGISTER with the source address", async () => {
  await using binder = await startBinder(["--ttl", "30"]);
  await using server = rawSocket();
  await using client = rawSocket();
  const serverPort = server.addr.port;
  await registerInto(binder, server, "REGISTER MIN max\n", "MIN MAX");
  assertEquals(await ask(client, binder.port, "LOOKUP MAX"), `MAX 127.0.0.1 ${serverPort}`);
  assertEquals(await ask(client, binder.port, "lookup min"), `MIN 127.0.0.1 ${serverPort}`);
  assertEquals(await ask(client, binder.port, "LOOKUP SORTU"), "ERR no server for SORTU");
  assertMatch(
    await ask(client, binder.port, "LIST"),
    listOfMaxMin(serverPort),
  );
  assertEquals(await ask(client, binder.port, "TTL"), "OK TTL 30");
  assertEquals(await ask(server, binder.port, "UNREGISTER"), "OK UNREGISTER 2");
  await binder.proc.stdout.waitFor(
    /UNREGISTER from 127\.0\.0\.1:\d+ \(2 deleted\); table has 0 records/,
  );
  assertEquals(await ask(client, binder.port, "LOOKUP MAX"), "ERR no server for MAX");
  // The table is printed on every change, each record on its own row.
  const rows = binder.proc.stdout.lines.filter((l) =>
    /^ {2}M(AX|IN) +127\.0\.0\.1 +\d+ +in \d+ s$/.test(l)
  );
  assertEquals(rows.length, 2, "two rows after REGISTER");
  assertOk(
    binder.proc.stdout.lines.includes(`  MAX 127.0.0.1 ${serverPort}`),
    "UNREGISTER prints what it deletes",
  );
  binder.proc.kill("SIGTERM");
  assertEquals((await binder.proc.exit()).code, 0);
  assertEquals(binder.proc.stderr.text, "");
});

Deno.test("binder: REGISTER and UNREGISTER from another port cannot remove a live server's records", async () => {
  await using binder = await startBinder();
  await using server = rawSocket();
  await using intruder = rawSocket();
  assertEquals(await ask(server, binder.port, "REGISTER MAX"), "OK REGISTER MAX");
  assertEquals(await ask(intruder, binder.port, "UNREGISTER"), "OK UNREGISTER 0");
  assertMatch(
    await ask(intruder, binder.port, `UNREGISTER 127.0.0.1 ${server.addr.port}`),
    /^ERR UNREGISTER takes no arguments/,
  );
  // Registering the same command from elsewhere adds a record; it never replaces another's.
  assertEquals(await ask(intruder, binder.port, "REGISTER MAX"), "OK REGISTER MAX");
  assertEquals(await ask(intruder, binder.port, "UNREGISTER"), "OK UNREGISTER 1");
  const list = await ask(intruder, binder.port, "LIST MAX");
  assertMatch(list, new RegExp(`^OK LIST 1\nMAX 127\\.0\\.0\\.1 ${server.addr.port} \\d+$`));
  assertEquals(await ask(intruder, binder.port, "LOOKUP MAX"), `MAX 127.0.0.1 ${server.addr.port}`);
});

Deno.test("binder: a record not refreshed within --ttl expires and the table is printed", async () => {
  await using binder = await startBinder(["--ttl", "1"]);
  await using server = rawSocket();
  const registered = performance.now();
  assertEquals(await ask(server, binder.port, "REGISTER MAX"), "OK REGISTER MAX");
  await binder.proc.stdout.waitFor(
    new RegExp(
      `1 record expired \\(127\\.0\\.0\\.1:${server.addr.port} did not re-register within 1 s\\); table has 0 records`,
    ),
  );
  const took = performance.now() - registered;
  assertOk(took >= 950 && took < 3000, `expired after ${took.toFixed(0)} ms`);
  assertEquals(await ask(server, binder.port, "LOOKUP MAX"), "ERR no server for MAX");
});

Deno.test("binder: a refreshed record outlives the ttl", async () => {
  await using binder = await startBinder(["--ttl", "1"]);
  await using server = rawSocket();
  const started = performance.now();
  // Refresh every 300 ms for 1.8 s, each refresh waiting on the binder's reply.
  while (performance.now() - started < 1800) {
    assertEquals(await ask(server, binder.port, "REGISTER MAX"), "OK REGISTER MAX");
    assertEquals(await ask(server, binder.port, "LOOKUP MAX"), `MAX 127.0.0.1 ${server.addr.port}`);
    await new Promise((r) => setTimeout(r, 300));
  }
  assertOk(!binder.proc.stdout.text.includes("expired"), binder.proc.stdout.text);
});

Deno.test("binder survives binary, empty, huge and malformed requests with ERR replies", async () => {
  await using binder = await startBinder();
  await using sock = rawSocket();
  const cases: [string | Uint8Array, RegExp][] = [
    [new Uint8Array([0xff, 0xfe, 0x00, 0x41]), /^ERR request is not UTF-8 text$/],
    [new Uint8Array(0), /^ERR empty request$/],
    ["\n", /^ERR empty request$/],
    ["HELLO", /^ERR unknown request "HELLO"/],
    ["LOOKUP", /^ERR usage: LOOKUP CMD$/],
    ["LOOKUP a b", /^ERR usage: LOOKUP CMD$/],
    ["REGISTER", /^ERR REGISTER needs at least one command$/],
    ["REGISTER rm;sh", /^ERR bad command name "rm;sh"/],
    ["LOOKUP \x1b[2J", /^ERR bad command name "\\x1b\[2J"/],
    [`REGISTER ${"X".repeat(65_000)}`, /^ERR bad command name "X{40}\.\.\."/],
    [
      `REGISTER ${Array.from({ length: 65 }, (_, i) => `C${i}`).join(" ")}`,
      /^ERR too many commands for one server \(at most 64\)$/,
    ],
  ];
  for (const [request, reply] of cases) assertMatch(await ask(sock, binder.port, request), reply);
  assertEquals(
    await ask(sock, binder.port, "LOOKUP MAX"),
    "ERR no server for MAX",
    "still serving",
  );
  assertOk(!binder.proc.stderr.text.includes("at "), "no stack trace");
});

Deno.test("binder never answers a reply (OK/ERR), so two services cannot ping-pong", async () => {
  await using binder = await startBinder();
  await using sock = rawSocket();
  await sock.send("ERR something", { hostname: "127.0.0.1", port: binder.port });
  await sock.send("OK REGISTER MAX", { hostname: "127.0.0.1", port: binder.port });
  // The next reply on this socket must be the one to TTL: nothing came before it.
  assertEquals(await ask(sock, binder.port, "TTL"), "OK TTL 30");
});

Deno.test("binder --ttl 0 is a usage error with the usage line", async () => {
  const r = await runCli(["binder", "--ttl", "0"]);
  assertEquals(r.code, 2);
  assertMatch(
    r.stderr,
    /^socklab binder: Cannot parse --ttl "0": must be between 1 and 86400\nusage: socklab binder /,
  );
});
