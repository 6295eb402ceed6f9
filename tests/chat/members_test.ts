import { assertEquals } from "../helpers/assert.ts";
import { MemberDirectory } from "../../lib/chat/members.ts";

Deno.test("MemberDirectory keeps names unique case-insensitively, in sign-in order", () => {
  const d = new MemberDirectory();
  assertEquals([d.claim("carol", "h:1"), d.claim("Alice", "h:2"), d.claim("ALICE", "h:3")], [
    true,
    true,
    false,
  ]);
  assertEquals(d.names(), ["carol", "Alice"]);
  assertEquals(d.entries(), [{ name: "carol", peer: "h:1" }, { name: "Alice", peer: "h:2" }]);
  assertEquals([d.has("alice"), d.release("aLiCe"), d.release("alice"), d.size], [
    true,
    true,
    false,
    1,
  ]);
});
