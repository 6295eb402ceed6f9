import { assertEquals, assertMatch, assertOk } from "../helpers/assert.ts";
import {
  type CliProcess,
  type LineLog,
  portOf,
  runCli,
  spawnCli,
  spawnProgram,
} from "../helpers/cli.ts";
import { peerPath, peerTest } from "../helpers/peers.ts";
import { messagesFrom, numbered, TcpPeer, UdpPeer } from "./peers.ts";

const LISTENING = /^socklab chat-server: listening on (TCP|UDP) 127\.0\.0\.1:(\d+)$/;

type Start = (...flags: string[]) => Promise<{ server: CliProcess; port: number }>;

function starter(env: Record<string, string> = {}): Start {
  return async (...flags) => {
    const server = spawnCli(["chat-server", "--port", "0", "--bind", "127.0.0.1", ...flags], {
      env,
    });
    const port = portOf(await server.stdout.waitFor(LISTENING));
    return { server, port };
  };
}

const startServer = starter();

/**
 * A TCP test run twice: on the Linux fast path (epoll through FFI, the
 * default) and on Deno's own sockets (`SOCKLAB_TCP=portable`, what other
 * systems get), so both keep every behaviour.
 */
function tcpTest(name: string, fn: (startServer: Start) => Promise<void>): void {
  Deno.test(name, () => fn(startServer));
  Deno.test(`${name} (Deno's sockets)`, () => fn(starter({ SOCKLAB_TCP: "portable" })));
}

async function startClient(port: number, name: string, ...flags: string[]): Promise<CliProcess> {
  const client = spawnCli(["chat-client", "127.0.0.1", String(port), name, ...flags]);
  await client.stderr.waitFor(`signed in as ${name}`);
  return client;
}

/** carol spoke before signing in: she was told once how to, and alice sees her join. */
async function carolSignedInLate(carol: LineLog, alice: CliProcess): Promise<void> {
  assertEquals(carol.lines, [
    'ERR not signed in: send "signin NAME" first (or "help")',
    "OK signed in as carol",
  ]);
  await alice.stdout.waitFor("*** carol joined");
}

/**
 * alice and bob each write their lines at the same time; every log then holds
 * "a 0".."a N-1" from alice and "b 0".."b N-1" from bob, each once and in order,
 * and none of the chat a peer sent before it signed in; then `asker`'s
 * `/who` lists all three.
 */
async function talkAtOnce(
  N: number,
  [alice, aliceLines]: [CliProcess, string[]],
  [bob, bobLines]: [CliProcess, string[]],
  logs: LineLog[],
  asker: CliProcess,
): Promise<void> {
  const text = (lines: string[]) => lines.map((l) => `${l}\n`).join("");
  await Promise.all([alice.write(text(aliceLines)), bob.write(text(bobLines))]);
  for (const log of logs) {
    await log.waitFor(`Msg alice says: a ${N - 1}`);
    await log.waitFor(`Msg bob says: b ${N - 1}`);
  }
  for (const log of logs) {
    assertEquals(messagesFrom(log.lines, "alice"), numbered("a", N));
    assertEquals(messagesFrom(log.lines, "bob"), numbered("b", N));
    assertEquals(log.lines.filter((l) => l.includes("i am not signed in")), []);
  }
  await asker.write("/who\n");
  await asker.stdout.waitFor("Users: alice bob carol");
}

/** A chat user that sends protocol lines and signs in (a raw peer, or nc over its stdin). */
interface Speaker {
  readonly log: LineLog;
  send(...lines: string[]): Promise<void>;
  signin(name: string): Promise<void>;
}

/** `nc` (or any line program) as a {@linkcode Speaker}: lines go to its stdin. */
function overStdin(p: CliProcess): Speaker {
  const send = (...lines: string[]) => p.write(lines.map((l) => `${l}\n`).join(""));
  return {
    log: p.stdout,
    send,
    signin: async (name) => {
      await send(`signin ${name}`);
      await p.stdout.waitFor(`OK signed in as ${name}`);
    },
  };
}

/**
 * `leaver` signs out as `name`; alice's next line reaches `witness` but never
 * the leaver (checked once it signed in again as NAME2: the reply comes after
 * anything sent to it before).
 */
async function leaverMissesNext(
  leaver: Speaker,
  name: string,
  alice: CliProcess,
  witness: LineLog,
): Promise<void> {
  await leaver.send(`signout ${name}`);
  await leaver.log.waitFor(`OK signed out ${name}`);
  await alice.write(`after ${name} left\n`);
  await witness.waitFor(`Msg alice says: after ${name} left`);
  await leaver.signin(`${name}2`);
  assertEquals(leaver.log.lines.filter((l) => l.includes(`after ${name} left`)), []);
}

peerTest(
  "TCP chat: our client, nc and a late signin each get every message once, in order per sender",
  ["nc.openbsd"],
  async () => {
    const N = 50;
    const { server, port } = await startServer();
    await using _ = server;
    await using alice = await startClient(port, "alice");
    await using bob = spawnProgram([peerPath("nc.openbsd"), "127.0.0.1", String(port)]);
    await overStdin(bob).signin("bob");
    await alice.stdout.waitFor("*** bob joined");
    await using stranger = await TcpPeer.connect(port);
    // Not signed in: it is told once how to sign in, and nobody ever sees its chat.
    await stranger.send("chat i am not signed in", "who", "signin carol");
    await stranger.log.waitFor("OK signed in as carol");
    await carolSignedInLate(stranger.log, alice);

    // alice and bob talk at the same time.
    await talkAtOnce(N, [alice, numbered("a", N)], [bob, numbered("chat b", N)], [
      alice.stdout,
      bob.stdout,
      stranger.log,
    ], alice);

    // bob signs out: alice's next line reaches carol but not bob.
    await leaverMissesNext(overStdin(bob), "bob", alice, stranger.log);
    await alice.stdout.waitFor("*** bob left");

    await server.stdout.waitFor(/^socklab chat-server: alice joined from 127\.0\.0\.1:\d+$/);
    await server.stdout.waitFor(/^socklab chat-server: bob left \(127\.0\.0\.1:\d+\)$/);
    await alice.closeStdin();
    assertEquals((await alice.exit()).code, 0);
    await server.stdout.waitFor(/alice left/);
    server.kill("SIGTERM");
    assertEquals((await server.exit()).code, 0);
  },
);

Deno.test("UDP chat: two of our clients and a late signin each get every message once, in order", async () => {
  const N = 50;
  const { server, port } = await startServer("--udp");
  await using _ = server;
  await using alice = await startClient(port, "alice", "--udp");
  await using bob = await startClient(port, "bob", "--udp");
  await using stranger = new UdpPeer(port);
  await stranger.send("chat i am not signed in", "who");
  await stranger.log.waitFor(/^ERR not signed in/);
  await stranger.signin("carol");
  await carolSignedInLate(stranger.log, alice);

  await talkAtOnce(N, [alice, numbered("a", N)], [bob, numbered("b", N)], [
    alice.stdout,
    bob.stdout,
    stranger.log,
  ], bob);

  // carol signs out: alice's next line reaches bob but not carol.
  await leaverMissesNext(stranger, "carol", alice, bob.stdout);

  await bob.closeStdin();
  assertEquals((await bob.exit()).code, 0);
  await alice.stdout.waitFor("*** bob left");
  await server.stdout.waitFor(/^socklab chat-server: bob left \(127\.0\.0\.1:\d+\)$/);
});

tcpTest(
  "a stalled TCP client is dropped when its queue fills; the others get all 3,000 messages",
  async (startServer) => {
    const PER_SENDER = 1500;
    // Loopback kernel buffers take several MB (7.6 MB here) before the server's
    // queue even starts to fill: 3,000 messages of 6 KB (18 MB) get past them.
    const pad = "x".repeat(6000);
    const KEEP = 80; // the peers keep the first 80 characters of each line
    const { server, port } = await startServer("--max-queue", "65536", "--max-line", "8192");
    await using _ = server;
    await using stalled = await TcpPeer.connect(port, { read: false });
    await stalled.send("signin stalled");
    assertEquals(await stalled.readLine(), "OK signed in as stalled");
    // From here on it never reads again.
    await using a = await TcpPeer.signedIn(port, "a", { keep: KEEP });
    await using b = await TcpPeer.signedIn(port, "b", { keep: KEEP });

    const started = performance.now();
    const shown = (p: string, i: number) => `Msg ${p} says: ${p} ${i} ${pad}`.slice(0, KEEP);
    // In rounds of 100 each, the next round once both have heard the last one:
    // a and b read as they go (never more than ~1 MB behind, far inside their
    // kernel buffers), while the stalled client's backlog only grows.
    const ROUND = 100;
    for (let first = 0; first < PER_SENDER; first += ROUND) {
      const round = (p: string) =>
        numbered(`chat ${p}`, first + ROUND).slice(first).map((l) => `${l} ${pad}`);
      await Promise.all([a.send(...round("a")), b.send(...round("b"))]);
      for (const peer of [a, b]) {
        await peer.log.waitFor(shown("a", first + ROUND - 1));
        await peer.log.waitFor(shown("b", first + ROUND - 1));
      }
    }
    const seconds = (performance.now() - started) / 1000;
    for (const peer of [a, b]) {
      for (const p of ["a", "b"]) {
        const got = peer.log.lines.filter((l) => l.startsWith(`Msg ${p} says: `));
        assertEquals(got, Array.from({ length: PER_SENDER }, (_, i) => shown(p, i)));
      }
      await peer.log.waitFor(
        // (lines are cut at KEEP characters)
        /^\*\*\* stalled was disconnected \(outgoing queue over \d+ bytes \(client not read/,
      );
      assertEquals(peer.log.lines.filter((l) => l.startsWith("ERR")), []);
    }
    await server.stdout.waitFor(
      /^socklab chat-server: dropped stalled \(127\.0\.0\.1:\d+\): outgoing queue over \d+ bytes \(client not reading\)$/,
    );
    assertOk(seconds < 20, `3,000 messages took ${seconds.toFixed(1)} s`);
    await a.who("a b");
  },
);

tcpTest(
  "a slow client that keeps reading is never dropped: the sender waits, it gets all 3,000 messages",
  async (startServer) => {
    const N = 3000;
    // 18 MB sent in one go, far more than the kernel buffers and the 64 KB
    // queue: without flow control the slow reader is dropped as "not reading".
    const pad = "x".repeat(6000);
    const KEEP = 80;
    const { server, port } = await startServer("--max-queue", "65536", "--max-line", "8192");
    await using _ = server;
    await using slow = await TcpPeer.signedIn(port, "slow", {
      keep: KEEP,
      slow: { bytes: 64 * 1024, pauseMs: 5 },
    });
    await using a = await TcpPeer.signedIn(port, "a", { keep: KEEP });

    const shown = (i: number) => `Msg a says: a ${i} ${pad}`.slice(0, KEEP);
    const sending = a.send(...numbered("chat a", N).map((l) => `${l} ${pad}`));
    await slow.log.waitFor(shown(N - 1), 60_000);
    await a.log.waitFor(shown(N - 1));
    await sending;
    for (const peer of [slow, a]) {
      assertEquals(
        peer.log.lines.filter((l) => l.startsWith("Msg a says: ")),
        Array.from({ length: N }, (_, i) => shown(i)),
      );
    }
    assertEquals(server.stdout.lines.filter((l) => l.includes("dropped")), []);
    await a.who("slow a");
  },
);

tcpTest(
  "a client killed with SIGKILL mid-broadcast is removed and no error reaches the others",
  async (startServer) => {
    const N = 2000;
    const { server, port } = await startServer();
    await using _ = server;
    await using victim = await startClient(port, "victim");
    await using a = await TcpPeer.signedIn(port, "a");
    await using b = await TcpPeer.signedIn(port, "b");
    const sending = a.send(...numbered("chat a", N));
    await victim.stdout.waitFor("Msg a says: a 100");
    victim.kill("SIGKILL");
    await sending;
    await a.log.waitFor(`Msg a says: a ${N - 1}`);
    await b.log.waitFor(`Msg a says: a ${N - 1}`);
    for (const peer of [a, b]) {
      assertEquals(messagesFrom(peer.log.lines, "a"), numbered("a", N));
      await peer.log.waitFor(/^\*\*\* victim (left|was disconnected)/);
      assertEquals(peer.log.lines.filter((l) => l.startsWith("ERR")), []);
    }
    await server.stdout.waitFor(/^socklab chat-server: dropped victim \(127\.0\.0\.1:\d+\): /);
    await a.who("a b");
    assertEquals((await victim.exit()).signal, "SIGKILL");
  },
);

tcpTest(
  "chat-server answers over-long, binary and unknown lines with ERR and keeps serving",
  async (startServer) => {
    const { server, port } = await startServer("--max-line", "64");
    await using _ = server;
    await using p = await TcpPeer.signedIn(port, "alice");
    await p.send(`chat ${"y".repeat(200)}`);
    await p.log.waitFor("ERR line too long (max 64 bytes)");
    await p.sendBytes(new Uint8Array([0xff, 0x00, 0x1b, 0x0a]));
    await p.log.waitFor(
      "ERR unknown command '\ufffd\\x00\\x1b' (use signin, signout, who, chat, help)",
    );
    await p.send("", "chat \x1b[31mred", "chat still fine");
    await p.log.waitFor("Msg alice says: \\x1b[31mred");
    await p.log.waitFor("Msg alice says: still fine");
    await p.send("signin alice2", "signout bob");
    await p.log.waitFor("ERR already signed in as alice");
    await p.log.waitFor("ERR you are signed in as alice, not bob");
  },
);

Deno.test("chat-server refuses a second signin with a taken name, and chat-client says so", async () => {
  const { server, port } = await startServer();
  await using _ = server;
  await using _alice = await startClient(port, "alice");
  const r = await runCli(["chat-client", "127.0.0.1", String(port), "ALICE"]);
  assertEquals(r.code, 1);
  assertEquals(
    r.stderr.trim(),
    "socklab chat-client: cannot sign in as 'ALICE': name 'ALICE' is already taken",
  );
});

tcpTest(
  "chat-server --max-clients turns away one connection too many with ERR",
  async (startServer) => {
    const { server, port } = await startServer("--max-clients", "2");
    await using _ = server;
    await using p1 = await TcpPeer.connect(port);
    await using p2 = await TcpPeer.connect(port);
    await p2.signin("two");
    await using p3 = await TcpPeer.connect(port);
    await p3.log.ended();
    assertEquals(p3.log.lines, ["ERR server full (2 clients)"]);
    await server.stdout.waitFor(/^socklab chat-server: refused 127\.0\.0\.1:\d+: server full/);
    await p1.signin("one");
  },
);

Deno.test("chat-client exits 1 with one line when the server goes away", async () => {
  const { server, port } = await startServer();
  await using _ = server;
  await using alice = await startClient(port, "alice");
  server.kill("SIGTERM");
  assertEquals((await server.exit()).code, 0);
  const status = await alice.exit();
  assertEquals(status.code, 1);
  assertEquals(alice.stderr.lines.slice(1), [
    `socklab chat-client: lost the connection to 127.0.0.1:${port}`,
  ]);
});

Deno.test("chat-client reads a missing NAME from a pipe and signs out at end of input", async () => {
  const { server, port } = await startServer();
  await using _ = server;
  const r = await runCli(["chat-client", "127.0.0.1", String(port)], {
    stdin: "dave\nhello from a pipe\n/who\n",
  });
  assertEquals(r.code, 0, r.stderr);
  assertEquals(r.stdout.split("\n").filter(Boolean), [
    "Msg dave says: hello from a pipe",
    "Users: dave",
  ]);
  await server.stdout.waitFor(/dave left/);
});

Deno.test("chat-client --udp exits 1 with 'no reply' when nothing answers", async () => {
  // A bound socket that never answers (so not even an ICMP error comes back).
  const sock = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const port = (sock.addr as Deno.NetAddr).port;
  const r = await runCli([
    "chat-client",
    "--udp",
    "--timeout",
    "100",
    "--retries",
    "1",
    "127.0.0.1",
    String(port),
    "erin",
  ]);
  sock.close();
  assertEquals(r.code, 1);
  assertEquals(
    r.stderr.trim(),
    `socklab chat-client: no reply from 127.0.0.1:${port} after 2 tries`,
  );
});

const USAGE_CASES: [string, string[], RegExp][] = [
  ["an invalid NAME", ["chat-client", "127.0.0.1", "5600", "a b"], /Cannot use NAME: invalid name/],
  ["too many arguments", ["chat-client", "h", "1", "n", "x"], /Unexpected argument "x"/],
  ["--timeout without --udp", ["chat-client", "h", "1", "n", "--timeout", "5"], /without --udp/],
  ["a bad port", ["chat-client", "h", "99999", "n"], /must be between 0 and 65535/],
  ["--max-queue with --udp", ["chat-server", "--udp", "--max-queue", "4096"], /--max-queue/],
  ["--max-clients 0", ["chat-server", "--max-clients", "0"], /--max-clients/],
  ["--member-ttl without --udp", ["chat-server", "--member-ttl", "5"], /--member-ttl without/],
  ["--signin-timeout with --udp", ["chat-server", "--udp", "--signin-timeout", "5"], /with --udp/],
  ["--room without --redis", ["chat-server", "--room", "lab"], /--room without --redis/],
  ["a bad --room", ["chat-server", "--redis", "redis://h", "--room", "a b"], /--room "a b"/],
  ["--max-per-source over --max-clients", [
    "chat-server",
    "--max-clients",
    "10",
    "--max-per-source",
    "11",
  ], /--max-per-source "11": must be between 1 and 10/],
];

for (const [name, args, pattern] of USAGE_CASES) {
  Deno.test(`${args[0]} rejects ${name} with exit 2`, async () => {
    const r = await runCli(args);
    assertEquals(r.code, 2, r.stderr);
    assertMatch(r.stderr, pattern);
    assertMatch(r.stderr, /usage: socklab chat-/);
  });
}

tcpTest(
  "TCP chat closes a connection that does not sign in within --signin-timeout, and keeps members",
  async (startServer) => {
    const { server, port } = await startServer("--signin-timeout", "1");
    await using _ = server;
    await using member = await TcpPeer.signedIn(port, "dora");
    await using idle = await TcpPeer.connect(port);
    assertEquals(await idle.log.waitFor(/./, 5000), "ERR did not sign in within 1 s");
    await idle.log.ended();
    await server.stdout.waitFor(/dropped connection 127\.0\.0\.1:\d+: did not sign in within 1 s$/);
    // The member signed in before the deadline and is still served.
    await member.send("who");
    assertMatch(await member.log.waitFor(/^Users: /), /^Users: dora$/);
    // Signing out makes it a stranger again, with a deadline again.
    await member.send("signout");
    await member.log.waitFor("OK signed out dora");
    await member.log.waitFor("ERR did not sign in within 1 s", 5000);
    await member.log.ended();
  },
);

tcpTest(
  "TCP chat: a client that sends its lines and half-closes is hung up on at once",
  async (start) => {
    const { server, port } = await start();
    await using _ = server;
    for (const text of ["hello\n", "signin zed\nchat hi\n", "xx"]) {
      using conn = await Deno.connect({ hostname: "127.0.0.1", port });
      await conn.write(new TextEncoder().encode(text));
      await conn.closeWrite();
      // The server must close: reading to the end would otherwise wait for the
      // 60 s sign-in deadline (or forever for a member).
      const timer = setTimeout(() => conn.close(), 5000);
      const buf = new Uint8Array(4096);
      let ended = false;
      try {
        while ((await conn.read(buf)) !== null);
        ended = true;
      } catch {
        // closed by the timer
      } finally {
        clearTimeout(timer);
      }
      assertOk(
        ended,
        `after ${JSON.stringify(text)} and a half-close the server kept the connection`,
      );
    }
  },
);
