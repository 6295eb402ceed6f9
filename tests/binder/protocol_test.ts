import { assertEquals, assertOk, throws } from "../helpers/assert.ts";
import {
  canonicalCommand,
  formatListReply,
  formatLookupReply,
  formatRegisterReply,
  formatTtlReply,
  formatUnregisterReply,
  noServerReply,
  type ParsedRequest,
  parseListReply,
  parseLookupReply,
  parseRegisterReply,
  parseRequest,
  parseTtlReply,
  parseUnregisterReply,
  recordIp,
} from "../../lib/binder/protocol.ts";

const REQUESTS: [string, string, ParsedRequest][] = [
  ["accepts REGISTER with several commands", "REGISTER MIN MAX", {
    kind: "register",
    commands: ["MIN", "MAX"],
  }],
  ["upper-cases keywords and commands", "register sort-up max", {
    kind: "register",
    commands: ["SORT-UP", "MAX"],
  }],
  ["drops a command repeated in one REGISTER", "REGISTER MAX max", {
    kind: "register",
    commands: ["MAX"],
  }],
  ["ignores nc's newline and the C client's NUL", "LOOKUP MAX\n\0", {
    kind: "lookup",
    command: "MAX",
  }],
  ["accepts tabs and runs of spaces between words", "LOOKUP \t  MAX\r\n", {
    kind: "lookup",
    command: "MAX",
  }],
  ["accepts UNREGISTER", "UNREGISTER", { kind: "unregister" }],
  ["accepts LIST", "LIST", { kind: "list", from: 0 }],
  ["accepts LIST CMD", "list min", { kind: "list", command: "MIN", from: 0 }],
  ["accepts LIST CMD from=N", "LIST MAX from=20", { kind: "list", command: "MAX", from: 20 }],
  ["accepts LIST from=N", "LIST FROM=3", { kind: "list", from: 3 }],
  ["accepts TTL", "TTL", { kind: "ttl" }],
  ["ignores an OK reply (never answers a reply)", "OK REGISTER MAX", { kind: "ignore" }],
  ["ignores an ERR reply", "ERR no server for MAX", { kind: "ignore" }],
  ["refuses an empty request", "", { kind: "error", reason: "empty request" }],
  ["refuses a request of only white space", " \n", { kind: "error", reason: "empty request" }],
  ["refuses REGISTER without a command", "REGISTER", {
    kind: "error",
    reason: "REGISTER needs at least one command",
  }],
  ["refuses UNREGISTER naming someone else's address", "UNREGISTER 127.0.0.1 4000", {
    kind: "error",
    reason: "UNREGISTER takes no arguments (it removes the sender's own records)",
  }],
  ["refuses LOOKUP without a command", "LOOKUP", { kind: "error", reason: "usage: LOOKUP CMD" }],
  ["refuses LOOKUP with two commands", "LOOKUP A B", {
    kind: "error",
    reason: "usage: LOOKUP CMD",
  }],
  ["refuses LIST with two commands", "LIST A B", {
    kind: "error",
    reason: "usage: LIST [CMD] [from=N]",
  }],
  ["refuses LIST with a bad from=", "LIST from=x", {
    kind: "error",
    reason: "usage: LIST [CMD] [from=N]",
  }],
  ["refuses TTL with an argument", "TTL 5", { kind: "error", reason: "usage: TTL" }],
];

for (const [name, text, expected] of REQUESTS) {
  Deno.test(`parseRequest() ${name}`, () => {
    assertEquals(parseRequest(text), expected);
  });
}

const BAD_NAMES: [string, string][] = [
  ["a name with a slash", "REGISTER a/b"],
  ["a 33-character name", `REGISTER ${"A".repeat(33)}`],
  ["the reserved name OK", "REGISTER MAX ok"],
  ["a name with a control byte", "LOOKUP M\x1bX"],
  ["a non-ASCII name", "LOOKUP M\u00c4X"],
];

for (const [name, text] of BAD_NAMES) {
  Deno.test(`parseRequest() refuses ${name}`, () => {
    const r = parseRequest(text);
    assertEquals(r.kind, "error");
    if (r.kind === "error") {
      assertOk(r.reason.startsWith("bad command name "), r.reason);
      // deno-lint-ignore no-control-regex
      assertOk(!/[\x00-\x1f]/.test(r.reason), "the reason is one printable line");
    }
  });
}

Deno.test("parseRequest() names an unknown request and lists the known ones", () => {
  assertEquals(parseRequest("HELLO there"), {
    kind: "error",
    reason: 'unknown request "HELLO" (expected REGISTER, UNREGISTER, LOOKUP, LIST or TTL)',
  });
});

Deno.test("parseRequest() quotes a long unknown word shortened and printable", () => {
  const r = parseRequest(`${"\x07".repeat(100)} x`);
  assertEquals(r.kind, "error");
  if (r.kind === "error") assertOk(r.reason.length < 250 && !r.reason.includes("\x07"), r.reason);
});

Deno.test("canonicalCommand() keeps the grammar's characters and upper-cases them", () => {
  assertEquals(canonicalCommand("sort-down"), "SORT-DOWN");
  assertEquals(canonicalCommand("a_b.c-1"), "A_B.C-1");
  assertEquals(canonicalCommand(""), undefined);
  assertEquals(canonicalCommand("ERR"), undefined);
});

Deno.test("the reply formatters write the SPEC's lines", () => {
  assertEquals(formatRegisterReply(["C1", "C2"]), "OK REGISTER C1 C2");
  assertEquals(formatUnregisterReply(3), "OK UNREGISTER 3");
  assertEquals(formatLookupReply("MAX", "127.0.0.1", 40001), "MAX 127.0.0.1 40001");
  assertEquals(noServerReply("MAX"), "ERR no server for MAX");
  assertEquals(formatTtlReply(30), "OK TTL 30");
});

const RECORDS = [
  { command: "MAX", ip: "127.0.0.1", port: 40001, secondsLeft: 29 },
  { command: "MIN", ip: "::1", port: 40002, secondsLeft: 3 },
];

Deno.test("formatListReply() writes a header and one line per record; parseListReply() reads it back", () => {
  const text = formatListReply(RECORDS, { maxBytes: 65507 });
  assertEquals(text, "OK LIST 2\nMAX 127.0.0.1 40001 29\nMIN ::1 40002 3");
  assertEquals(parseListReply(text), { records: RECORDS, total: 2, from: 0 });
  assertEquals(formatListReply([], { maxBytes: 65507 }), "OK LIST 0");
  assertEquals(parseListReply("OK LIST 0"), { records: [], total: 0, from: 0 });
});

Deno.test("formatListReply() keeps to one datagram and says how many it left out", () => {
  const many = Array.from({ length: 5000 }, (_, i) => ({
    command: `CMD${i}`,
    ip: "127.0.0.1",
    port: 40000 + (i % 20000),
    secondsLeft: 30,
  }));
  const text = formatListReply(many, { maxBytes: 65507 });
  assertOk(new TextEncoder().encode(text).length <= 65507);
  const parsed = parseListReply(text);
  assertOk(!("error" in parsed));
  if (!("error" in parsed)) {
    assertEquals(parsed.total, 5000);
    assertOk(parsed.records.length > 2000 && parsed.records.length < 5000);
    assertEquals(text.split("\n")[0], `OK LIST ${parsed.records.length} of 5000`);
  }
});

Deno.test("parseLookupReply() reads CMD IP PORT and passes an ERR through", () => {
  assertEquals(parseLookupReply("MAX 127.0.0.1 40001\n", "MAX"), { ip: "127.0.0.1", port: 40001 });
  assertEquals(parseLookupReply("MAX ::1 40001", "MAX"), { ip: "::1", port: 40001 });
  assertEquals(parseLookupReply("ERR no server for MAX", "MAX"), {
    error: "ERR no server for MAX",
  });
  throws(() => parseLookupReply("MIN 127.0.0.1 1", "MAX"), /expected "MAX IP PORT"/, SyntaxError);
  throws(() => parseLookupReply("MAX 127.0.0.1 70000", "MAX"), /bad port/, SyntaxError);
  throws(() => parseLookupReply("MAX 127.0.0.1", "MAX"), /expected/, SyntaxError);
  throws(() => parseLookupReply("MAX \x1b[2J 1", "MAX"), /not an IP address/, SyntaxError);
  throws(() => parseLookupReply("MAX example.com 1", "MAX"), /not an IP address/, SyntaxError);
});

Deno.test("the client-side reply parsers read OK replies and refuse garbage", () => {
  assertEquals(parseTtlReply("OK TTL 30"), 30);
  assertEquals(parseTtlReply("ERR unknown request"), undefined);
  throws(() => parseTtlReply("OK TTL 0"), /OK TTL/, SyntaxError);
  assertEquals(parseRegisterReply("OK REGISTER MAX"), true);
  assertEquals(parseRegisterReply("ERR binder table full"), "ERR binder table full");
  throws(() => parseRegisterReply("hello"), /OK REGISTER/, SyntaxError);
  assertEquals(parseUnregisterReply("OK UNREGISTER 4"), 4);
  throws(() => parseUnregisterReply("OK UNREGISTER"), /OK UNREGISTER n/, SyntaxError);
  throws(() => parseListReply("OK LIST 2\nMAX 127.0.0.1 1 1"), /OK LIST n/, SyntaxError);
  throws(() => parseListReply("OK LIST 1\nMAX \x1b]0;x 1 1"), /binder record/, SyntaxError);
  throws(() => parseListReply("OK LIST 1\nM\x1bX ::1 1 1"), /binder record/, SyntaxError);
});

Deno.test("recordIp() shows an IPv4-mapped IPv6 source as IPv4 and leaves the rest", () => {
  assertEquals(recordIp("::ffff:127.0.0.1"), "127.0.0.1");
  assertEquals(recordIp("::1"), "::1");
  assertEquals(recordIp("10.0.0.1"), "10.0.0.1");
});

Deno.test("parseRequest() reads trailing blanks as nothing (issue 17: MAX 1 with a space)", () => {
  assertEquals(parseRequest("LOOKUP MAX "), { kind: "lookup", command: "MAX" });
  assertEquals(parseRequest("REGISTER MIN MAX \t\r\n"), {
    kind: "register",
    commands: ["MIN", "MAX"],
  });
  assertEquals(parseRequest("LIST \n"), { kind: "list", from: 0 });
  assertEquals(parseRequest("UNREGISTER  "), { kind: "unregister" });
  assertEquals(parseRequest("  TTL\0"), { kind: "ttl" });
});

Deno.test("parseRequest() splits a signed REGISTER into its commands and signature", () => {
  const sig = "0f".repeat(32);
  assertEquals(parseRequest(`REGISTER MAX min t=1700000000123 sig=${sig}`), {
    kind: "register",
    commands: ["MAX", "MIN"],
    signature: { time: 1700000000123, sig, signed: "REGISTER MAX min t=1700000000123" },
  });
  assertEquals(parseRequest(`REGISTER MAX t=1 sig=abc`), {
    kind: "error",
    reason: "bad signature: expected t=MILLISECONDS sig=64-HEX-DIGITS at the end",
  });
  assertEquals(parseRequest(`REGISTER t=1 sig=${sig}`), {
    kind: "error",
    reason: "REGISTER needs at least one command",
  });
});

Deno.test("formatListReply() pages within the budget and names the request for the rest", () => {
  const records = Array.from({ length: 50 }, (_, i) => ({
    command: `C${i}`,
    ip: "127.0.0.1",
    port: 40000 + i,
    secondsLeft: 30,
  }));
  const more = (next: number) => `LIST from=${next} cookie=${"ab".repeat(8)}`;
  const first = formatListReply(records, { maxBytes: 512, more });
  assertOk(new TextEncoder().encode(first).length <= 512, `${first.length} bytes`);
  const page1 = parseListReply(first);
  assertOk(!("error" in page1));
  if ("error" in page1) return;
  assertEquals(page1.total, 50);
  assertEquals(page1.from, 0);
  const n = page1.records.length;
  assertOk(n > 5 && n < 50, `${n} records`);
  assertEquals(first.split("\n").at(-1), `(+${50 - n} more: send "${more(n)}")`);
  assertEquals(page1.more, more(n));

  const second = formatListReply(records, { maxBytes: 65507, from: n, more });
  assertEquals(second.split("\n")[0], `OK LIST ${50 - n} of 50 from ${n}`);
  const page2 = parseListReply(second);
  assertOk(!("error" in page2) && page2.more === undefined && page2.from === n);
  if (!("error" in page2)) {
    assertEquals([...page1.records, ...page2.records], records);
  }
});
