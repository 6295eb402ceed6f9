import { assertEquals, throws } from "../helpers/assert.ts";
import { formatHostPort, isIPv4Literal, parseHostPort, parsePort } from "../../lib/net/address.ts";

const ACCEPTED: [string, number | undefined, string, number][] = [
  ["localhost", 1500, "localhost", 1500],
  ["localhost:80", undefined, "localhost", 80],
  ["127.0.0.1:0", 9, "127.0.0.1", 0],
  ["127.0.0.1", 9, "127.0.0.1", 9],
  ["[::1]:1501", undefined, "::1", 1501],
  ["[::1]", 7, "::1", 7],
  ["::1", 7, "::1", 7],
  ["fe80::1%lo", 7, "fe80::1%lo", 7],
  ["2001:db8::1", 53, "2001:db8::1", 53],
  ["host.example:65535", undefined, "host.example", 65535],
];

for (const [text, fallback, hostname, port] of ACCEPTED) {
  Deno.test(`parseHostPort() accepts "${text}"`, () => {
    assertEquals(parseHostPort(text, fallback), { hostname, port });
  });
}

const REJECTED: [string, number | undefined, RegExp][] = [
  ["localhost:70000", undefined, /must be between 0 and 65535/],
  ["localhost:", 1, /not a number/],
  ["localhost:x", 1, /not a number/],
  [":80", undefined, /empty host/],
  ["[::1", 1, /missing "]"/],
  ["[::1]80", 1, /expected ":PORT"/],
  ["[127.0.0.1]:80", 1, /brackets are for IPv6/],
  ["localhost", undefined, /missing port/],
  ["", 1, /empty host/],
  ["a b:1", undefined, /white space/],
];

for (const [text, fallback, message] of REJECTED) {
  Deno.test(`parseHostPort() rejects "${text}"`, () => {
    throws(() => parseHostPort(text, fallback), message);
  });
}

Deno.test("parsePort() throws RangeError above 65535 and SyntaxError for text", () => {
  throws(() => parsePort("65536"), /65535/, RangeError);
  throws(() => parsePort("-1"), /not a number/, SyntaxError);
  assertEquals(parsePort("0"), 0);
});

Deno.test("formatHostPort() brackets IPv6 literals only", () => {
  assertEquals(formatHostPort("::1", 53), "[::1]:53");
  assertEquals(formatHostPort("127.0.0.1", 53), "127.0.0.1:53");
  assertEquals(formatHostPort("localhost", 1), "localhost:1");
});

Deno.test("isIPv4Literal() is strict dotted quad", () => {
  assertEquals(
    ["1.2.3.4", "255.255.255.255", "1.2.3", "01.2.3.4", "256.1.1.1", "a.b.c.d"].map(isIPv4Literal),
    [true, true, false, false, false, false],
  );
});
