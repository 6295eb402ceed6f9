// socklab bench against real peers: socat as the far end of bench tcp (several
// streams, each direction), the C udp_echo for interval lines and the
// histogram, and socklab's chat-server for --workers and --servers.
import { assertEquals, assertMatch, assertOk } from "../helpers/assert.ts";
import { argv, freePort, runCli, spawnProgram } from "../helpers/cli.ts";
import { peerPath, peerTest } from "../helpers/peers.ts";
import { RunningServer } from "../helpers/server.ts";
import { startChatServer, startUdpEcho } from "./targets.ts";

/** An interval line: `    0.00-0.25 s  ...`. */
const INTERVAL = /^ +\d+\.\d\d-\d+\.\d\d s {2}/;

/** socat listening on a free port with `fork` (one child per stream), `address` the other side. */
async function socat(args: string[]): Promise<RunningServer> {
  const port = freePort();
  const proc = spawnProgram(
    [peerPath("socat"), ...args.map((a) => a.replace("PORT", String(port)))],
    { stdin: false },
  );
  // socat says nothing when it listens: wait until it accepts (refused until then).
  for (let i = 0; i < 100; i++) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return new RunningServer(proc, port);
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  await proc[Symbol.asyncDispose]();
  throw new Error(`socat did not listen: ${proc.stderr.text}`);
}

async function benchJson(args: string[]) {
  const { code, stdout, stderr } = await runCli(["bench", ...args, "--json"], {
    timeoutMs: 30_000,
  });
  assertEquals(code, 0, stderr);
  return JSON.parse(stdout);
}

const MiB = 1024 * 1024;
const SINK = ["-u", "TCP-LISTEN:PORT,bind=127.0.0.1,reuseaddr,fork", "OPEN:/dev/null"];

peerTest("bench tcp -P 3 sends every byte of every stream to socat, each timed to its close", [
  "socat",
], async () => {
  await using server = await socat(SINK);
  const doc = await benchJson(argv`tcp ${server.at()} --bytes 2M -P 3`);
  assertEquals([doc.direction, doc.parallel, doc.sent, doc.received], ["send", 3, 6 * MiB, 0]);
  assertEquals(doc.streams.length, 3);
  for (const s of doc.streams) {
    assertEquals([s.sent, s.peerClosed, s.stoppedBy], [2 * MiB, true, null]);
  }
});

peerTest("bench tcp --reverse -P 2 receives what socat sends from /dev/zero, per stream", [
  "socat",
], async () => {
  await using server = await socat(
    argv`-u OPEN:/dev/zero TCP-LISTEN:PORT,bind=127.0.0.1,reuseaddr,fork`,
  );
  const doc = await benchJson(argv`tcp ${server.at()} --reverse --bytes 4M -P 2`);
  assertEquals([doc.direction, doc.sent, doc.streams.length], ["receive", 0, 2]);
  for (const s of doc.streams) {
    assertOk(s.received >= 4 * MiB && s.received < 4 * MiB + 256 * 1024, `${s.received} bytes`);
  }
  assertEquals(doc.received, doc.streams[0].received + doc.streams[1].received);
});

peerTest("bench tcp --bidir gets back every byte socat echoes, on both streams", [
  "socat",
], async () => {
  await using server = await socat(["TCP-LISTEN:PORT,bind=127.0.0.1,reuseaddr,fork", "PIPE"]);
  const doc = await benchJson(argv`tcp ${server.at()} --bidir --bytes 3M -P 2`);
  assertEquals([doc.direction, doc.sent, doc.received], ["both", 6 * MiB, 6 * MiB]);
  assertOk(doc.streams.every((s: { peerClosed: boolean }) => s.peerClosed));
});

peerTest("bench tcp prints a line per interval when piped, and sends until --duration", [
  "socat",
], async () => {
  await using server = await socat(SINK);
  const { code, stdout, stderr } = await runCli(
    argv`bench tcp ${server.at()} --duration 1 -i 0.25`,
  );
  assertEquals(code, 0, stderr);
  const intervals = stdout.split("\n").filter((l) => INTERVAL.test(l));
  assertOk(intervals.length >= 3, stdout);
  assertMatch(intervals[0], /^ +0\.00-0\.2\d s {2}[\d.]+ [KMG]iB sent \([\d,.]+ MB\/s/);
  assertMatch(
    stdout,
    /^sent +[\d.]+ [KMG]iB \([\d,]+ bytes\) in 1\.\d\d s, stopped by the time limit$/m,
  );
});

peerTest("bench udp prints interval lines when piped and a histogram that holds every reply", [
  "lecture:udp_echo",
], async () => {
  await using echo = await startUdpEcho();
  const text = await runCli(argv`bench udp ${echo.at()} --payload x --duration 1 -i 0.25`);
  assertEquals(text.code, 0, text.stderr);
  assertOk(text.stdout.split("\n").filter((l) => INTERVAL.test(l)).length >= 3, text.stdout);
  assertMatch(text.stdout, /^latency histogram:\n {2}\S/m);
  assertMatch(text.stdout, /^generator +[\d.]+ s CPU \([\d.]+ cores/m);
  const doc = await benchJson(argv`udp ${echo.at()} --payload x --duration 0.6 -i 0.2`);
  const binned = doc.histogram.reduce((a: number, b: { count: number }) => a + b.count, 0);
  assertEquals(binned, doc.replies);
  assertOk(doc.intervals.length >= 2, JSON.stringify(doc.intervals));
  const perInterval = doc.intervals.reduce((a: number, i: { replies: number }) => a + i.replies, 0);
  assertEquals(perInterval, doc.replies, "the intervals add up to the whole run");
  assertEquals(doc.generator.io, Deno.build.os === "linux" ? "batched" : "portable");
});

Deno.test("bench chat --workers 2 counts every copy across both threads", async () => {
  await using server = await startChatServer();
  const doc = await benchJson(
    argv`chat ${server.at()} --clients 12 --per-client 10 --duration 0.5 --workers 2`,
  );
  assertEquals([doc.clients, doc.fanout, doc.lost, doc.generator.workers], [12, 12, 0, 2]);
  assertOk(doc.messages >= 12 * 5, `${doc.messages} messages`);
  assertEquals(doc.deliveries, doc.messages * 12);
  assertOk(doc.latencyMs.p50 >= 0 && doc.latencyMs.p99 < 2000, JSON.stringify(doc.latencyMs));
});

Deno.test("bench chat --servers spreads the clients over the servers it names", async () => {
  await using server = await startChatServer();
  const port = server.port;
  const doc = await benchJson(
    argv`chat --servers 127.0.0.1:${port},localhost:${port} --clients 6 --rate 40 --duration 0.4`,
  );
  assertEquals(doc.servers, [`127.0.0.1:${port}`, `127.0.0.1:${port}`]);
  assertEquals([doc.clients, doc.lost], [6, 0]);
  assertEquals(doc.deliveries, doc.messages * 6);
});

Deno.test("bench chat --servers over two rooms that do not share fails in one line", async () => {
  await using a = await startChatServer();
  await using b = await startChatServer();
  // Each server is its own room: clients on one never hear the other's probe.
  const { code, stderr } = await runCli(
    argv`bench chat --servers 127.0.0.1:${a.port},127.0.0.1:${b.port} --clients 4 --duration 0.2 --ready-timeout 1`,
  );
  assertEquals(code, 1, stderr);
  assertMatch(
    stderr,
    /^socklab bench: chat server 127\.0\.0\.1:\d+: \d of \d clients got no message within 1000 ms\n$/,
  );
});
