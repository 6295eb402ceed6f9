import { assertEquals, throws } from "../helpers/assert.ts";
import { defaultPerSource, sourceKey, SourceQuota } from "../../lib/net/quota.ts";

const KEYS: [string, string][] = [
  ["10.0.0.1", "10.0.0.1"],
  ["::ffff:10.0.0.1", "10.0.0.1"],
  ["2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"],
  ["2001:db8:1:2::2", "2001:db8:1:2::/64"],
  ["::1", "0:0:0:0::/64"],
  ["fe80::1%lo", "fe80:0:0:0::/64"],
];
for (const [host, key] of KEYS) {
  Deno.test(`sourceKey() counts ${host} as ${key}`, () => assertEquals(sourceKey(host), key));
}

Deno.test("SourceQuota refuses a source at its limit and frees on release", () => {
  const q = new SourceQuota({ perSource: 2 });
  assertEquals([q.tryTake("10.0.0.1"), q.tryTake("10.0.0.1"), q.tryTake("10.0.0.1")], [
    true,
    true,
    false,
  ]);
  assertEquals(q.tryTake("10.0.0.2"), true);
  q.release("10.0.0.1");
  assertEquals(q.held("10.0.0.1"), 1);
  assertEquals(q.tryTake("::ffff:10.0.0.1"), true);
  q.release("10.0.0.9");
  assertEquals(q.sources, 2);
});

Deno.test("SourceQuota rejects a limit below 1", () => {
  throws(() => new SourceQuota({ perSource: 0 }), /at least 1/, RangeError);
});

Deno.test("defaultPerSource() is a quarter of the table, at least the floor", () => {
  assertEquals([defaultPerSource(1024), defaultPerSource(32), defaultPerSource(8)], [256, 16, 8]);
});
