import { assertEquals } from "../helpers/assert.ts";
import { ChatRoom } from "../../lib/chat/members.ts";
import { parseRequest } from "../../lib/chat/protocol.ts";

/** A room with `names` signed in, keyed "k:NAME". */
function roomWith(...names: string[]): ChatRoom<string> {
  const room = new ChatRoom<string>();
  for (const n of names) room.handle(`k:${n}`, parseRequest(`signin ${n}`));
  return room;
}

const send = (room: ChatRoom<string>, key: string, line: string) =>
  room.handle(key, parseRequest(line));

Deno.test("ChatRoom signs a client in, tells the others, and logs the join", () => {
  const room = roomWith("alice");
  assertEquals(send(room, "k:bob", "signin bob"), {
    reply: "OK signed in as bob",
    broadcast: "*** bob joined",
    except: "k:bob",
    event: { kind: "joined", name: "bob" },
  });
  assertEquals(room.names(), ["alice", "bob"]);
});

Deno.test("ChatRoom refuses a name that is taken, in any case", () => {
  const room = roomWith("alice");
  assertEquals(send(room, "k:x", "signin alice"), { reply: "ERR name 'alice' is already taken" });
  assertEquals(send(room, "k:x", "signin ALICE"), { reply: "ERR name 'ALICE' is already taken" });
  assertEquals(room.nameOf("k:x"), undefined);
});

Deno.test("ChatRoom answers a repeated signin under the same name with OK again", () => {
  const room = roomWith("alice");
  assertEquals(send(room, "k:alice", "signin alice"), { reply: "OK signed in as alice" });
  assertEquals(room.size, 1);
});

Deno.test("ChatRoom refuses a second name on the same client", () => {
  const room = roomWith("alice");
  assertEquals(send(room, "k:alice", "signin other"), { reply: "ERR already signed in as alice" });
});

Deno.test("ChatRoom refuses a signin beyond maxMembers", () => {
  const room = new ChatRoom<string>({ maxMembers: 1 });
  send(room, "a", "signin alice");
  assertEquals(send(room, "b", "signin bob"), { reply: "ERR server full (1 clients)" });
});

Deno.test("ChatRoom broadcasts a chat line from a member, sender included", () => {
  const room = roomWith("alice", "bob");
  assertEquals(send(room, "k:alice", "chat hi all"), { broadcast: "Msg alice says: hi all" });
});

Deno.test("ChatRoom ignores everything but signin from a stranger", () => {
  const room = roomWith("alice");
  for (const line of ["chat hi", "who", "signout", "signout alice", "bogus", "chat", ""]) {
    assertEquals(send(room, "stranger", line), {}, line);
  }
  assertEquals(room.names(), ["alice"]);
});

Deno.test("ChatRoom answers a stranger's bad signin, so nc users learn the rule", () => {
  const room = new ChatRoom<string>();
  assertEquals(send(room, "s", "signin"), { reply: "ERR signin needs a NAME" });
});

Deno.test("ChatRoom answers a member's unknown command and empty chat with ERR", () => {
  const room = roomWith("alice");
  assertEquals(send(room, "k:alice", "bogus"), {
    reply: "ERR unknown command 'bogus' (use signin, signout, who, chat)",
  });
  assertEquals(send(room, "k:alice", "chat"), { reply: "ERR empty message" });
  assertEquals(send(room, "k:alice", ""), {});
});

Deno.test("ChatRoom lists members for who, in sign-in order", () => {
  const room = roomWith("carol", "alice", "bob");
  assertEquals(send(room, "k:alice", "who alice"), { reply: "Users: carol alice bob" });
});

Deno.test("ChatRoom signs a member out, tells the rest and logs it", () => {
  const room = roomWith("alice", "bob");
  assertEquals(send(room, "k:bob", "signout bob"), {
    reply: "OK signed out bob",
    broadcast: "*** bob left",
    event: { kind: "left", name: "bob", why: { kind: "signout" } },
  });
  assertEquals([...room.members()], ["k:alice"]);
  // Signed out: its chat is now ignored, and the name is free again.
  assertEquals(send(room, "k:bob", "chat still here?"), {});
  assertEquals(send(room, "k:other", "signin bob").reply, "OK signed in as bob");
});

Deno.test("ChatRoom refuses a signout under someone else's name", () => {
  const room = roomWith("alice", "bob");
  assertEquals(send(room, "k:bob", "signout alice"), {
    reply: "ERR you are signed in as bob, not alice",
  });
  assertEquals(room.size, 2);
});

Deno.test("ChatRoom.leave() removes a dropped member and tells the others why", () => {
  const room = roomWith("alice", "bob");
  assertEquals(room.leave("k:bob", { kind: "failed", reason: "queue full" }), {
    broadcast: "*** bob was disconnected (queue full)",
    event: { kind: "left", name: "bob", why: { kind: "failed", reason: "queue full" } },
  });
  assertEquals(room.leave("k:bob", { kind: "closed" }), {});
  assertEquals(room.leave("nobody", { kind: "closed" }), {});
});

Deno.test("ChatRoom.members() can be walked while members are removed", () => {
  const room = roomWith("a", "b", "c", "d", "e");
  const visited: string[] = [];
  for (const key of room.members()) {
    visited.push(key);
    // Each send "fails" for b and d, and a failure removes the member at once.
    if (key === "k:b" || key === "k:d") room.leave(key, { kind: "closed" });
    // A removal of a member not yet visited means it is skipped.
    if (key === "k:a") room.leave("k:c", { kind: "closed" });
  }
  assertEquals(visited, ["k:a", "k:b", "k:d", "k:e"]);
  assertEquals(room.names(), ["a", "e"]);
});

Deno.test("ChatRoom sends join and leave notices only while the room is small", () => {
  const room = new ChatRoom<string>({ noticeLimit: 2 });
  assertEquals(send(room, "a", "signin a").broadcast, "*** a joined");
  assertEquals(send(room, "b", "signin b").broadcast, "*** b joined");
  // A third member makes the room larger than the limit: no notice, but still logged.
  assertEquals(send(room, "c", "signin c"), {
    reply: "OK signed in as c",
    event: { kind: "joined", name: "c" },
  });
  assertEquals(room.leave("c", { kind: "closed" }).broadcast, undefined);
  assertEquals(room.leave("b", { kind: "closed" }).broadcast, "*** b left");
});
