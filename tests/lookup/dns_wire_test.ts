import { assertEquals, assertOk, throws } from "../helpers/assert.ts";
import { decodeMessage, encodeQuery, parseType, reverseName } from "../../lib/lookup/dns_wire.ts";
import { charString, digLines, rdataText, recordLine } from "../../lib/lookup/dns_format.ts";
import { nameServers } from "../../lib/lookup/resolv_conf.ts";
import { ptonIPv4, ptonIPv6 } from "../../lib/lookup/inet.ts";
import { craftReply, fromHex, wireName } from "./wire_builder.ts";

const query = encodeQuery({ id: 0x1234, name: "mx.test", type: 15 });

Deno.test("encodeQuery() writes one question with RD and an EDNS0 OPT record", () => {
  const m = decodeMessage(query);
  assertEquals(m.id, 0x1234);
  assertEquals([m.flags.qr, m.flags.rd], [false, true]);
  assertEquals(m.questions, [{ name: "mx.test.", type: 15, cls: 1 }]);
  assertEquals(m.edns, { udpSize: 1232, version: 0, do: false });
  const plain = decodeMessage(
    encodeQuery({ id: 1, name: ".", type: 2, recursion: false, ednsSize: 0 }),
  );
  assertEquals([plain.questions[0].name, plain.flags.rd, plain.edns], [".", false, null]);
});

Deno.test("encodeQuery() refuses empty and over-long labels and names", () => {
  for (const bad of ["a..b", ".a", "x".repeat(64) + ".test", Array(130).fill("ab").join(".")]) {
    let threw = false;
    try {
      encodeQuery({ id: 1, name: bad, type: 1 });
    } catch (err) {
      threw = err instanceof SyntaxError;
    }
    assertOk(threw, `"${bad.slice(0, 20)}..." should be refused`);
  }
});

Deno.test("decodeMessage() follows compression pointers and decodes each known type", () => {
  const reply = craftReply(query, [
    { type: 15, ttl: 300, rdata: "000a" + wireName("mail.test") },
    { type: 15, ttl: 300, rdata: "0014c00c" }, // exchange compressed to the question name
    { type: 16, ttl: 5, rdata: "03616263" + "00" },
    { type: 33, ttl: 1, rdata: "0001000213c4" + wireName("sip.test") },
    { type: 257, ttl: 1, rdata: "8005697373756561" },
    { type: 28, ttl: 1, rdata: "fd000000000000000000000000000002" },
  ]);
  const m = decodeMessage(reply);
  assertEquals(m.answers.map((r) => rdataText(r.rdata)), [
    "10 mail.test.",
    "20 mx.test.",
    '"abc" ""',
    "1 2 5060 sip.test.",
    '128 issue "a"',
    "fd00::2",
  ]);
  assertEquals(m.answers[0].ttl, 300);
});

const MALFORMED: [string, string][] = [
  ["a message shorter than the header", "1234"],
  ["a question that runs past the end", "123481800001000000000000" + "05616263"],
  ["a pointer that points forward", "123481800001000000000000" + "c00e00010001"],
  ["a pointer to itself", "123481800001000000000000" + "c00c00010001"],
  ["an extended label type", "123481800001000000000000" + "4100010001"],
  [
    "an A record with 3 bytes",
    "123481800001000100000000" + "0000010001" + "0000010001000000010003010203",
  ],
  [
    "a record whose rdlength runs past the end",
    "123481800001000100000000" + "0000010001" + "00000100010000000100ff0102",
  ],
  [
    "a name longer than 255 bytes",
    "123481800001000000000000" + "3f".concat("61".repeat(63)).repeat(5) + "00" + "00010001",
  ],
];
for (const [what, hex] of MALFORMED) {
  Deno.test(`decodeMessage() rejects ${what} with a SyntaxError`, () => {
    let err: unknown;
    try {
      decodeMessage(fromHex(hex));
    } catch (e) {
      err = e;
    }
    assertOk(err instanceof SyntaxError, `got ${err}`);
    assertOk(/^Malformed DNS message/.test((err as Error).message));
  });
}

Deno.test("decodeMessage() keeps the whole records of a truncated (TC) reply", () => {
  const full = craftReply(query, [
    { type: 15, ttl: 1, rdata: "000a" + wireName("a.test") },
    { type: 15, ttl: 1, rdata: "000b" + wireName("b.test") },
  ], { tc: true });
  const cut = full.subarray(0, full.length - 3);
  const m = decodeMessage(cut);
  assertEquals([m.flags.tc, m.answers.length], [true, 1]);
});

Deno.test("decodeMessage() survives 20000 random mutations of a reply: a result or a SyntaxError", () => {
  const base = craftReply(query, [
    { type: 15, ttl: 300, rdata: "000ac00c" },
    { type: 6, ttl: 1, rdata: wireName("ns.test") + "c00c" + "00000001".repeat(5) },
    { type: 16, ttl: 1, rdata: "03616263" },
    { type: 35, ttl: 1, rdata: "000a00140153034e4150015e00" },
  ]);
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  let ok = 0;
  let rejected = 0;
  for (let k = 0; k < 20000; k++) {
    const m = base.slice(0, Math.max(1, Math.floor(base.length * (rnd() < 0.2 ? rnd() : 1))));
    for (let n = 1 + Math.floor(rnd() * 4); n > 0; n--) {
      m[Math.floor(rnd() * m.length)] = Math.floor(rnd() * 256);
    }
    try {
      const d = decodeMessage(m);
      // Formatting must not throw either.
      digLines(d, { server: "127.0.0.1", port: 53, transport: "UDP", ms: 1 });
      ok++;
    } catch (err) {
      if (!(err instanceof SyntaxError)) throw err;
      rejected++;
    }
  }
  assertOk(ok > 1000 && rejected > 1000, `decoded ${ok}, rejected ${rejected}`);
});

Deno.test("charString() escapes quotes, backslashes and non-printable bytes as dig does", () => {
  assertEquals(
    charString(new Uint8Array([0x61, 0x22, 0x5c, 0x3b, 0x20, 0, 0x7f, 0xc3])),
    '"a\\"\\\\; \\000\\127\\195"',
  );
});

Deno.test("recordLine() lays columns out on dig's tab stops", () => {
  const m = decodeMessage(craftReply(query, [{ type: 15, ttl: 300, rdata: "000ac00c" }]));
  assertEquals(recordLine(m.answers[0]), "mx.test.\t\t300\tIN\tMX\t10 mx.test.");
});

Deno.test("parseType() takes mnemonics in any case and TYPEn, and refuses the rest", () => {
  assertEquals([parseType("mx"), parseType("CAA"), parseType("type65280")], [15, 257, 65280]);
  for (const bad of ["MXX", "TYPE65536", "", "TYPE"]) {
    throws(() => parseType(bad), new RegExp(`^Unknown record type "${bad}"$`));
  }
});

Deno.test("reverseName() builds in-addr.arpa and ip6.arpa names", () => {
  assertEquals(reverseName(ptonIPv4("10.0.0.2")!), "2.0.0.10.in-addr.arpa.");
  assertEquals(
    reverseName(ptonIPv6("2001:db8::1")!),
    "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.",
  );
});

Deno.test("nameServers() reads resolv.conf like glibc: up to 3, comments, bad lines skipped", () => {
  const text = `# comment
search example.test
nameserver 10.0.0.53 # trailing comment
nameserver not-an-address
nameserver ::1
nameserver 10.0.0.54
nameserver 10.0.0.55
`;
  assertEquals(nameServers(text), ["10.0.0.53", "::1", "10.0.0.54"]);
  assertEquals(nameServers("options ndots:1\n"), ["127.0.0.1"]);
});
