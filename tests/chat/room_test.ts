import { assertEquals } from "../helpers/assert.ts";
import { MemoryBus } from "../../lib/chat/bus.ts";
import { parseRequest } from "../../lib/chat/protocol.ts";
import { Room } from "../../lib/chat/room.ts";
import { FakeSeat, FakeTransport, roomContract } from "./room_contract.ts";

roomContract(
  "memory",
  () => Promise.resolve({ bus: new MemoryBus(), close: () => Promise.resolve() }),
);

Deno.test("Room on the memory bus answers every line in the same turn (no promise)", () => {
  const out = new FakeTransport();
  const room = new Room<FakeSeat>(new MemoryBus(), out);
  out.room = room;
  const alice = new FakeSeat("127.0.0.1:1");
  for (const line of ["signin alice", "chat hi", "who", "help", "signout"]) {
    assertEquals(room.handle(alice, parseRequest(line)), undefined, line);
  }
  assertEquals(alice.log.lines.length, 5);
});
