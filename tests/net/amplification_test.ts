import { assertEquals } from "../helpers/assert.ts";
import {
  AddressCookies,
  replyBudget,
  replyBytes,
  splitCookie,
  withCookie,
} from "../../lib/net/amplification.ts";

const A: Deno.NetAddr = { transport: "udp", hostname: "127.0.0.1", port: 40000 };
const B: Deno.NetAddr = { transport: "udp", hostname: "127.0.0.1", port: 40001 };

Deno.test("replyBudget() is max(3× the request, 512)", () => {
  assertEquals([0, 4, 170, 171, 1000].map(replyBudget), [512, 512, 512, 513, 3000]);
});

Deno.test("AddressCookies: a cookie verifies for its own address only", () => {
  const cookies = new AddressCookies();
  const c = cookies.cookie(A);
  assertEquals(c.length, 16);
  assertEquals(cookies.verify(A, c), true);
  assertEquals(cookies.verify(B, c), false);
  assertEquals(cookies.verify(A, undefined), false);
  assertEquals(cookies.verify(A, "0".repeat(16)), false);
});

Deno.test("AddressCookies: a cookie lives one to two windows", () => {
  let now = 1_000_000;
  const cookies = new AddressCookies({ windowMs: 1000, now: () => now });
  const c = cookies.cookie(A);
  now += 1000;
  assertEquals(cookies.verify(A, c), true);
  now += 1000;
  assertEquals(cookies.verify(A, c), false);
});

Deno.test("AddressCookies: instances with one secret accept each other's cookies", () => {
  const secret = new Uint8Array(32).fill(7);
  const a = new AddressCookies({ secret });
  const b = new AddressCookies({ secret });
  assertEquals(b.verify(A, a.cookie(A)), true);
  assertEquals(new AddressCookies().verify(A, a.cookie(A)), false);
});

const SPLITS: [string, string, string | undefined][] = [
  ["LIST", "LIST", undefined],
  ["LIST cookie=ABCDEF0123456789", "LIST", "abcdef0123456789"],
  ["who alice cookie=00ff  ", "who alice", "00ff"],
  ["chat cookie=xyz", "chat cookie=xyz", undefined],
  ["cookie=00ff", "cookie=00ff", undefined],
];
for (const [text, request, cookie] of SPLITS) {
  Deno.test(`splitCookie() splits ${JSON.stringify(text)}`, () => {
    const got = splitCookie(text);
    assertEquals([got.request, got.cookie], [request, cookie]);
  });
}

Deno.test("withCookie() is what splitCookie() takes apart", () => {
  assertEquals(splitCookie(withCookie("who x", "0123456789abcdef")), {
    request: "who x",
    cookie: "0123456789abcdef",
  });
  assertEquals(replyBytes("é"), 2);
});
