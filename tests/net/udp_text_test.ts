import { assertEquals } from "../helpers/assert.ts";
import {
  decodeTextRequest,
  LastExchange,
  TextCache,
  type TextRequest,
  trimmedLength,
} from "../../lib/net/udp_text.ts";
import { UdpSocket } from "../../lib/net/udp.ts";

const enc = (s: string) => new TextEncoder().encode(s);

const CASES: [string, Uint8Array, TextRequest][] = [
  ["decodes plain text", enc("USD"), { kind: "text", text: "USD" }],
  ["strips nc's newline and CR", enc("who\r\n"), { kind: "text", text: "who" }],
  ["strips the C client's NULs", enc("TIME\0\0"), { kind: "text", text: "TIME" }],
  ["trims blanks and keeps inner tabs", enc(" a\tb "), { kind: "text", text: "a\tb" }],
  ["decodes UTF-8", enc("zoë 世"), { kind: "text", text: "zoë 世" }],
  ["returns empty text for an empty datagram", new Uint8Array(0), { kind: "text", text: "" }],
  ["refuses text over the limit", enc("x".repeat(11)), {
    kind: "error",
    reason: "request too long (max 10 bytes)",
  }],
  ["refuses binary over the limit without decoding it", new Uint8Array(65507).fill(0xff), {
    kind: "error",
    reason: "request too long (max 10 bytes)",
  }],
  ["counts the limit after the stripped terminator", enc("x".repeat(10) + "\n"), {
    kind: "text",
    text: "x".repeat(10),
  }],
  ["ignores invalid UTF-8", new Uint8Array([0x61, 0xff]), { kind: "ignore", why: "binary" }],
  ["ignores inner NULs", enc("a\0b"), { kind: "ignore", why: "binary" }],
  ["ignores inner newlines", enc("a\nb"), { kind: "ignore", why: "binary" }],
  ["ignores escape sequences", enc("\x1b[2J"), { kind: "ignore", why: "binary" }],
  ["ignores DEL", enc("a\x7f"), { kind: "ignore", why: "binary" }],
  ["ignores an ERR reply even when it is long", enc("ERR " + "x".repeat(100)), {
    kind: "ignore",
    why: "error-reply",
  }],
];

for (const [name, data, expected] of CASES) {
  Deno.test(`decodeTextRequest() ${name}`, () => {
    assertEquals(decodeTextRequest(data, 10), expected);
  });
}

Deno.test("trimmedLength() drops trailing CR, LF and NUL only", () => {
  assertEquals(trimmedLength(enc("ab\r\n\0")), 2);
  assertEquals(trimmedLength(enc("\0a\0 ")), 4);
  assertEquals(trimmedLength(new Uint8Array(3)), 0);
});

Deno.test("UdpSocket.request() builds each try's payload from a function of the try number", async () => {
  await using server = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
  await using client = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
  const seen: string[] = [];
  const answering = (async () => {
    for (let i = 0; i < 2; i++) {
      const got = await server.receive(5000);
      if (!got) return;
      const text = new TextDecoder().decode(got[0]);
      seen.push(text);
      if (text === "try 2") await server.send("reply to 2", got[1]);
    }
  })();
  const reply = await client.request((n) => `try ${n}`, server.addr, {
    timeoutMs: 200,
    retries: 2,
  });
  await answering;
  assertEquals(seen, ["try 1", "try 2"]);
  assertEquals([new TextDecoder().decode(reply.data), reply.tries], ["reply to 2", 2]);
});

Deno.test("TextCache computes each text once and starts over when full", () => {
  const cache = new TextCache<string>(2);
  let calls = 0;
  const upper = (t: string) => (calls++, t.toUpperCase());
  assertEquals([cache.get("a", upper), cache.get("a", upper), cache.get("b", upper)], [
    "A",
    "A",
    "B",
  ]);
  assertEquals(calls, 2);
  cache.get("c", upper); // full: starts over
  cache.get("a", upper);
  assertEquals(calls, 4);
});

Deno.test("LastExchange answers exactly the last request's bytes, up to 64 bytes", () => {
  const last = new LastExchange<string>();
  assertEquals(last.reply(enc("USD")), undefined);
  last.remember(enc("USD"), "reply");
  assertEquals(last.reply(enc("USD")), "reply");
  for (const other of ["USE", "US", "USD ", ""]) assertEquals(last.reply(enc(other)), undefined);
  last.remember(new Uint8Array(65), "long");
  assertEquals(last.reply(new Uint8Array(65)), undefined, "a longer request is not kept");
  assertEquals(last.reply(enc("USD")), undefined, "and the last one is forgotten");
});
