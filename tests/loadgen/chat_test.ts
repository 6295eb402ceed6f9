import { assertEquals, assertOk, rejects } from "../helpers/assert.ts";
import { type ChatLoadOptions, type ChatLoadResult, runChatLoad } from "../../lib/loadgen/chat.ts";
import {
  chatLine,
  LineBuffer,
  type LineVisitor,
  MAX_LINE,
  messageText,
  probeOf,
  scanLines,
  sentTimeOf,
} from "../../lib/loadgen/chat_lines.ts";
import { runTcpChatServer } from "../../lib/chat/tcp_server.ts";
import { closeQuietly, listenTcp, readLines, writeAll } from "../../lib/net/tcp.ts";
import { freePort, spawnProgram } from "../helpers/cli.ts";
import { peerPath, peerTest } from "../helpers/peers.ts";

const LINES: [string, string, number | undefined][] = [
  ["a socklab delivery", `Msg bench3 says: ${messageText(123456789, 64)}`, 123456789],
  ["an ncat delivery", `<user5> ${messageText(42, 16)}`, 42],
  ["a line without the marker", "Msg alice says: hello", undefined],
  ["a marker without its end", "Msg x says: ~b~123", undefined],
  ["a marker without digits", "Msg x says: ~b~~", undefined],
];

for (const [name, line, t] of LINES) {
  Deno.test(`sentTimeOf() reads ${name}`, () => assertEquals(sentTimeOf(line), t));
}

const SCANS: [string, string, (number | string)[], string][] = [
  ["two deliveries and a notice", "Msg a says: ~b~10~xx\n*** b joined\n<user4> ~b~20~\n", [
    10,
    "*** b joined",
    20,
  ], ""],
  [
    "an unfinished line kept for the next read",
    "Msg a says: ~b~10~\nMsg a says: ~b~2",
    [10],
    "Msg a says: ~b~2",
  ],
  ["CR LF line ends", "OK signed in as x\r\n~b~5~\r\n", ["OK signed in as x", 5], ""],
  ["a marker that ends on the next line is not a delivery", "~b~12\n~ x\n", ["~b~12", "~ x"], ""],
  ["a marker without digits", "Msg a says: ~b~~\n", ["Msg a says: ~b~~"], ""],
  ["malformed digits as a line", "Msg a says: ~b~12x4~\n<user1> ~b~1 2~\n", [
    "Msg a says: ~b~12x4~",
    "<user1> ~b~1 2~",
  ], ""],
  ["notices before and after a delivery", "a\nb\n~b~7~\nc\n", ["a", "b", 7, "c"], ""],
  ["a probe is an ordinary line", "<user1> ~p~3~\n", ["<user1> ~p~3~"], ""],
  ["a lone tilde and a b before the marker", "<u~b> ~ ~b ~b~9~x\n", [9], ""],
  ["empty lines", "\n\r\n~b~4~\n", ["", "", 4], ""],
  ["nothing whole yet", "Msg a sa", [], "Msg a sa"],
  ["non-ASCII names around deliveries", "Msg zoë says: ~b~15~é\n*** Zoë joined\n<user2> ~b~16~\n", [
    15,
    "*** Zoë joined",
    16,
  ], ""],
  // Four 2-byte characters: the digits of the next line are 4 bytes further than in the text.
  ["a delivery after non-ASCII text", "éééé\n<u9~b~5~\n", ["éééé", 5], ""],
  ["a send time of 20 digits, rounded as Number() does", "~b~12345678901234567890~\n", [
    Number("12345678901234567890"),
  ], ""],
  ["a send time Number() reads (same as sentTimeOf)", "~b~1e3~\n~b~ 5~\n", [1000, 5], ""],
];

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Events of a scan, deliveries as numbers and other lines as strings. */
function recorder(): { got: (number | string)[]; visitor: LineVisitor } {
  const got: (number | string)[] = [];
  return { got, visitor: { delivery: (t) => got.push(t), line: (l) => got.push(l) } };
}

for (const [name, text, seen, rest] of SCANS) {
  Deno.test(`scanLines() reports ${name}`, () => {
    const bytes = encoder.encode(text);
    const { got, visitor } = recorder();
    const left = scanLines(bytes, visitor);
    assertEquals([got, decoder.decode(bytes.subarray(left))], [seen, rest]);
  });
}

Deno.test("scanLines() decodes invalid UTF-8 in a notice as U+FFFD and still reads the deliveries", () => {
  const bytes = Uint8Array.of(
    0xff,
    0x61,
    0x0a,
    ...encoder.encode("Msg a says: ~b~3~\xff\n"),
    0xc3,
    0x0a,
  );
  const { got, visitor } = recorder();
  assertEquals(scanLines(bytes, visitor), bytes.length);
  assertEquals(got, ["\ufffda", 3, "\ufffd"]);
});

Deno.test("scanLines() scans only bytes[from, end) and says where the rest starts", () => {
  const bytes = encoder.encode("junk~b~1~\n~b~2~\nOK x\n~b~3~\nmore");
  const { got, visitor } = recorder();
  const from = bytes.indexOf(10) + 1;
  const end = bytes.length - 6; // inside "~b~3~\n"
  assertEquals(scanLines(bytes, visitor, from, end), from + "~b~2~\nOK x\n".length);
  assertEquals(got, [2, "OK x"]);
});

/** Feeds `chunks` to a LineBuffer as reads of at most `readSize` bytes. */
function feed(chunks: Uint8Array[], readSize?: number): (number | string)[] {
  const lines = new LineBuffer(readSize);
  const { got, visitor } = recorder();
  for (const chunk of chunks) {
    for (let at = 0; at < chunk.length;) {
      const space = lines.space();
      const n = Math.min(space.length, chunk.length - at);
      space.set(chunk.subarray(at, at + n));
      lines.filled(n, visitor);
      at += n;
    }
  }
  return got;
}

/** What the per-line string functions make of `text`: the events a scan must report. */
function expectedEvents(text: string): (number | string)[] {
  const lines = text.split("\n");
  lines.pop(); // unfinished
  return lines.map((line) => sentTimeOf(line) ?? line.replace(/\r$/, ""));
}

const STREAM = [
  "<announce> 127.0.0.1 is connected as <user3>.\r\n",
  `<user1> ${messageText(987654321, 64)}\n`,
  "OK signed in as c7\n",
  `Msg c12 says: ${messageText(5, 20)}\r\n`,
  "<user2> ~p~4~\n",
  "Msg zoë says: ~b~77~ – ünïcode\n",
  "Msg a says: ~b~9x~\n",
  "*** nobody ~ here\n",
  `<user199> ${messageText(12345678901, 80)}\n`,
].join("");

Deno.test("LineBuffer reports the same lines however a stream is split into two reads", () => {
  const bytes = encoder.encode(STREAM);
  const want = expectedEvents(STREAM);
  assertEquals(want.filter((e) => typeof e === "number").length, 4); // the stream has deliveries
  for (let cut = 0; cut <= bytes.length; cut++) {
    assertEquals(feed([bytes.subarray(0, cut), bytes.subarray(cut)]), want, `cut at ${cut}`);
  }
});

Deno.test("LineBuffer reports the same lines read one byte at a time and in small reads", () => {
  const bytes = encoder.encode(STREAM);
  const want = expectedEvents(STREAM);
  assertEquals(feed([...bytes].map((b) => Uint8Array.of(b))), want);
  for (const readSize of [1, 2, 3, 7, 64]) assertEquals(feed([bytes], readSize), want);
});

Deno.test("LineBuffer keeps a line of MAX_LINE bytes but drops a longer one up to its end", () => {
  const longest = "y".repeat(MAX_LINE);
  assertEquals(feed([encoder.encode(longest), encoder.encode("\n~b~1~\n")], 4096), [longest, 1]);
  const runaway = encoder.encode("z".repeat(MAX_LINE + 1));
  // In one read, in many reads, and with the line end in a later read: dropped whole.
  assertEquals(feed([runaway, encoder.encode("\n~b~2~\n"), encoder.encode("OK\n")]), [2, "OK"]);
  assertEquals(feed([runaway, encoder.encode("tail\n~b~2~\nOK\n")], 1000), [2, "OK"]);
  assertEquals(feed([encoder.encode("~b~1~\n"), runaway, runaway, encoder.encode("\nOK\n")]), [
    1,
    "OK",
  ]);
});

Deno.test("messageText() pads to the requested size and keeps the marker when too small", () => {
  assertEquals(messageText(1000, 64).length, 64);
  assertEquals(messageText(123456, 4), "~b~123456~");
});

Deno.test("chatLine() speaks each dialect and probeOf() reads a probe back", () => {
  assertEquals(chatLine("socklab", "hi"), "chat hi\n");
  assertEquals(chatLine("ncat", "hi"), "hi\n");
  assertEquals(probeOf("<user4> ~p~7~"), 7);
  assertEquals(probeOf("Msg a says: ~b~7~"), undefined);
});

/** runChatLoad() against socklab's TCP chat server, run in this process on a free port. */
async function loadSocklabChat(options: ChatLoadOptions): Promise<ChatLoadResult> {
  const controller = new AbortController();
  const listener = listenTcp({ hostname: "127.0.0.1", port: 0 });
  const serving = runTcpChatServer(listener, { signal: controller.signal, log: () => {} });
  try {
    return await runChatLoad({ hostname: "127.0.0.1", port: listener.addr.port }, options);
  } finally {
    controller.abort();
    await serving;
  }
}

Deno.test("runChatLoad() against socklab's chat server: every member, sender included, gets every message", async () => {
  let readyAt = -1;
  const r = await loadSocklabChat({
    clients: 20,
    rate: 200,
    durationMs: 500,
    onReady: () => {
      readyAt = performance.now();
    },
  });
  assertOk(readyAt > 0, "onReady was called");
  assertEquals(r.connected, 20);
  assertEquals(r.fanout, 20);
  assertOk(r.messages >= 90 && r.messages <= 101, `${r.messages} messages at 200/s for 0.5 s`);
  assertEquals([r.expected, r.deliveries, r.lost], [r.messages * 20, r.messages * 20, 0]);
  assertEquals(r.latency.count, r.deliveries);
  assertOk(r.elapsedMs >= 500);
});

Deno.test("runChatLoad() with perClientRate has every client send on the same ticks, its first line at once", async () => {
  const r = await loadSocklabChat({ clients: 5, rate: 0, perClientRate: 10, durationMs: 450 });
  // Lines due per client: floor(t × 10) + 1 while t < 0.45 s, so 5 each.
  assertEquals([r.messages, r.deliveries, r.lost], [25, 125, 0]);
  assertOk(r.endedAt <= Date.now());
});

Deno.test("runChatLoad() with rate 0 keeps the clients idle and counts nothing", async () => {
  const r = await loadSocklabChat({ clients: 5, rate: 0, durationMs: 50 });
  assertEquals([r.connected, r.messages, r.deliveries, r.lost], [5, 0, 0, 0]);
});

Deno.test("runChatLoad() fails with the server's reason when a name is refused", async () => {
  await rejects(
    loadSocklabChat({ clients: 2, rate: 10, durationMs: 100, namePrefix: "bad name" }),
    /did not sign bad name0 in: ERR invalid name/,
  );
});

Deno.test("runChatLoad() counts copies a server never delivers as lost", async () => {
  // A server that signs everyone in, answers probes, but drops every load message.
  const listener = listenTcp({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.TcpConn[] = [];
  const serving = (async () => {
    const handlers: Promise<void>[] = [];
    for await (const conn of listener) {
      conns.push(conn);
      handlers.push((async () => {
        for await (const f of readLines(conn)) {
          if (f.kind !== "line") continue;
          const m = /^signin (\S+)$/.exec(f.text);
          const reply = m
            ? `OK signed in as ${m[1]}\n`
            : f.text.includes("~p~")
            ? `Msg x says: ${f.text.slice(5)}\n`
            : "";
          if (!reply) continue;
          for (const c of m ? [conn] : conns) {
            await writeAll(c, new TextEncoder().encode(reply)).catch(() => {});
          }
        }
      })());
    }
    await Promise.all(handlers);
  })();
  try {
    const r = await runChatLoad({ hostname: "127.0.0.1", port: listener.addr.port }, {
      clients: 3,
      rate: 100,
      durationMs: 200,
      drainMs: 50,
    });
    assertOk(r.messages > 0);
    assertEquals([r.deliveries, r.lost], [0, r.messages * 3]);
  } finally {
    listener.close();
    conns.forEach(closeQuietly);
    await serving;
  }
});

Deno.test("runChatLoad() reports a refused connection", async () => {
  await rejects(
    runChatLoad({ hostname: "127.0.0.1", port: freePort() }, {
      clients: 3,
      rate: 1,
      durationMs: 10,
    }),
    /^cannot connect to chat server 127\.0\.0\.1:\d+: connection refused$/,
  );
});

peerTest(
  "runChatLoad() drives ncat --chat: each client joins once ncat greets it, and every other client gets every message",
  ["ncat"],
  async () => {
    const port = freePort();
    await using ncat = spawnProgram(
      [peerPath("ncat"), "-v", "--chat", "--listen", "127.0.0.1", String(port)],
      { stdin: false },
    );
    await ncat.stderr.waitFor(/Listening on/);
    // 40 clients: several connect batches, each waiting for ncat's greeting.
    const r = await runChatLoad({ hostname: "127.0.0.1", port }, {
      clients: 40,
      rate: 100,
      durationMs: 300,
      dialect: "ncat",
    });
    assertEquals([r.connected, r.fanout], [40, 39]);
    assertOk(r.messages > 0);
    assertEquals([r.deliveries, r.lost], [r.messages * 39, 0]);
    ncat.kill();
  },
);
