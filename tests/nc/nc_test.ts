/**
 * `socklab nc` end to end: text both ways with nc.openbsd and socat,
 * half-close (the whole reply after end of input), UDP, IPv6, refused ports,
 * `-z`, `-w`, `-k`, and usage errors.
 */
import { assertEquals, assertMatch, assertOk } from "../helpers/assert.ts";
import { peerTest } from "../helpers/peers.ts";
import { netnsTest } from "../sys/tools.ts";
import {
  exchange,
  freePort,
  freeUdpPort,
  portIn,
  Proc,
  socklab,
  stopsCleanly,
  talkBothWays,
  tcpListening,
  udpBound,
} from "./procs.ts";

/** A TCP server that reads until the peer half-closes, then answers and closes. */
function replyAfterEof(hostname = "127.0.0.1") {
  const listener = Deno.listen({ hostname, port: 0 });
  const served = (async () => {
    const conn = await listener.accept();
    let n = 0;
    const buf = new Uint8Array(4096);
    for (let r = await conn.read(buf); r !== null; r = await conn.read(buf)) n += r;
    // The reply is written only after the client's end of input arrived.
    const reply = new TextEncoder().encode(`got ${n} bytes\n`.repeat(1000));
    let off = 0;
    while (off < reply.length) off += await conn.write(reply.subarray(off));
    conn.close();
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    async [Symbol.asyncDispose]() {
      listener.close();
      await served.catch(() => {});
    },
  };
}

Deno.test("echo hi | socklab nc HOST PORT half-closes and prints the whole reply sent after it", async () => {
  await using server = replyAfterEof();
  await using nc = new Proc(socklab("nc", "127.0.0.1", String(server.port)));
  await nc.write("hi\n");
  await nc.closeStdin();
  const status = await nc.exit();
  assertEquals(status.code, 0, nc.stderr.text);
  assertEquals(nc.stdout.text, "got 3 bytes\n".repeat(1000));
  assertEquals(nc.stderr.text, "");
});

Deno.test("socklab nc over IPv6 (::1): listen and connect, text both ways", async () => {
  await using listener = new Proc(socklab("nc", "-lv", "-p", "0", "::1"));
  const line = await listener.stderr.waitFor(/listening on TCP/);
  assertMatch(line, /^socklab nc: listening on TCP \[::1\]:\d+$/);
  await using client = new Proc(socklab("nc", "-v", "::1", String(portIn(line))));
  await listener.stderr.waitFor(/^socklab nc: connection from \[::1\]:\d+$/);
  await talkBothWays([client, "from client"], [listener, "from server"], [client, listener]);
  assertMatch(client.stderr.text, /^socklab nc: connected to \[::1\]:\d+ \(TCP\)$/m);
  assertMatch(client.stderr.text, /^socklab nc: sent 12 bytes, received 12 bytes$/m);
});

peerTest(
  "text both ways with nc.openbsd: socklab listens, nc -N connects",
  ["nc.openbsd"],
  async () => {
    await using listener = new Proc(socklab("nc", "-lv", "-p", "0", "127.0.0.1"));
    const port = portIn(await listener.stderr.waitFor(/listening on TCP/));
    await using peer = new Proc(["nc.openbsd", "-N", "127.0.0.1", String(port)]);
    await peer.write("ping from nc\n");
    await peer.closeStdin();
    await listener.stdout.waitFor("ping from nc");
    await listener.write("pong from socklab\n");
    await listener.closeStdin();
    const [a, b] = await Promise.all([peer.exit(), listener.exit()]);
    assertEquals([a.code, b.code], [0, 0], `${peer.stderr.text} ${listener.stderr.text}`);
    assertEquals(peer.stdout.text, "pong from socklab\n");
    assertEquals(listener.stdout.text, "ping from nc\n");
  },
);

peerTest(
  "nc.openbsd without -N into socklab nc -l < /dev/null: both finish (our half-close ends its wait)",
  ["nc.openbsd"],
  async () => {
    await using listener = new Proc(socklab("nc", "-lv", "-p", "0", "127.0.0.1"), {
      stdin: "null",
    });
    const port = portIn(await listener.stderr.waitFor(/listening on TCP/));
    await using peer = new Proc(["nc.openbsd", "127.0.0.1", String(port)]);
    await peer.write("no -N here\n");
    await peer.closeStdin();
    const [a, b] = await Promise.all([peer.exit(), listener.exit()]);
    assertEquals([a.code, b.code], [0, 0], `${peer.stderr.text} ${listener.stderr.text}`);
    assertEquals(listener.stdout.text, "no -N here\n");
  },
);

peerTest(
  "text both ways with nc.openbsd: nc listens, socklab connects",
  ["nc.openbsd"],
  async () => {
    const port = freePort();
    await using peer = new Proc(["nc.openbsd", "-N", "-l", "127.0.0.1", String(port)]);
    await tcpListening(port);
    await using nc = new Proc(socklab("nc", "127.0.0.1", String(port)));
    await nc.write("hello nc\n");
    await peer.stdout.waitFor("hello nc");
    await peer.write("hello socklab\n");
    await peer.closeStdin();
    await nc.stdout.waitFor("hello socklab");
    await nc.closeStdin();
    const [a, b] = await Promise.all([nc.exit(), peer.exit()]);
    assertEquals([a.code, b.code], [0, 0], `${nc.stderr.text} ${peer.stderr.text}`);
  },
);

peerTest("half-close against socat: the reply written after our end of input arrives whole", [
  "socat",
], async () => {
  const port = freePort();
  // socat runs `wc -c` per connection: it can only answer once it saw our EOF.
  await using _peer = new Proc([
    "socat",
    `TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr`,
    "SYSTEM:wc -c",
  ], { stdin: "null" });
  await tcpListening(port);
  await using nc = new Proc(socklab("nc", "127.0.0.1", String(port)));
  await nc.write("twelve bytes");
  await nc.closeStdin();
  assertEquals((await nc.exit()).code, 0, nc.stderr.text);
  assertEquals(nc.stdout.text.trim(), "12");
});

peerTest(
  "text both ways with socat: socklab nc connects to socat TCP-LISTEN",
  ["socat"],
  async () => {
    const port = freePort();
    await using peer = new Proc(["socat", `TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr`, "-"]);
    await tcpListening(port);
    await using nc = new Proc(socklab("nc", "127.0.0.1", String(port)));
    await talkBothWays([nc, "to socat"], [peer, "to socklab"], [peer, nc]);
  },
);

peerTest(
  "UDP both ways with socat: socklab nc -u talks to socat UDP-LISTEN",
  ["socat"],
  async () => {
    const port = freeUdpPort();
    await using peer = new Proc(["socat", `UDP-LISTEN:${port},bind=127.0.0.1`, "-"]);
    await udpBound(port);
    await using nc = new Proc(socklab("nc", "-u", "127.0.0.1", String(port)));
    await exchange([nc, "udp to socat"], [peer, "udp to socklab"]);
    await stopsCleanly(nc);
  },
);

peerTest("text both ways with socat: socat connects to socklab nc -l", ["socat"], async () => {
  await using listener = new Proc(socklab("nc", "-lv", "-p", "0", "127.0.0.1"));
  const port = portIn(await listener.stderr.waitFor(/listening on TCP/));
  await using peer = new Proc(["socat", "-", `TCP:127.0.0.1:${port}`]);
  await talkBothWays([peer, "from socat"], [listener, "from socklab"], [listener, peer]);
});

peerTest(
  "UDP both ways with nc.openbsd: socklab nc -u -l learns its peer from the first datagram",
  [
    "nc.openbsd",
  ],
  async () => {
    await using listener = new Proc(socklab("nc", "-u", "-lv", "-p", "0", "127.0.0.1"));
    const line = await listener.stderr.waitFor(/listening on UDP/);
    assertMatch(line, /^socklab nc: listening on UDP 127\.0\.0\.1:\d+$/);
    await using peer = new Proc(["nc.openbsd", "-u", "127.0.0.1", String(portIn(line))]);
    await exchange([peer, "datagram one"], [listener, "answer"]);
    await listener.stderr.waitFor(/^socklab nc: datagrams from 127\.0\.0\.1:\d+$/);
    await stopsCleanly(listener);
  },
);

peerTest("UDP both ways with nc.openbsd -u -l: socklab nc -u sends each input line as a datagram", [
  "nc.openbsd",
], async () => {
  const port = freeUdpPort();
  await using peer = new Proc(["nc.openbsd", "-u", "-l", "127.0.0.1", String(port)]);
  await udpBound(port);
  await using nc = new Proc(socklab("nc", "-u", "-v", "127.0.0.1", String(port)));
  await nc.stderr.waitFor(/^socklab nc: sending UDP datagrams to 127\.0\.0\.1:\d+ from port \d+$/);
  await exchange([nc, "over udp"], [peer, "udp reply"]);
  await stopsCleanly(nc);
});

peerTest(
  "UDP with socat both ways, and -w ends a quiet UDP session with exit 0",
  ["socat"],
  async () => {
    await using listener = new Proc(
      socklab("nc", "-u", "-l", "-v", "-w", "1", "-p", "0", "127.0.0.1"),
    );
    const port = portIn(await listener.stderr.waitFor(/listening on UDP/));
    await using peer = new Proc(["socat", "-", `UDP-SENDTO:127.0.0.1:${port}`]);
    await exchange([peer, "from socat"], [listener, "to socat"]);
    // Nothing more moves: the listener gives up after 1 s of silence.
    assertEquals((await listener.exit()).code, 0);
    assertMatch(listener.stderr.text, /^socklab nc: no data for 1 s: closing$/m);
    await peer.closeStdin();
    peer.kill();
  },
);

peerTest("a refused port: socklab nc exits 1 with one line, like nc.openbsd and socat", [
  "nc.openbsd",
  "socat",
], async () => {
  for (const host of ["127.0.0.1", "::1"]) {
    const port = freePort(host);
    await using nc = new Proc(socklab("nc", host, String(port)), { stdin: "null" });
    assertEquals((await nc.exit()).code, 1);
    const shown = host.includes(":") ? `[${host}]` : host;
    assertEquals(
      nc.stderr.text,
      `socklab nc: cannot connect to ${shown}:${port}: connection refused\n`,
    );
    assertEquals(nc.stdout.text, "");
    await using ref = new Proc(["nc.openbsd", host, String(port)], { stdin: "null" });
    assertEquals((await ref.exit()).code, 1);
    await using ref2 = new Proc(["socat", "-", `TCP:${shown}:${port}`], { stdin: "null" });
    assertEquals((await ref2.exit()).code, 1);
  }
});

Deno.test("-z reports open and closed ports with -v and exits 0 when one is open, 1 when none", async () => {
  const open = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const openPort = (open.addr as Deno.NetAddr).port;
  const closedPort = freePort();
  try {
    await using both = new Proc(
      socklab("nc", "-zv", "127.0.0.1", String(openPort), String(closedPort)),
      {
        stdin: "null",
      },
    );
    const accepted = open.accept().then((c) => c.close());
    assertEquals((await both.exit()).code, 0);
    await accepted;
    assertEquals(both.stderr.lines, [
      `socklab nc: 127.0.0.1:${openPort} (TCP) open`,
      `socklab nc: 127.0.0.1:${closedPort} (TCP) closed: connection refused`,
    ]);
    await using none = new Proc(socklab("nc", "-z", "127.0.0.1", String(closedPort)), {
      stdin: "null",
    });
    assertEquals((await none.exit()).code, 1);
    assertEquals(none.stderr.text, "");
  } finally {
    open.close();
  }
});

Deno.test("-w closes a TCP connection after SECS with no data either way, exit 0", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held = listener.accept();
  try {
    await using nc = new Proc(
      socklab("nc", "-v", "-w", "1", "127.0.0.1", String((listener.addr as Deno.NetAddr).port)),
    );
    await nc.write("something\n"); // moves data once, then silence (stdin stays open)
    assertEquals((await nc.exit()).code, 0);
    assertMatch(nc.stderr.text, /^socklab nc: no data for 1 s: closing$/m);
  } finally {
    (await held).close();
    listener.close();
  }
});

Deno.test("-k serves connections one after another; SIGTERM ends it with exit 0", async () => {
  await using listener = new Proc(socklab("nc", "-lkv", "-p", "0", "127.0.0.1"), { stdin: "null" });
  const port = portIn(await listener.stderr.waitFor(/listening on TCP/));
  for (const text of ["first", "second"]) {
    await using client = new Proc(socklab("nc", "127.0.0.1", String(port)));
    await client.write(`${text}\n`);
    await client.closeStdin();
    assertEquals((await client.exit()).code, 0);
    await listener.stdout.waitFor(text);
  }
  listener.kill("SIGTERM");
  assertEquals((await listener.exit()).code, 0);
  assertEquals(listener.stdout.lines, ["first", "second"]);
});

Deno.test("a closed stdout (| head) ends socklab nc instead of hanging", async () => {
  await using server = replyAfterEof();
  await using nc = new Proc([
    "sh",
    "-c",
    `printf x | "$@" | head -c 5`,
    "sh",
    ...socklab("nc", "127.0.0.1", String(server.port)),
  ], { stdin: "null" });
  assertEquals((await nc.exit()).code, 0);
  assertEquals(nc.stdout.text, "got 1");
});

Deno.test("usage errors exit 2 with the usage line; -n refuses names", async () => {
  await using bad = new Proc(socklab("nc", "-lz", "-p", "1"), { stdin: "null" });
  assertEquals((await bad.exit()).code, 2);
  assertMatch(bad.stderr.text, /^socklab nc: Cannot use -l and -z together\nusage: socklab nc /);
  await using named = new Proc(socklab("nc", "-n", "localhost", "9"), { stdin: "null" });
  assertEquals((await named.exit()).code, 1);
  assertEquals(
    named.stderr.text,
    "socklab nc: 'localhost' is not a numeric address (-n: no name look-ups)\n",
  );
  await using help = new Proc(socklab("nc", "--help"), { stdin: "null" });
  assertEquals((await help.exit()).code, 0);
  assertMatch(help.stdout.text, /^usage: socklab nc /);
});

Deno.test("a name from /etc/hosts (localhost) resolves for connect", async () => {
  await using server = replyAfterEof();
  await using nc = new Proc(socklab("nc", "-4", "localhost", String(server.port)));
  await nc.closeStdin();
  assertEquals((await nc.exit()).code, 0, nc.stderr.text);
  assertOk(nc.stdout.text.startsWith("got 0 bytes\n"));
});

netnsTest(
  "-w bounds the connect time: a SYN that is dropped (in a private namespace) gives exit 1 after SECS",
  ["ip", "nft"],
  "ncwait",
  async (ns) => {
    const port = 5555;
    const dropSyn =
      "add table inet t5; add chain inet t5 in { type filter hook input priority 0; }; " +
      `add rule inet t5 in tcp dport ${port} drop`;
    const nft = new Deno.Command("ip", { args: ["netns", "exec", ns.name, "nft", dropSyn] });
    assertEquals((await nft.output()).code, 0);
    await using nc = new Proc(ns.exec(socklab("nc", "-w", "1", "127.0.0.1", String(port))), {
      stdin: "null",
    });
    assertEquals((await nc.exit()).code, 1);
    assertEquals(
      nc.stderr.text,
      `socklab nc: cannot connect to 127.0.0.1:${port}: timed out after 1 s\n`,
    );
  },
  { root: true },
);
