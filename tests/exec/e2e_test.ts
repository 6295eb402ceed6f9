import { assertEquals, assertMatch, assertOk } from "../helpers/assert.ts";
import { argv, freePort, runCli, spawnCli } from "../helpers/cli.ts";
import { ask, rawSocket, startBinder, startExecServer } from "../binder/lab.ts";

const BIG = "1234567890123456789012345678901234567890"; // 40 digits
const BIGGER = "9876543210987654321098765432109876543210";

/** Counts how often each exec server answers LOOKUP MAX in `n` look-ups. */
async function lookupCounts(binderPort: number, n: number): Promise<Map<number, number>> {
  await using sock = rawSocket();
  const counts = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const reply = await ask(sock, binderPort, "LOOKUP MAX");
    const m = reply.match(/^MAX 127\.0\.0\.1 (\d+)$/);
    assertOk(m, reply);
    const port = Number(m[1]);
    counts.set(port, (counts.get(port) ?? 0) + 1);
  }
  return counts;
}

Deno.test("two exec servers offering MAX: 200 look-ups are spread fairly and the results are exact", async () => {
  await using binder = await startBinder();
  await using a = await startExecServer(binder.port, ["--commands", "MAX"]);
  await using b = await startExecServer(binder.port, ["--commands", "MAX,MIN,SORTU"]);

  const counts = await lookupCounts(binder.port, 200);
  assertEquals([...counts.keys()].sort(), [a.port, b.port].sort());
  // Binomial(200, 1/2): 100 ± 7; a share below 60 has probability < 1e-8.
  assertOk(counts.get(a.port)! >= 60 && counts.get(b.port)! >= 60, JSON.stringify([...counts]));

  // The client, scripted through a pipe: each line looked up and answered.
  const lines = [
    "MAX 1 2 3 4",
    `MAX ${BIG} -${BIGGER} ${BIGGER}`,
    `MAX -${BIG} -${BIGGER}`,
    "max -5 -3 -4",
    `MIN ${BIG} -${BIG} 0`,
    `SORTU 8 1 -${BIGGER} 4 0`,
  ];
  const r = await runCli(["exec-client", "--binder", binder.at(), "-v"], {
    stdin: lines.join("\n") + "\n",
  });
  assertEquals(r.stdout.split("\n").slice(0, 6), [
    "MAX 4",
    `MAX ${BIGGER}`,
    `MAX -${BIG}`,
    "MAX -3",
    `MIN -${BIG}`,
    `SORTU -${BIGGER} 0 1 4 8`,
  ]);
  assertEquals(r.code, 0);
  assertMatch(r.stderr, /answered by 127\.0\.0\.1:\d+ in [\d.]+ ms/);

  // One-shot, with negative numbers as arguments rather than flags.
  const one = await runCli(argv`exec-client --binder ${binder.at()} MAX -7 -${BIG}`);
  assertEquals([one.code, one.stdout, one.stderr], [0, "MAX -7\n", ""]);
});

Deno.test("SIGKILL one exec server: the client fails over silently and the binder drops it within ttl", async () => {
  const ttl = 3;
  await using binder = await startBinder(["--ttl", String(ttl)]);
  await using dead = await startExecServer(binder.port, ["--commands", "MAX"]);
  await using live = await startExecServer(binder.port, ["--commands", "MAX"]);
  assertMatch(live.proc.stdout.text, /records live 3 s; re-registering every 1 s/);

  dead.proc.kill("SIGKILL");
  await dead.proc.exit();
  const killedAt = performance.now();

  // 20 calls: the binder still names the dead server about half the time until
  // its record expires; every call must still get the right answer.
  const lines = Array.from({ length: 20 }, (_, i) => `MAX ${i} ${BIG} -${i}`);
  const client = spawnCli(argv`exec-client --binder ${binder.at()} --timeout 200 -v`);
  await using _c = client;
  await client.write(lines.join("\n") + "\n");
  await client.closeStdin();
  const status = await client.exit(20_000);
  assertEquals(status.code, 0, client.stderr.text);
  assertEquals(client.stdout.lines, lines.map(() => `MAX ${BIG}`));
  // -v names each fail-over; nothing else on stderr is an error.
  const failovers = client.stderr.lines.filter((l) =>
    l ===
      `socklab exec-client: MAX server ${dead.at()} did not answer within 200 ms; asking the binder again`
  );
  const answered = client.stderr.lines.filter((l) =>
    new RegExp(`^socklab exec-client: answered by 127\\.0\\.0\\.1:${live.port} in `).test(l)
  );
  assertEquals(answered.length, 20, client.stderr.text);
  assertEquals(failovers.length + answered.length, client.stderr.lines.length, client.stderr.text);
  assertOk(failovers.length >= 1, "the dead server was named at least once (P of none < 1e-5)");

  // The binder stops naming it within ttl (plus the timer's slack).
  await binder.proc.stdout.waitFor(
    new RegExp(`1 record expired \\(127\\.0\\.0\\.1:${dead.port} did not re-register`),
    (ttl + 2) * 1000,
  );
  const took = performance.now() - killedAt;
  assertOk(took < (ttl + 1) * 1000, `expired ${took.toFixed(0)} ms after the kill`);
  const counts = await lookupCounts(binder.port, 50);
  assertEquals([...counts.keys()], [live.port]);

  // Without -v the fail-over is invisible: no stderr at all.
  const quiet = await runCli(argv`exec-client --binder ${binder.at()} MAX 1 2`);
  assertEquals([quiet.code, quiet.stdout, quiet.stderr], [0, "MAX 2\n", ""]);
});

Deno.test("SIGINT on an exec server: its records vanish from the binder at once", async () => {
  await using binder = await startBinder();
  await using server = await startExecServer(binder.port);
  await using sock = rawSocket();
  assertMatch(await ask(sock, binder.port, "LIST"), /^OK LIST 8\n/);
  server.proc.kill("SIGINT");
  const status = await server.proc.exit();
  assertEquals(status.code, 0);
  assertMatch(
    server.proc.stdout.text,
    /unregistered from binder 127\.0\.0\.1:\d+ \(8 records deleted\)/,
  );
  // Straight after the exit, without waiting for any ttl:
  assertEquals(await ask(sock, binder.port, "LIST"), "OK LIST 0");
  assertEquals(await ask(sock, binder.port, "LOOKUP MAX"), "ERR no server for MAX");
  assertMatch(
    binder.proc.stdout.text,
    new RegExp(`UNREGISTER from 127\\.0\\.0\\.1:${server.port} \\(8 deleted\\)`),
  );
  assertEquals(server.proc.stderr.text, "");
});

Deno.test("exec-server survives malformed requests with ERR replies and keeps serving", async () => {
  await using binder = await startBinder();
  await using server = await startExecServer(binder.port, ["--commands", "MIN,MAX"]);
  await using sock = rawSocket();
  const many = Array.from({ length: 10_001 }, () => "1").join(" ");
  const cases: [string | Uint8Array, RegExp][] = [
    [new Uint8Array([0xff, 0x00, 0xfe]), /^ERR request is not UTF-8 text$/],
    [new Uint8Array(0), /^ERR empty request$/],
    ["MAX", /^ERR MAX needs at least one integer$/],
    ["MAX 1 two", /^ERR not an integer: "two"$/],
    ["MAX 1; rm -rf /", /^ERR not an integer: "1;"$/],
    ["SORTU 2 1", /^ERR command not offered here "SORTU" \(offered: MIN, MAX\)$/],
    ["sh -c id", /^ERR unknown command "sh"/],
    [`MAX ${many}`, /^ERR too many arguments: 10001 \(at most 10000\)$/],
    [`MAX ${"9".repeat(65_000)}`, /^MAX 9{65000}$/],
    [`MAX ${"x".repeat(65_000)}`, /^ERR not an integer: "x{40}\.\.\."$/],
  ];
  for (const [request, reply] of cases) assertMatch(await ask(sock, server.port, request), reply);
  assertEquals(await ask(sock, server.port, "MAX 1 2\n"), "MAX 2", "still serving");
  assertOk(!server.proc.stderr.text.includes("at "), "no stack trace");
});

Deno.test("exec-client reports what failed in one line with exit 1", async () => {
  await using binder = await startBinder();
  const none = await runCli(["exec-client", "--binder", binder.at(), "MAX", "1"]);
  assertEquals([none.code, none.stdout, none.stderr], [
    1,
    "",
    "socklab exec-client: ERR no server for MAX (the binder has no records)\n",
  ]);

  const port = freePort("udp");
  const gone = await runCli(
    argv`exec-client --binder 127.0.0.1:${port} --timeout 100 --retries 1 MAX 1`,
  );
  assertEquals(gone.code, 1);
  assertEquals(
    gone.stderr,
    `socklab exec-client: no reply from binder 127.0.0.1:${port}: connection refused (nothing listens on that port)\n`,
  );

  const usage = await runCli(["exec-client", "--timeout", "x", "MAX", "1"]);
  assertEquals(usage.code, 2);
  assertMatch(
    usage.stderr,
    /^socklab exec-client: Cannot parse --timeout "x".*\nusage: socklab exec-client /,
  );
});

Deno.test("exec-server with no binder answering exits 1 with one line", async () => {
  const port = freePort("udp");
  const r = await runCli(argv`exec-server --binder 127.0.0.1:${port} --timeout 100 --retries 0`);
  assertEquals(r.code, 1);
  assertEquals(
    r.stderr,
    `socklab exec-server: no reply from binder 127.0.0.1:${port} after 1 try\n`,
  );
  const bad = await runCli(["exec-server", "--commands", "MAX,rm"]);
  assertEquals(bad.code, 2);
  assertMatch(bad.stderr, /^socklab exec-server: --commands: Unknown command "rm"/);
});

Deno.test("exec-client --list prints the binder's table", async () => {
  await using binder = await startBinder();
  await using server = await startExecServer(binder.port, ["--commands", "SORTU"]);
  const r = await runCli(["exec-client", "--binder", binder.at(), "--list"]);
  assertEquals(r.code, 0);
  const p = server.port;
  assertMatch(
    r.stdout,
    new RegExp(
      `^binder 127\\.0\\.0\\.1:${binder.port}: 2 records\n  COMMAND +IP +PORT +EXPIRES\n  SORT-UP +127\\.0\\.0\\.1 +${p} +in \\d+ s\n  SORTU +127\\.0\\.0\\.1 +${p} +in \\d+ s\n$`,
    ),
  );
});

Deno.test("exec-client shows a hostile server's escape codes as text, not as terminal commands", async () => {
  await using binder = await startBinder();
  await using fake = rawSocket(); // registers, then answers like a server would, but hostile
  assertEquals(await ask(fake, binder.port, "REGISTER MAX"), "OK REGISTER MAX");
  const client = spawnCli(["exec-client", "--binder", binder.at(), "MAX", "1"]);
  await using _c = client;
  const got = await fake.receive(10_000);
  assertOk(got, "the client called the registered address");
  assertEquals(new TextDecoder().decode(got[0]), "MAX 1");
  await fake.send("MAX \x1b[2J\x1b]0;owned\x07 1\n", got[1]);
  assertEquals((await client.exit()).code, 0);
  assertEquals(client.stdout.text, "MAX \\x1b[2J\\x1b]0;owned\\x07 1\n");
});

Deno.test("exec-client gives up with ERR no server for CMD once every server has had its tries", async () => {
  await using binder = await startBinder();
  await using silent = rawSocket(); // registered, then never answers: a hung server
  assertEquals(await ask(silent, binder.port, "REGISTER MAX"), "OK REGISTER MAX");
  const r = await runCli(
    argv`exec-client --binder ${binder.at()} --timeout 100 --retries 2 -v MAX 1`,
  );
  assertEquals(r.code, 1);
  const lines = r.stderr.trimEnd().split("\n");
  assertEquals(lines.length, 4, r.stderr);
  for (const line of lines.slice(0, 3)) {
    assertMatch(line, /did not answer within 100 ms; asking the binder again$/);
  }
  assertEquals(lines[3], "socklab exec-client: ERR no server for MAX");
});

Deno.test("exec-client's prompt loop ends with exit 0 on SIGINT", async () => {
  await using binder = await startBinder();
  await using _server = await startExecServer(binder.port, ["--commands", "MAX"]);
  await using client = spawnCli(["exec-client", "--binder", binder.at()]);
  await client.write("MAX 1 2\n");
  await client.stdout.waitFor("MAX 2");
  client.kill("SIGINT"); // stdin is still open: the loop is waiting for a line
  assertEquals((await client.exit(5000)).code, 0);
  assertEquals(client.stderr.text, "");
});

Deno.test("exec-server and exec-client --binder A,B: a first binder that does not answer is passed over", async () => {
  await using binder = await startBinder();
  const dead = freePort("udp");
  const list = `127.0.0.1:${dead},${binder.at()}`;
  await using server = await startExecServer(list, ["--commands", "MAX", "--timeout", "200"]);
  assertMatch(
    server.proc.stdout.text,
    new RegExp(`registered MAX with binder 127\\.0\\.0\\.1:${binder.port} `),
  );
  assertMatch(
    server.proc.stdout.text,
    new RegExp(`binder 127\\.0\\.0\\.1:${dead}.*; trying the next binder`),
  );
  const r = await runCli(["exec-client", "--binder", list, "--timeout", "200", "MAX", "1", "2"]);
  assertEquals([r.code, r.stdout, r.stderr], [0, "MAX 2\n", ""]);
  const none = await runCli(
    argv`exec-client --binder 127.0.0.1:${dead},127.0.0.1:${
      freePort("udp")
    } --timeout 100 --retries 0 MAX 1`,
  );
  assertEquals(none.code, 1);
  assertMatch(
    none.stderr,
    /^socklab exec-client: no reply from binder 127\.0\.0\.1:\d+(: connection refused.*| after 1 try)\n$/,
  );
  const bad = await runCli(["exec-client", "--binder", `${binder.at()},`, "MAX", "1"]);
  assertEquals(bad.code, 2);
  assertMatch(bad.stderr, /^socklab exec-client: --binder: empty address/);
});

Deno.test("exec-client --json: one document per call (one line each in the prompt loop), --list too", async () => {
  await using binder = await startBinder();
  await using server = await startExecServer(binder.port, ["--commands", "MAX,SORTU"]);
  const at = binder.at();
  const one = await runCli(["exec-client", "--binder", at, "--json", "SORTU", "3", "-1", "2"]);
  assertEquals(one.code, 0, one.stderr);
  assertEquals(JSON.parse(one.stdout), {
    binder: at,
    server: server.at(),
    request: "SORTU 3 -1 2",
    reply: "SORTU -1 2 3",
    ok: true,
    results: ["-1", "2", "3"],
    failovers: 0,
  });
  const unknown = await runCli(["exec-client", "--binder", at, "--json", "MAXX", "1"]);
  assertEquals(unknown.code, 1);
  assertEquals(JSON.parse(unknown.stdout), {
    binder: at,
    server: null,
    request: "MAXX 1",
    reply: "ERR no server for MAXX",
    ok: false,
    known: ["MAX", "SORT-UP", "SORTU"],
    failovers: 0,
  });
  const lines = await runCli(["exec-client", "--binder", at, "--json"], {
    stdin: "MAX 1 2\nMAX x\n",
  });
  assertEquals(lines.code, 1, "one line failed");
  const docs = lines.stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
  assertEquals(docs.map((d) => [d.reply, d.ok]), [["MAX 2", true], [
    'ERR not an integer: "x"',
    false,
  ]]);
  const listed = await runCli(["exec-client", "--binder", at, "--list", "--json"]);
  assertEquals(listed.code, 0);
  const doc = JSON.parse(listed.stdout);
  assertEquals([doc.binder, doc.total, doc.records.map((r: { command: string }) => r.command)], [
    at,
    3,
    ["MAX", "SORT-UP", "SORTU"],
  ]);
});

Deno.test("exec-client names the commands the binder has when CMD is unknown", async () => {
  await using binder = await startBinder();
  await using _server = await startExecServer(binder.port, ["--commands", "MIN,MAX"]);
  const r = await runCli(["exec-client", "--binder", binder.at(), "MEDIAN", "1"]);
  assertEquals([r.code, r.stdout], [1, ""]);
  assertEquals(
    r.stderr,
    "socklab exec-client: ERR no server for MEDIAN (the binder has: MAX, MIN)\n",
  );
  const prompt = await runCli(["exec-client", "--binder", binder.at()], {
    stdin: "median 1\nmin 2 1\n",
  });
  assertEquals(prompt.stdout, "ERR no server for MEDIAN (the binder has: MAX, MIN)\nMIN 1\n");
});

Deno.test("exec-server --key: signed re-registrations every ttl/3 are accepted, never taken for replays", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/key`, "a key of at least sixteen bytes\n");
    await using binder = await startBinder(["--ttl", "1", "--key", `${dir}/key`]);
    await using server = await startExecServer(binder.port, argv`--commands MAX --key ${dir}/key`);
    const registered = performance.now();
    await using sock = rawSocket();
    // Three ttls: the record lives only through the signed refreshes.
    while (performance.now() - registered < 3000) {
      assertEquals(await ask(sock, binder.port, "LOOKUP MAX"), `MAX 127.0.0.1 ${server.port}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    assertOk(!/ERR/.test(server.proc.stdout.text), server.proc.stdout.text);
    assertOk(!/expired/.test(binder.proc.stdout.text), binder.proc.stdout.text);
    const unsigned = await startExecServer(binder.port, ["--commands", "MIN"]).catch((e) => e);
    assertOk(unsigned instanceof Error, "an exec-server without the key is refused");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
