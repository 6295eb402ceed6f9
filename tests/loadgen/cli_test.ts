import { assertEquals, assertMatch, assertOk } from "../helpers/assert.ts";
import { argv, freePort, runCli, spawnProgram } from "../helpers/cli.ts";
import { peerPath, peerTest } from "../helpers/peers.ts";
import { startChatServer, startUdpEcho } from "./targets.ts";

peerTest("socklab bench udp drives the C udp_echo and prints a summary table", [
  "lecture:udp_echo",
], async () => {
  await using echo = await startUdpEcho();
  const { code, stdout, stderr } = await runCli(
    argv`bench udp ${echo.at()} --payload ping --concurrency 8 --duration 0.5`,
  );
  assertEquals(code, 0, stderr);
  assertEquals(stderr, "", "no progress line when stderr is not a terminal");
  assertMatch(stdout, /^target +127\.0\.0\.1:\d+ \(UDP\), payload 4 bytes, 8 in flight$/m);
  assertMatch(stdout, /^replies +[\d,]+ \([\d,]+ per second\)$/m);
  assertMatch(stdout, /^lost +0 \(0\.00 %; no reply within 1000 ms\)$/m);
  assertMatch(stdout, /^latency +p50 [\d.]+ ms, p90 [\d.]+ ms, p99 [\d.]+ ms, max [\d.,]+ ms$/m);
});

peerTest("socklab bench udp --json prints one document whose counts add up", [
  "lecture:udp_echo",
], async () => {
  await using echo = await startUdpEcho();
  const { code, stdout, stderr } = await runCli(
    argv`bench udp ${echo.at()} --payload ping --duration 0.5 --json`,
  );
  assertEquals(code, 0, stderr);
  const doc = JSON.parse(stdout);
  assertEquals([doc.mode, doc.payloadBytes, doc.concurrency, doc.lost], ["udp", 4, 64, 0]);
  assertOk(doc.replies > 0);
  assertEquals(doc.sent, doc.replies + doc.lost + doc.unanswered);
  assertOk(doc.latencyMs.p50 <= doc.latencyMs.p90 && doc.latencyMs.p90 <= doc.latencyMs.p99);
  assertOk(doc.latencyMs.p99 <= doc.latencyMs.max);
});

Deno.test("socklab bench udp against a port nobody answers exits 1 with one line", async () => {
  const port = freePort("udp");
  const { code, stderr } = await runCli(
    argv`bench udp 127.0.0.1:${port} --payload x --duration 0.3 --timeout 100`,
  );
  assertEquals(code, 1);
  assertMatch(
    stderr,
    /^socklab bench: no reply from 127\.0\.0\.1:\d+ in 0\.3 s \([\d,]+ requests sent\)\n$/,
  );
});

const USAGE_CASES: [string, string[], RegExp][] = [
  ["no mode", [], /Missing mode \(udp, tcp or chat\)/],
  ["an unknown mode", ["icmp", "127.0.0.1:1"], /Unknown mode "icmp"/],
  ["udp without --payload", ["udp", "127.0.0.1:1502"], /Missing --payload/],
  ["udp without a port", ["udp", "127.0.0.1", "--payload", "x"], /missing port/],
  ["udp to port 0", ["udp", "127.0.0.1:0", "--payload", "x"], /Cannot send to port 0/],
  [
    "udp with 5000 in flight",
    ["udp", "127.0.0.1:1", "--payload", "x", "--concurrency", "5000"],
    /--concurrency "5000": must be between 1 and 4096/,
  ],
  [
    "udp running an hour",
    ["udp", "127.0.0.1:1", "--payload", "x", "--duration", "3600"],
    /--duration "3600": must be between 0.1 and 600/,
  ],
  [
    "tcp with --reverse and --bidir",
    ["tcp", "127.0.0.1:1", "--reverse", "--bidir"],
    /Cannot use --reverse and --bidir together/,
  ],
  ["tcp with 200 streams", ["tcp", "127.0.0.1:1", "-P", "200"], /--parallel "200": must be/],
  [
    "tcp running an hour",
    ["tcp", "127.0.0.1:1", "--duration", "3600"],
    /--duration "3600": must be between 0.1 and 600/,
  ],
  [
    "udp with a negative interval",
    ["udp", "127.0.0.1:1", "--payload", "x", "-i", "-1"],
    /interval/,
  ],
  [
    "chat with a target and --servers",
    ["chat", "127.0.0.1:1", "--servers", "127.0.0.1:2"],
    /not both/,
  ],
  ["chat without a server", ["chat"], /Missing HOST:PORT \(or --servers\)/],
  [
    "chat with --rate and --per-client",
    ["chat", "127.0.0.1:1", "--rate", "5", "--per-client", "5"],
    /Cannot use --rate and --per-client together/,
  ],
  ["tcp with a bad size", ["tcp", "127.0.0.1:1", "--bytes", "1.5G"], /Cannot parse size "1.5G"/],
  ["chat with 0 clients", ["chat", "127.0.0.1:1", "--clients", "0"], /--clients "0"/],
  ["ncat chat with one client", ["chat", "127.0.0.1:1", "--ncat", "--clients", "1"], /at least 2/],
];

for (const [name, args, pattern] of USAGE_CASES) {
  Deno.test(`socklab bench rejects ${name} with exit 2 before any traffic`, async () => {
    const { code, stderr } = await runCli(["bench", ...args]);
    assertEquals(code, 2, stderr);
    assertMatch(stderr, pattern);
    assertMatch(stderr, /usage: socklab bench/);
  });
}

peerTest("socklab bench tcp measures a transfer to nc.openbsd -l up to its close", [
  "nc.openbsd",
], async () => {
  const port = freePort();
  await using nc = spawnProgram([peerPath("nc.openbsd"), "-l", "127.0.0.1", String(port)], {
    stdin: false,
  });
  // nc prints nothing when it listens: retry until it accepts (refused until then).
  let result;
  for (let i = 0; i < 50; i++) {
    result = await runCli(["bench", "tcp", `127.0.0.1:${port}`, "--bytes", "4M", "--json"]);
    if (result.code === 0 || !/connection refused/.test(result.stderr)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assertEquals(result!.code, 0, result!.stderr);
  const doc = JSON.parse(result!.stdout);
  assertEquals([doc.sent, doc.bytes, doc.peerClosed, doc.stoppedBy], [
    4 * 1024 * 1024,
    4 * 1024 * 1024,
    true,
    null,
  ]);
  assertEquals((await nc.exit()).code, 0);
  // nc wrote every byte it received to its stdout.
  assertEquals(nc.stdout.chunks.reduce((n, c) => n + c.length, 0), 4 * 1024 * 1024);
});

Deno.test("socklab bench chat counts every delivery from socklab's chat-server", async () => {
  await using server = await startChatServer();
  const { code, stdout, stderr } = await runCli(
    argv`bench chat ${server.at()} --clients 5 --rate 50 --duration 0.4 --json`,
  );
  assertEquals(code, 0, stderr);
  const doc = JSON.parse(stdout);
  assertEquals([doc.clients, doc.fanout, doc.lost], [5, 5, 0]);
  assertOk(doc.messages >= 15, `${doc.messages} messages`);
  assertEquals(doc.deliveries, doc.messages * 5);
  assertOk(doc.latencyMs.p99 >= doc.latencyMs.p50);
});
