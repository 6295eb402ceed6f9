import { assertEquals } from "../helpers/assert.ts";
import {
  isValidName,
  parseRegistryRequest,
  parseRegistryText,
  parseUsersReply,
  Registry,
  type RegistryRequest,
  whoReply,
} from "../../lib/registry/protocol.ts";

const PARSE: [string, string, RegistryRequest][] = [
  ["register NAME", "register alice", { kind: "register", name: "alice" }],
  ["unregister NAME", "unregister alice", { kind: "unregister", name: "alice" }],
  ["who NAME", "who alice", { kind: "who" }],
  ["who alone", "who", { kind: "who" }],
  ["upper-case commands", "REGISTER Bob", { kind: "register", name: "Bob" }],
  ["a 32-character name of every allowed kind", `register ${"a_.-9Z".repeat(5)}ab`, {
    kind: "register",
    name: `${"a_.-9Z".repeat(5)}ab`,
  }],
  ["blanks around", "  register   carol \t", { kind: "register", name: "carol" }],
  ["an empty request as an error", "", {
    kind: "error",
    reason: "empty request (register, unregister, who)",
  }],
  ["an unknown command as an error", "delete alice", {
    kind: "error",
    reason: 'unknown command "delete" (register, unregister, who)',
  }],
  ["a missing name as an error", "register", {
    kind: "error",
    reason: "missing name (register NAME)",
  }],
  ["extra words as an error", "register alice bob", {
    kind: "error",
    reason: "too many words (register NAME)",
  }],
  ["a 33-character name as an error", `register ${"a".repeat(33)}`, {
    kind: "error",
    reason: `invalid name "${"a".repeat(32)}..." (1-32 letters, digits, _ . -)`,
  }],
  ["a name with other characters as an error", "register al!ce", {
    kind: "error",
    reason: 'invalid name "al!ce" (1-32 letters, digits, _ . -)',
  }],
  ["a non-ASCII name as an error", "register zoë", {
    kind: "error",
    reason: 'invalid name "zoë" (1-32 letters, digits, _ . -)',
  }],
  ["an invalid name after who as an error", "who a/b", {
    kind: "error",
    reason: 'invalid name "a/b" (1-32 letters, digits, _ . -)',
  }],
];

for (const [name, text, expected] of PARSE) {
  Deno.test(`parseRegistryText() reads ${name}`, () => {
    assertEquals(parseRegistryText(text), expected);
  });
}

const enc = (s: string) => new TextEncoder().encode(s);
const DATAGRAMS: [string, Uint8Array, RegistryRequest["kind"]][] = [
  ["nc's line with its newline", enc("who\n"), "who"],
  ["the C client's trailing NUL", enc("register x\0"), "register"],
  ["65,507 bytes (an error)", new Uint8Array(65507).fill(0x61), "error"],
  ["one line of 10,000 words (an error)", enc("who ".repeat(10_000)), "error"],
  ["binary (an error)", new Uint8Array([0xff, 0x01]), "error"],
  ["inner NULs (an error)", enc("register a\0b"), "error"],
  ["invalid UTF-8 (an error)", new Uint8Array([0x77, 0x68, 0x6f, 0x20, 0xe2, 0x28, 0xa1]), "error"],
  ["an ERR reply (ignored)", enc("ERR alice is already registered"), "ignore"],
];

for (const [name, data, kind] of DATAGRAMS) {
  Deno.test(`parseRegistryRequest() takes ${name}`, () => {
    assertEquals(parseRegistryRequest(data).kind, kind);
  });
}

Deno.test("isValidName() allows 1-32 letters, digits, _ . - and nothing else", () => {
  for (const ok of ["a", "A9", "x_y.z-w", "a".repeat(32)]) assertEquals(isValidName(ok), true, ok);
  for (const bad of ["", "a".repeat(33), "a b", "a/b", "é", "a\tb"]) {
    assertEquals(isValidName(bad), false, bad);
  }
});

const run = (r: Registry, text: string, sender = "10.0.0.1:1000", now = 0) =>
  r.apply(parseRegistryText(text), sender, now).reply;

Deno.test("Registry gives the SPEC's exact replies, names in registration order", () => {
  const r = new Registry();
  assertEquals(run(r, "who"), "USERS");
  assertEquals(run(r, "register carol"), "OK registered carol");
  assertEquals(run(r, "register alice", "10.0.0.2:1"), "OK registered alice");
  assertEquals(run(r, "register carol", "10.0.0.3:1"), "ERR carol is already registered");
  assertEquals(run(r, "who me"), "USERS carol alice");
  assertEquals(run(r, "unregister bob"), "ERR bob is not registered");
  assertEquals(run(r, "unregister carol", "10.0.0.3:1"), "OK unregistered carol");
  assertEquals(run(r, "register carol", "10.0.0.4:1"), "OK registered carol");
  assertEquals(run(r, "who"), "USERS alice carol", "a re-registered name goes to the end");
});

Deno.test("Registry answers a sender's retried register with OK, not 'already registered'", () => {
  const r = new Registry({ retryWindowMs: 30_000 });
  assertEquals(run(r, "register alice", "A:1", 0), "OK registered alice");
  const retry = r.apply(parseRegistryText("register alice"), "A:1", 2000);
  assertEquals(retry, { reply: "OK registered alice", repeat: true }, "the lost reply, again");
  assertEquals(run(r, "register alice", "B:2", 2000), "ERR alice is already registered");
  assertEquals(run(r, "who", "A:1", 2000), "USERS alice", "registered once");
});

Deno.test("Registry answers a retried unregister with OK and never removes a newer owner", () => {
  const r = new Registry();
  run(r, "register alice", "A:1", 0);
  assertEquals(run(r, "unregister alice", "A:1", 10), "OK unregistered alice");
  assertEquals(run(r, "register alice", "B:2", 20), "OK registered alice");
  assertEquals(run(r, "unregister alice", "A:1", 30), "OK unregistered alice", "A's retry");
  assertEquals(run(r, "who", "C:3", 40), "USERS alice", "B's registration stands");
});

Deno.test("Registry treats a repeat after the retry window as a new request", () => {
  const r = new Registry({ retryWindowMs: 1000 });
  run(r, "register alice", "A:1", 0);
  assertEquals(run(r, "register alice", "A:1", 1001), "ERR alice is already registered");
});

Deno.test("Registry does not remember errors: a retry after the name frees up succeeds", () => {
  const r = new Registry();
  run(r, "register alice", "A:1", 0);
  assertEquals(run(r, "register alice", "B:2", 1), "ERR alice is already registered");
  run(r, "unregister alice", "A:1", 2);
  assertEquals(run(r, "register alice", "B:2", 3), "OK registered alice");
});

Deno.test("Registry only treats the same request from the same sender as a retry", () => {
  const r = new Registry();
  run(r, "register alice", "A:1", 0);
  run(r, "register bob", "A:1", 1);
  assertEquals(run(r, "register alice", "A:1", 2), "ERR alice is already registered");
  assertEquals(run(r, "register bob", "A:2", 3), "ERR bob is already registered", "other port");
});

Deno.test("Registry refuses names beyond its limit", () => {
  const r = new Registry({ maxNames: 2 });
  run(r, "register a");
  run(r, "register b");
  assertEquals(run(r, "register c"), "ERR registry is full (2 names)");
});

Deno.test("Registry forgets the oldest senders beyond its limit", () => {
  const r = new Registry({ maxSenders: 2 });
  run(r, "register a", "S:1", 0);
  run(r, "register b", "S:2", 1);
  run(r, "register c", "S:3", 2);
  assertEquals(run(r, "register a", "S:1", 3), "ERR a is already registered", "S:1 forgotten");
  assertEquals(run(r, "register c", "S:3", 4), "OK registered c", "S:3 remembered");
});

Deno.test("Registry's USERS reply for 1000 names of 32 characters fits in one datagram", () => {
  const r = new Registry();
  for (let i = 0; i < 1000; i++) {
    run(r, `register ${String(i).padStart(32, "n")}`, `10.0.${i >> 8}.${i & 255}:1`);
  }
  const users = run(r, "who")!;
  assertEquals(users.split(" ").length, 1001);
  assertEquals(users.length <= 65507, true, `${users.length} bytes`);
});

Deno.test("parseRegistryText() takes a trailing cookie off a who", () => {
  assertEquals(parseRegistryText("who alice cookie=00ff00ff00ff00ff"), {
    kind: "who",
    cookie: "00ff00ff00ff00ff",
  });
  assertEquals(parseRegistryText("who cookie=AB"), { kind: "who", cookie: "ab" });
});

Deno.test("whoReply() gives the whole list when it fits, else a page and the cookie", () => {
  const names = Array.from({ length: 40 }, (_, i) => `name${String(i).padStart(2, "0")}`);
  assertEquals(whoReply(names.slice(0, 3), 512, "c0ffee"), "USERS name00 name01 name02");
  const page = whoReply(names, 100, "c0ffee");
  assertEquals(page.length <= 100, true, page);
  const parsed = parseUsersReply(page)!;
  assertEquals(parsed.names, names.slice(0, parsed.names.length));
  assertEquals(parsed.more, { count: 40 - parsed.names.length, cookie: "c0ffee" });
  assertEquals(whoReply(names, Infinity, "c0ffee"), `USERS ${names.join(" ")}`);
  assertEquals(parseUsersReply(`USERS ${names.join(" ")}`), { names });
  assertEquals(parseUsersReply("USERS"), { names: [] });
  assertEquals(parseUsersReply("OK registered x"), undefined);
});

Deno.test("Registry answers an unvalidated who within max(3x the request, 512) bytes", () => {
  const r = new Registry();
  for (let i = 0; i < 1000; i++) {
    run(r, `register ${String(i).padStart(32, "n")}`, `10.0.${i >> 8}.${i & 255}:1`);
  }
  const asker = {
    sender: "10.9.9.9:53",
    source: "10.9.9.9",
    requestBytes: 3,
    validated: false,
    cookie: "0123456789abcdef",
  };
  const reply = r.apply(parseRegistryText("who"), asker, 0).reply!;
  assertEquals(reply.length <= 512, true, `${reply.length} bytes`);
  assertEquals(parseUsersReply(reply)?.more?.cookie, "0123456789abcdef");
  const whole = r.apply(parseRegistryText("who"), { ...asker, validated: true }, 0).reply!;
  assertEquals(parseUsersReply(whole)?.names.length, 1000);
});

Deno.test("Registry lets one source hold at most its quota of names; unregister frees one", () => {
  const r = new Registry({ perSource: 2 });
  assertEquals(run(r, "register a", "10.0.0.1:1"), "OK registered a");
  assertEquals(run(r, "register b", "10.0.0.1:2"), "OK registered b");
  assertEquals(
    run(r, "register c", "10.0.0.1:3"),
    "ERR 10.0.0.1 holds 2 names already (the most one host may)",
  );
  assertEquals(run(r, "register c", "10.0.0.2:3"), "OK registered c");
  assertEquals(run(r, "unregister a", "10.0.0.2:4"), "OK unregistered a");
  assertEquals(run(r, "register d", "10.0.0.1:5"), "OK registered d");
});
