import { assertEquals } from "../helpers/assert.ts";
import {
  formatMsg,
  formatRequest,
  formatUsers,
  leftNotice,
  logLines,
  nameProblem,
  parseRequest,
  parseServerLine,
  type Request,
  type ServerLine,
} from "../../lib/chat/protocol.ts";

const NAME_HINT = "use 1-32 letters, digits, _ . -";

const REQUESTS: [string, string, Request][] = [
  ["accepts signin with a name", "signin alice", { kind: "signin", name: "alice" }],
  ["accepts names with digits, _ . and -", "signin a_1.b-2", { kind: "signin", name: "a_1.b-2" }],
  ["accepts command words in any case", "SIGNIN Bob", { kind: "signin", name: "Bob" }],
  ["ignores spaces around the name", "signin   carol  ", { kind: "signin", name: "carol" }],
  ["rejects signin without a name", "signin", {
    kind: "invalid",
    reason: "signin needs a NAME",
    command: "signin",
  }],
  ["rejects a name with a space in it", "signin two words", {
    kind: "invalid",
    reason: `invalid name 'two words': ${NAME_HINT}`,
    command: "signin",
  }],
  ["rejects a name of 33 characters", `signin ${"x".repeat(33)}`, {
    kind: "invalid",
    reason: `invalid name '${"x".repeat(33)}': ${NAME_HINT}`,
    command: "signin",
  }],
  ["shows control bytes of a bad name escaped", "signin a\x1bb", {
    kind: "invalid",
    reason: `invalid name 'a\\x1bb': ${NAME_HINT}`,
    command: "signin",
  }],
  ["accepts signout with the name", "signout alice", { kind: "signout", name: "alice" }],
  ["accepts signout alone", "signout", { kind: "signout" }],
  ["accepts who with the lecture's NAME", "who alice", { kind: "who" }],
  ["accepts who alone", "who", { kind: "who" }],
  ["keeps the chat text as typed", "chat hello,  world ", { kind: "chat", text: "hello,  world " }],
  ["keeps a chat text that looks like a command", "chat signin x", {
    kind: "chat",
    text: "signin x",
  }],
  ["escapes control characters in a chat text", "chat a\x1b[2Jb\rc", {
    kind: "chat",
    text: "a\\x1b[2Jb\\x0dc",
  }],
  ["keeps non-ASCII chat text", "chat h\u00e9llo \u4f60\u597d", {
    kind: "chat",
    text: "h\u00e9llo \u4f60\u597d",
  }],
  ["rejects an empty chat", "chat", { kind: "invalid", reason: "empty message", command: "chat" }],
  ["treats an empty line as nothing", "", { kind: "empty" }],
  ["treats a blank line as nothing", "  \t ", { kind: "empty" }],
  ["strips a trailing line end", "who\r\n", { kind: "who" }],
  ["rejects an unknown command", "hello there", {
    kind: "invalid",
    reason: "unknown command 'hello' (use signin, signout, who, chat, help)",
  }],
  ["does not take Object properties for commands", "constructor x", {
    kind: "invalid",
    reason: "unknown command 'constructor' (use signin, signout, who, chat, help)",
  }],
  ["escapes binary in an unknown command", "\x00\x01", {
    kind: "invalid",
    reason: "unknown command '\\x00\\x01' (use signin, signout, who, chat, help)",
  }],
];

for (const [name, line, expected] of REQUESTS) {
  Deno.test(`parseRequest() ${name}`, () => {
    assertEquals(parseRequest(line), expected);
  });
}

Deno.test("formatRequest() is the inverse of parseRequest()", () => {
  const reqs = [
    { kind: "signin", name: "alice" },
    { kind: "signout", name: "alice" },
    { kind: "signout" },
    { kind: "chat", text: "hi there" },
  ] as const;
  for (const req of reqs) assertEquals(parseRequest(formatRequest(req)), req);
  assertEquals(formatRequest({ kind: "who" }, "alice"), "who alice");
});

Deno.test("nameProblem() accepts 1 to 32 characters and nothing else", () => {
  assertEquals(nameProblem("a"), undefined);
  assertEquals(nameProblem("x".repeat(32)), undefined);
  assertEquals(nameProblem(""), `invalid name '': ${NAME_HINT}`);
  assertEquals(nameProblem("a/b"), `invalid name 'a/b': ${NAME_HINT}`);
});

Deno.test("the server's lines have the exact shapes of the spec", () => {
  assertEquals(formatMsg("alice", "hi"), "Msg alice says: hi");
  assertEquals(formatUsers(["alice", "bob"]), "Users: alice bob");
  assertEquals(formatUsers([]), "Users:");
  assertEquals(leftNotice("bob", { kind: "signout" }), "*** bob left");
  assertEquals(
    leftNotice("bob", { kind: "failed", reason: "queue full" }),
    "*** bob was disconnected (queue full)",
  );
});

const SERVER_LINES: [string, string, ServerLine][] = [
  ["a message", "Msg alice says: hi: there", { kind: "msg", name: "alice", text: "hi: there" }],
  ["an empty message", "Msg alice says: ", { kind: "msg", name: "alice", text: "" }],
  ["a users list", "Users: alice bob", { kind: "users", names: ["alice", "bob"] }],
  ["an empty users list", "Users:", { kind: "users", names: [] }],
  ["a signin reply", "OK signed in as bob", { kind: "signedIn", name: "bob" }],
  ["a signout reply", "OK signed out bob", { kind: "signedOut", name: "bob" }],
  ["an error", "ERR name 'bob' is already taken", {
    kind: "err",
    reason: "name 'bob' is already taken",
  }],
  ["a notice", "*** bob joined", { kind: "notice", text: "bob joined" }],
  ["anything else", "<user1> hello", { kind: "other", text: "<user1> hello" }],
];

for (const [name, line, expected] of SERVER_LINES) {
  Deno.test(`parseServerLine() reads ${name}`, () => {
    assertEquals(parseServerLine(line), expected);
  });
}

Deno.test("log lines name the member, the address and the reason", () => {
  assertEquals(
    logLines.joined("alice", "127.0.0.1:4000"),
    "socklab chat-server: alice joined from 127.0.0.1:4000",
  );
  assertEquals(
    logLines.left("alice", "127.0.0.1:4000", { kind: "signout" }),
    "socklab chat-server: alice left (127.0.0.1:4000)",
  );
  assertEquals(
    logLines.left("alice", "127.0.0.1:4000", { kind: "closed" }),
    "socklab chat-server: dropped alice (127.0.0.1:4000): connection closed",
  );
  assertEquals(
    logLines.left("alice", "127.0.0.1:4000", { kind: "failed", reason: "queue full" }),
    "socklab chat-server: dropped alice (127.0.0.1:4000): queue full",
  );
});
