import { assertEquals, assertOk, throws } from "../helpers/assert.ts";
import { ipBytes, parseAllowList } from "../../lib/binder/allow.ts";

const CASES: [string, string, boolean][] = [
  ["127.0.0.0/8", "127.0.0.1", true],
  ["127.0.0.0/8", "127.255.1.2", true],
  ["127.0.0.0/8", "128.0.0.1", false],
  ["10.1.2.3", "10.1.2.3", true],
  ["10.1.2.3", "10.1.2.4", false],
  ["10.1.2.0/23", "10.1.3.200", true],
  ["10.1.2.0/23", "10.1.4.1", false],
  ["0.0.0.0/0", "192.0.2.1", true],
  ["0.0.0.0/0", "::1", false],
  ["::1", "::1", true],
  ["fd00::/8", "fd12:3456::1", true],
  ["fd00::/8", "fe80::1", false],
  ["2001:db8::/32", "2001:db8:ffff::1", true],
  ["2001:db8::/33", "2001:db8:8000::1", false],
  ["192.168.1.0/24", "::ffff:192.168.1.7", true],
  ["::/0", "2001:db8::1", true],
];

for (const [allow, ip, want] of CASES) {
  Deno.test(`parseAllowList("${allow}") ${want ? "allows" : "refuses"} ${ip}`, () => {
    assertEquals(parseAllowList(allow).allows(ip), want);
  });
}

Deno.test("parseAllowList() takes a comma-separated list and refuses what is not a network", () => {
  const list = parseAllowList("127.0.0.1, 10.0.0.0/8,::1");
  assertOk(list.allows("10.9.9.9") && list.allows("::1") && !list.allows("11.0.0.1"));
  assertEquals(list.toString(), "127.0.0.1/32, 10.0.0.0/8, ::1/128");
  for (const bad of ["", "10.0.0.0/33", "::/129", "host.example", "10.0.0.0/8/1", "10.0.0/8"]) {
    throws(() => parseAllowList(bad), /Cannot parse --allow/, SyntaxError);
  }
});

Deno.test("ipBytes() reads IPv4, IPv6 and IPv4-mapped IPv6", () => {
  assertEquals([...ipBytes("1.2.3.4")!], [1, 2, 3, 4]);
  assertEquals([...ipBytes("::ffff:1.2.3.4")!], [1, 2, 3, 4]);
  assertEquals(ipBytes("::1")!.length, 16);
  assertEquals(ipBytes("::1")![15], 1);
  assertEquals(ipBytes("nope"), undefined);
});
