import { assertEquals } from "../helpers/assert.ts";
import { payloadText, receivedLine, sourceText } from "../../lib/udp_example/protocol.ts";

const bytes = (...b: number[]) => new Uint8Array(b);
const enc = (s: string) => new TextEncoder().encode(s);

const PAYLOADS: [string, Uint8Array, string][] = [
  ["drops the C client's trailing NUL", enc("hello\0"), "hello"],
  ["drops several trailing NULs", enc("hi\0\0\0"), "hi"],
  ["drops nc's trailing newline", enc("hi\n"), "hi"],
  ["drops a trailing CR LF", enc("hi\r\n"), "hi"],
  ["keeps inner newlines visible on one line", enc("a\nb"), "a\\x0ab"],
  ["shows an empty datagram as empty text", bytes(), ""],
  ["shows invalid UTF-8 as hex bytes", bytes(0x68, 0xff, 0xfe, 0x69), "h\\xff\\xfei"],
  ["shows an escape sequence harmlessly", enc("\x1b[2Jx"), "\\x1b[2Jx"],
  ["keeps UTF-8 text", enc("h\u00e9llo \u4e16\u754c"), "h\u00e9llo \u4e16\u754c"],
  ["keeps inner NULs visible", bytes(0x61, 0x00, 0x62), "a\\x00b"],
];

for (const [name, data, text] of PAYLOADS) {
  Deno.test(`payloadText() ${name}`, () => {
    assertEquals(payloadText(data), text);
  });
}

Deno.test("sourceText() prints IPv4, IPv4-mapped IPv6 and IPv6 like the C server", () => {
  const addr = (hostname: string): Deno.NetAddr => ({ transport: "udp", hostname, port: 36683 });
  assertEquals(sourceText(addr("127.0.0.1")), "127.0.0.1:UDP36683");
  assertEquals(sourceText(addr("::ffff:127.0.0.1")), "127.0.0.1:UDP36683");
  assertEquals(sourceText(addr("::1")), "[::1]:UDP36683");
});

Deno.test("receivedLine() is the SPEC's line", () => {
  assertEquals(
    receivedLine(enc("hello\0"), { transport: "udp", hostname: "127.0.0.1", port: 36683 }),
    "socklab udp-server: from 127.0.0.1:UDP36683 : hello",
  );
});
