import { assertEquals, assertMatch, assertOk } from "../helpers/assert.ts";
import { testBadInputs } from "../helpers/bad_inputs.ts";
import { argv, freePort, runCli, spawnProgram } from "../helpers/cli.ts";
import { peerPath, peerTest } from "../helpers/peers.ts";
import { expectCleanStop, startServer } from "../helpers/server.ts";
import { Probe, serveInProcess } from "../helpers/udp_probe.ts";
import { runTimeServer } from "../../lib/time/server.ts";
import {
  decodeNtp,
  MODE_SERVER,
  ntpClientRequest,
  parseIsoTime,
  unixMsToNtp,
} from "../../lib/time/protocol.ts";

const START = /^socklab time-server: listening on UDP (\S+)$/;
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$/;

/** time-server on a free port of `bind`, with `extra` flags. */
function startTime(bind = "127.0.0.1", ...extra: string[]) {
  return startServer(argv`time-server --port 0 --bind ${bind} ${extra}`, START);
}

/** Offset of a client line "clock offset  +0.123 ms (...)", in ms. */
function offsetOf(stdout: string): number {
  const m = stdout.match(/^clock offset {2}([+-]\d+\.\d{3}) ms/m);
  if (!m) throw new Error(`no offset in:\n${stdout}`);
  return Number(m[1]);
}

Deno.test("time-server names its port; time-client prints time, round trip and Cristian's offset", async () => {
  await using server = await startTime();
  const r = await runCli(argv`time-client 127.0.0.1 --port ${server.port}`);
  assertEquals(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split("\n");
  assertEquals(lines.length, 3);
  assertMatch(lines[0], /^server time {3}\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$/);
  assertMatch(lines[1], /^round trip {4}\d+\.\d{3} ms$/);
  assertMatch(
    lines[2],
    /^clock offset {2}[+-]\d+\.\d{3} ms \(server - local, Cristian's method, best of 4\)$/,
  );
  assertOk(Math.abs(offsetOf(r.stdout)) < 50, "same machine: offset near 0");
  await expectCleanStop(server.proc);
});

Deno.test("time-client --ntp queries our server over SNTP and prints delay and offset", async () => {
  await using server = await startTime();
  const r = await runCli(argv`time-client ${server.at()} --ntp`);
  assertEquals(r.code, 0, r.stderr);
  assertMatch(r.stdout, /^server {8}NTPv4, stratum 10, reference 127\.127\.1\.1$/m);
  assertMatch(r.stdout, /^delay {9}\d+\.\d{3} ms$/m);
  assertOk(Math.abs(offsetOf(r.stdout)) < 20, "same clock: offset near 0");
});

Deno.test("time-client --json prints one JSON document", async () => {
  await using server = await startTime();
  const r = await runCli(argv`time-client 127.0.0.1 --port ${server.port} --json --samples 1`);
  assertEquals(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assertEquals([doc.mode, doc.server, doc.samples, doc.tries], ["text", server.at(), 1, 1]);
  assertMatch(doc.serverTime, ISO);
  assertOk(typeof doc.rttMs === "number" && typeof doc.offsetMs === "number");
});

Deno.test("time-server --stratum sets the stratum of SNTP replies; over IPv6 too", async () => {
  await using server = await startTime("::1", "--stratum", "3");
  assertMatch(server.proc.stdout.lines[0], /listening on UDP \[::1\]:\d+$/);
  const r = await runCli(argv`time-client [::1]:${server.port} --ntp --samples 1`);
  assertEquals(r.code, 0, r.stderr);
  assertMatch(r.stdout, /stratum 3, reference 127\.127\.1\.1$/m);
});

Deno.test("time-client with nothing listening fails at once: connection refused", async () => {
  const port = freePort("udp");
  const started = performance.now();
  const r = await runCli(argv`time-client 127.0.0.1 --port ${port}`);
  const ms = performance.now() - started;
  assertEquals([r.code, r.stderr], [
    1,
    `socklab time-client: no reply from 127.0.0.1:${port}: connection refused (nothing listens on that port)\n`,
  ]);
  // 4 samples x 3 tries x 2 s would be 24 s: the first ICMP "port unreachable" ends it.
  assertOk(ms < 2000, `took ${ms.toFixed(0)} ms`);
});

Deno.test("time-client with a silent server exits 1 with the SPEC's line", async () => {
  const silent = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const port = (silent.addr as Deno.NetAddr).port;
  try {
    const r = await runCli(argv`time-client 127.0.0.1 --port ${port} --timeout 200 --retries 1`);
    assertEquals(r.code, 1);
    assertEquals(r.stderr, `socklab time-client: no reply from 127.0.0.1:${port} after 2 tries\n`);
  } finally {
    silent.close();
  }
});

Deno.test("time-client and time-server reject bad flags with exit 2 and the usage line", async () => {
  const noServer = await runCli(argv`time-client`);
  assertEquals(noServer.code, 2);
  assertMatch(noServer.stderr, /^usage: socklab time-client SERVER/m);
  const stratum = await runCli(argv`time-server --stratum 16`);
  assertEquals(stratum.code, 2);
  assertMatch(stratum.stderr, /Cannot parse --stratum "16": must be between 1 and 15/);
  const unknown = await runCli(argv`time-client no-such-host.invalid`);
  assertEquals(unknown.code, 1);
  assertEquals(unknown.stderr, "socklab time-client: unknown host 'no-such-host.invalid'\n");
});

Deno.test("time-server answers empty, TIME and NUL-terminated requests with ISO 8601", async () => {
  await using server = serveInProcess(runTimeServer);
  await using probe = new Probe(server.port);
  for (const request of ["", "TIME", "time\n", "TIME\0"]) {
    const before = Date.now();
    const reply = await probe.ask(request);
    assertMatch(reply, ISO);
    const t = parseIsoTime(reply).unixMs;
    assertOk(t >= before - 1 && t <= Date.now(), `${reply} is now`);
  }
  assertEquals(
    await probe.ask("hello"),
    "ERR unknown request (send TIME, or an SNTP client packet)",
  );
});

// What time-server answers to each bad input (an ERR line, the time, or
// nothing: binary bytes, inner NULs and invalid UTF-8 are not a request), then
// to an empty datagram; it logs nothing but its start-up line.
testBadInputs({
  service: "time-server",
  run: runTimeServer,
  replies: {
    "65,507 bytes of text": "ERR request too long (max 512 bytes)",
    "one line of 10,000 words": "ERR request too long (max 512 bytes)",
    "only NULs": ISO, // NULs are stripped, like the C client's: an empty request asks the time
  },
  then: [new Uint8Array(0), ISO],
  logged: 1,
});

Deno.test("time-server ignores NTP packets that are not client requests", async () => {
  await using server = serveInProcess(runTimeServer);
  await using probe = new Probe(server.port);
  const request = ntpClientRequest(unixMsToNtp(Date.now()));
  for (const mode of [1, 2, 4, 5, 6, 7]) {
    const packet = request.slice();
    packet[0] = (packet[0] & ~7) | mode;
    await probe.send(packet);
  }
  await probe.send(request);
  const reply = decodeNtp(await probe.nextBytes());
  assertEquals(reply.mode, MODE_SERVER, "the first reply is the one to the client-mode packet");
  assertEquals(reply.originate, decodeNtp(request).transmit);
});

peerTest("chronyd -Q accepts time-server and measures an offset near 0", ["chronyd"], async () => {
  await using server = await startTime();
  await using chronyd = spawnProgram(
    argv`${peerPath("chronyd")} -Q ${`server 127.0.0.1 port ${server.port} iburst maxsamples 4`}`,
  );
  const status = await chronyd.exit(30_000);
  const log = chronyd.stderr.text + chronyd.stdout.text;
  assertEquals(status.code, 0, log);
  const m = log.match(/System clock wrong by (-?\d+\.\d+) seconds/);
  assertOk(m, `chronyd measured no offset:\n${log}`);
  assertOk(Math.abs(Number(m[1])) < 0.01, `offset ${m[1]} s`);
});

peerTest("rdate -n (SNTP) reads the time from time-server", ["rdate"], async () => {
  await using server = await startTime();
  await using rdate = spawnProgram(argv`${peerPath("rdate")} -n -p -o ${server.port} 127.0.0.1`);
  const status = await rdate.exit(10_000);
  assertEquals(status.code, 0, rdate.stderr.text);
  const shown = Date.parse(rdate.stdout.text.trim());
  assertOk(Math.abs(shown - Date.now()) < 5000, `rdate printed "${rdate.stdout.text.trim()}"`);
});

peerTest(
  "time-client --ntp measures a chronyd server (local stratum 8) near 0",
  ["chronyd"],
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "socklab-chrony-" });
    try {
      const port = freePort("udp");
      await Deno.writeTextFile(
        `${dir}/chrony.conf`,
        [
          `port ${port}`,
          "bindaddress 127.0.0.1",
          "allow 127.0.0.1",
          "local stratum 8",
          "cmdport 0",
          `pidfile ${dir}/chronyd.pid`,
          "",
        ].join("\n"),
      );
      await using chronyd = spawnProgram(argv`${peerPath("chronyd")} -x -d -f ${dir}/chrony.conf`);
      await chronyd.stderr.waitFor(/Disabled control of system clock|starting/);
      // chronyd binds after its start-up lines: the client's retries cover that moment.
      const r = await runCli(
        argv`time-client 127.0.0.1 --ntp --port ${port} --timeout 500 --retries 10`,
      );
      assertEquals(r.code, 0, r.stderr + chronyd.stderr.text);
      assertMatch(r.stdout, /^server {8}NTPv4, stratum 8, reference 127\.127\.1\.1$/m);
      assertOk(Math.abs(offsetOf(r.stdout)) < 20, r.stdout);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
