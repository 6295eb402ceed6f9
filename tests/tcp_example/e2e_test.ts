import { assertEquals, assertMatch, assertOk } from "../helpers/assert.ts";
import { argv, freePort, spawnCli, spawnProgram } from "../helpers/cli.ts";
import { peerPath, peerTest } from "../helpers/peers.ts";
import { expectCleanStop, startServer } from "../helpers/server.ts";
import { rssBytes } from "../helpers/procfs.ts";
import { writeAll } from "../../lib/net/tcp.ts";

const START = /^TCP Server Waiting for client on port (\d+)$/;

/**
 * tcp-server on a free port of `bind`, with `extra` flags, given `turns` on
 * its stdin: what it sends, a line a turn (`q` ends that client).
 */
async function startTcp(turns: string, bind = "127.0.0.1", ...extra: string[]) {
  const server = await startServer(argv`tcp-server --port 0 --bind ${bind} ${extra}`, START);
  await server.proc.write(turns);
  await server.proc.closeStdin();
  return server;
}

Deno.test("tcp-server and tcp-client take turns over a pipe, and q ends the client", async () => {
  await using server = await startTcp("hello client\nq\n");
  await using client = spawnCli(["tcp-client", "127.0.0.1", "--port", String(server.port)]);
  await client.write("hello server\n");
  await client.closeStdin();
  assertEquals((await client.exit()).code, 0);
  assertOk(client.stdout.lines.includes("Received data = hello client"), client.stdout.text);
  assertMatch(
    await server.proc.stdout.waitFor(/^I got a connection from/),
    /^I got a connection from \(127\.0\.0\.1 , \d+\)$/,
  );
  await server.proc.stdout.waitFor(/RECEIVED DATA = hello server$/);
  await expectCleanStop(server.proc);
});

Deno.test("tcp-server serves a second client queued behind the first, in order", async () => {
  await using server = await startTcp("to first\nq\nto second\nq\n");
  await using first = spawnCli(["tcp-client", `127.0.0.1:${server.port}`]);
  await first.stdout.waitFor("Received data = to first");
  // The second connects while the first is still being served: it waits in the backlog.
  await using second = spawnCli(["tcp-client", `127.0.0.1:${server.port}`]);
  await second.write("second says hi\n");
  await second.closeStdin();
  await first.write("first says hi\n");
  await first.closeStdin();
  assertEquals((await first.exit()).code, 0);
  assertEquals((await second.exit()).code, 0);
  assertOk(second.stdout.lines.includes("Received data = to second"), second.stdout.text);
  await server.proc.stdout.waitFor("RECEIVED DATA = second says hi");
  const out = server.proc.stdout.text;
  assertOk(out.indexOf("RECEIVED DATA = first says hi") < out.lastIndexOf("I got a connection"));
});

Deno.test("tcp-server treats the end of stdin as q", async () => {
  await using server = await startTcp("");
  await using client = spawnCli(["tcp-client", `127.0.0.1:${server.port}`]);
  await client.closeStdin();
  assertEquals((await client.exit()).code, 0);
  assertEquals(client.stdout.text, "");
});

Deno.test("tcp-server survives a peer that sends 10 MB without a newline, then one that drops mid-message", async () => {
  await using server = await startTcp("one\nq\ntwo\nlost\nthree\nq\n");
  {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
    const big = new Uint8Array(10 * 1024 * 1024).fill(0x61);
    const writing = writeAll(conn, big).catch(() => {}); // the server resets us: expected
    await server.proc.stdout.waitFor(/^RECEIVED DATA = a+ \.\.\. \(\d+ bytes\)$/);
    conn.close();
    await writing;
  }
  {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
    await server.proc.stdout.waitFor(/I got a connection/);
    await writeAll(conn, new TextEncoder().encode("partial mess"));
    conn.close();
    await server.proc.stdout.waitFor(/closed the connection$/);
  }
  await using client = spawnCli(["tcp-client", `127.0.0.1:${server.port}`]);
  await client.write("fine\n");
  await client.closeStdin();
  await client.exit();
  await server.proc.stdout.waitFor("RECEIVED DATA = fine");
  assertOk(!/\bat \S+:\d+:\d+/.test(server.proc.stderr.text), "no stack trace");
  // Issue 17: a huge line cost one printed line per 1,023 bytes (55 MB of log
  // for 50 MB). Now a line swallowed as it streams in is one line with its length.
  const long = server.proc.stdout.lines.filter((l) => l.startsWith("RECEIVED DATA = a"));
  const logged = long.reduce((n, l) => n + l.length + 1, 0);
  console.log(`10 MiB line: ${long.length} line(s), ${logged} bytes of log`);
  assertEquals(long.length, 1, long.map((l) => l.slice(-30)).join("\n"));
  assertMatch(long[0], /^RECEIVED DATA = a{1023} \.\.\. \(\d+ bytes\)$/);
});

// Issue 17's row: "a 50 MB line costs +22 MB RSS and 55 MB of log".
Deno.test("tcp-server reads a 50 MB line in bounded memory and prints a few lines of it", async () => {
  await using server = await startTcp("warm\n" + "big\n".repeat(8));
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  // The server answers each piece of the line with a SEND turn: read them all.
  const reading = (async () => {
    const buf = new Uint8Array(1024);
    while ((await conn.read(buf)) !== null) { /* the server's turns */ }
  })().catch(() => {});
  try {
    await writeAll(conn, new TextEncoder().encode("warm-up\n"));
    await server.proc.stdout.waitFor("RECEIVED DATA = warm-up");
    const before = rssBytes(server.proc.pid)!;
    const logBefore = server.proc.stdout.text.length;
    const line = new Uint8Array(50_000_001).fill(0x61);
    line[line.length - 1] = 0x0a;
    await writeAll(conn, line);
    await conn.closeWrite(); // the end of the line, then EOF: the server reads it all
    await server.proc.stdout.waitFor(/closed the connection$/, 30_000);
    const grew = (rssBytes(server.proc.pid)! - before) / 1048576;
    const pieces = server.proc.stdout.lines.filter((l) => l.startsWith("RECEIVED DATA = a"));
    const bytes = pieces.reduce((n, l) => n + Number(/\((\d+) bytes\)$/.exec(l)?.[1] ?? 0), 0);
    const logged = server.proc.stdout.text.length - logBefore;
    console.log(
      `50 MB line: ${pieces.length} printed line(s), ${logged.toLocaleString("en-US")} bytes of ` +
        `output (was 55 MB), RSS +${grew.toFixed(1)} MB (was +22 MB)`,
    );
    assertEquals(bytes, 50_000_001, "every byte counted");
    assertOk(logged < 8192, `${logged} bytes of output`);
    assertOk(grew < 20, `RSS grew by ${grew.toFixed(1)} MB`);
  } finally {
    conn.close();
    await reading;
  }
});

// Issue 17: one idle client at tcp-server kept every later client waiting for ever.
Deno.test("tcp-server closes a client silent past --idle-timeout and serves the next", async () => {
  await using server = await startTcp(
    "hello idler\nhello next\nq\n",
    "127.0.0.1",
    "--idle-timeout",
    "1",
  );
  const idler = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  try {
    await server.proc.stdout.waitFor(/I got a connection/);
    const started = performance.now();
    await using next = spawnCli(["tcp-client", `127.0.0.1:${server.port}`]);
    await next.write("from next\n");
    await next.closeStdin();
    await server.proc.stdout.waitFor(/sent nothing for 1 s; closed$/);
    await server.proc.stdout.waitFor("RECEIVED DATA = from next");
    const waited = performance.now() - started;
    console.log(`the next client was served after ${waited.toFixed(0)} ms (idle timeout 1 s)`);
    assertOk(waited < 5000, `${waited} ms`);
  } finally {
    idler.close();
  }
});

Deno.test("tcp-server over IPv6 and tcp-client with [::1]:PORT", async () => {
  await using server = await startTcp("six\nq\n", "::1");
  await using client = spawnCli(["tcp-client", `[::1]:${server.port}`]);
  await client.closeStdin();
  assertEquals((await client.exit()).code, 0);
  assertOk(client.stdout.lines.includes("Received data = six"), client.stdout.text);
  await server.proc.stdout.waitFor(/I got a connection from \(::1 , \d+\)/);
});

Deno.test("tcp-client to a closed port exits 1 with one line", async () => {
  const port = freePort();
  await using client = spawnCli(["tcp-client", `127.0.0.1:${port}`]);
  await client.closeStdin();
  assertEquals((await client.exit()).code, 1);
  assertEquals(
    client.stderr.text,
    `socklab tcp-client: cannot connect to 127.0.0.1:${port}: connection refused\n`,
  );
});

peerTest("tcp-client talks to the lecture's C server; q from the server ends it", [
  "lecture:tcp_server_ex2",
], async () => {
  const port = freePort();
  await using c = spawnProgram([peerPath("lecture:tcp_server_ex2"), String(port)]);
  await c.write("hello from C\nq\n");
  await c.stdout.waitFor(/Waiting for client on port/);
  await using client = spawnCli(["tcp-client", "127.0.0.1", String(port)]);
  await client.write("hello from deno\n");
  await client.closeStdin();
  assertEquals((await client.exit()).code, 0);
  assertOk(client.stdout.lines.includes("Received data = hello from C"), client.stdout.text);
  await c.stdout.waitFor(/RECIEVED DATA = hello from deno/);
});

peerTest("the lecture's C client talks to tcp-server; q from the client ends the connection", [
  "lecture:tcp_client_ex2",
], async () => {
  await using server = await startTcp("hello C client\nnever sent\n");
  await using c = spawnProgram([
    peerPath("lecture:tcp_client_ex2"),
    "127.0.0.1",
    String(server.port),
  ]);
  await c.write("hello from C\nq\n");
  await c.closeStdin();
  await c.exit();
  assertOk(c.stdout.text.includes("Recieved data = hello C client"), c.stdout.text);
  await server.proc.stdout.waitFor("RECEIVED DATA = hello from C");
  // The client's q ends the connection: the server is waiting for the next client.
  assertOk(!server.proc.stdout.text.includes("RECEIVED DATA = q"));
});

peerTest("nc talks to tcp-server; its trailing newline is stripped", ["nc.openbsd"], async () => {
  await using server = await startTcp("to nc\nq\n");
  await using nc = spawnProgram([peerPath("nc.openbsd"), "127.0.0.1", String(server.port)]);
  await nc.write("from nc\n");
  await server.proc.stdout.waitFor(/^RECEIVED DATA = from nc$/);
  await nc.closeStdin();
  await nc.exit();
  assertEquals(nc.stdout.text, "to ncq");
});

peerTest("tcp-client talks to nc -l in both directions", ["nc.openbsd"], async () => {
  const port = freePort();
  await using nc = spawnProgram(argv`${peerPath("nc.openbsd")} -v -N -l 127.0.0.1 ${port}`);
  await nc.write("hello from nc\n");
  await nc.closeStdin();
  await nc.stderr.waitFor(`Listening on`);
  await using client = spawnCli(["tcp-client", `127.0.0.1:${port}`]);
  await client.write("hello nc\n");
  await client.closeStdin();
  assertEquals((await client.exit()).code, 0);
  assertOk(client.stdout.lines.includes("Received data = hello from nc"), client.stdout.text);
  await nc.stdout.waitFor(/hello nc/);
});
