/**
 * The chat room's behaviour as a contract every bus must keep: the same
 * tests run against the in-process bus (room_test.ts) and the Redis bus on a
 * real redis-server (redis_bus_test.ts). The transport is a fake whose seats
 * collect what they hear, so the tests wait on lines (events) and work the
 * same whether the bus answers at once or after a round trip to Redis.
 * @module
 */
import { assertEquals } from "../helpers/assert.ts";
import { LineLog } from "../helpers/cli.ts";
import type { RoomBus } from "../../lib/chat/bus.ts";
import { type LeaveReason, parseRequest } from "../../lib/chat/protocol.ts";
import { Room, type RoomOptions, type RoomOutput, type Seat } from "../../lib/chat/room.ts";

/** A client of the fake transport: every line it is sent lands in `log`. */
export class FakeSeat implements Seat {
  readonly peer: string;
  readonly host: string;
  name: string | undefined = undefined;
  gone = false;
  hinted = false;
  readonly log = new LineLog();

  constructor(peer: string) {
    this.peer = peer;
    this.host = peer.slice(0, peer.lastIndexOf(":"));
  }
}

/** A transport that records what the room asks of it. */
export class FakeTransport implements RoomOutput<FakeSeat> {
  room!: Room<FakeSeat>;
  readonly events: string[] = [];

  reply(seat: FakeSeat, line: string): void {
    seat.log.push(`${line}\n`);
  }

  broadcast(line: string, except: FakeSeat | undefined): void {
    for (const m of this.room.members()) if (m !== except) m.log.push(`${line}\n`);
  }

  joined(seat: FakeSeat): void {
    this.events.push(`joined ${seat.name}`);
  }

  left(_seat: FakeSeat, name: string, why: LeaveReason): void {
    this.events.push(`left ${name} ${why.kind}`);
  }
}

/** Builds a fresh bus for one test; `close` frees it (and whatever it runs on). */
export type BusFactory = () => Promise<{ bus: RoomBus; close: () => Promise<void> }>;

/** A room on a fresh bus with helpers to make seats and send lines. */
export interface TestRoom {
  room: Room<FakeSeat>;
  out: FakeTransport;
  /** A seat from 127.0.0.1 (or `host`) with port `n`. */
  seat(n: number, host?: string): FakeSeat;
  /** Sends one line from `seat` and waits until the room has handled it. */
  send(seat: FakeSeat, line: string): Promise<void>;
  /** A seat signed in as `name` (its OK line already seen). */
  member(name: string, n: number): Promise<FakeSeat>;
}

function testRoom(bus: RoomBus, options: RoomOptions): TestRoom {
  const out = new FakeTransport();
  const room = new Room<FakeSeat>(bus, out, options);
  out.room = room;
  const t: TestRoom = {
    room,
    out,
    seat: (n, host = "127.0.0.1") => new FakeSeat(`${host}:${n}`),
    send: async (seat, line) => await room.handle(seat, parseRequest(line)),
    member: async (name, n) => {
      const s = t.seat(n);
      await t.send(s, `signin ${name}`);
      await s.log.waitFor(`OK signed in as ${name}`);
      return s;
    },
  };
  return t;
}

/** Registers the contract's tests for one kind of bus. */
export function roomContract(
  label: string,
  makeBus: BusFactory,
  define: (name: string, fn: () => Promise<void>) => void = (name, fn) => Deno.test(name, fn),
): void {
  const test = (name: string, options: RoomOptions, fn: (t: TestRoom) => Promise<void>) =>
    define(`Room (${label} bus) ${name}`, async () => {
      const { bus, close } = await makeBus();
      try {
        await fn(testRoom(bus, options));
      } finally {
        await bus.close();
        await close();
      }
    });

  test(
    "signs a client in, tells the others, and hears its chat, sender included",
    {},
    async (t) => {
      const alice = await t.member("alice", 1);
      const bob = await t.member("bob", 2);
      await alice.log.waitFor("*** bob joined");
      await t.send(bob, "chat hi all");
      await alice.log.waitFor("Msg bob says: hi all");
      await bob.log.waitFor("Msg bob says: hi all");
      assertEquals(bob.log.lines, ["OK signed in as bob", "Msg bob says: hi all"]);
      assertEquals(t.out.events, ["joined alice", "joined bob"]);
    },
  );

  test("refuses a name that is taken, in any case, and a second name", {}, async (t) => {
    const alice = await t.member("alice", 1);
    const other = t.seat(2);
    await t.send(other, "signin ALICE");
    await other.log.waitFor("ERR name 'ALICE' is already taken");
    assertEquals(other.name, undefined);
    await t.send(alice, "signin alice");
    await alice.log.waitFor(/^OK signed in as alice$/);
    await t.send(alice, "signin other");
    await alice.log.waitFor("ERR already signed in as alice");
  });

  test("tells a stranger once how to sign in, answers help, never broadcasts it", {}, async (t) => {
    const alice = await t.member("alice", 1);
    const stranger = t.seat(2);
    for (const line of ["chat hi", "who", "signout", "bogus", "chat", ""]) {
      await t.send(stranger, line);
    }
    await t.send(stranger, "help");
    await stranger.log.waitFor(/^Commands: /);
    assertEquals(stranger.log.lines, [
      'ERR not signed in: send "signin NAME" first (or "help")',
      "Commands: signin NAME, chat TEXT, who, signout, help (NAME: 1-32 letters, digits, _ . -)",
    ]);
    await t.send(stranger, "signin");
    await stranger.log.waitFor("ERR signin needs a NAME");
    await t.send(alice, "help");
    await alice.log.waitFor(/^Commands: /);
    await t.send(alice, "who");
    await alice.log.waitFor("Users: alice");
    assertEquals(alice.log.lines.filter((l) => l.startsWith("Msg")), []);
  });

  test("answers a member's unknown command and empty chat with ERR", {}, async (t) => {
    const alice = await t.member("alice", 1);
    await t.send(alice, "bogus");
    await alice.log.waitFor("ERR unknown command 'bogus' (use signin, signout, who, chat, help)");
    await t.send(alice, "chat");
    await alice.log.waitFor("ERR empty message");
  });

  test("lists members for who, in sign-in order", {}, async (t) => {
    await t.member("carol", 1);
    const alice = await t.member("alice", 2);
    await t.member("bob", 3);
    await t.send(alice, "who alice");
    await alice.log.waitFor("Users: carol alice bob");
  });

  test("signs a member out, tells the rest, and frees the name", {}, async (t) => {
    const alice = await t.member("alice", 1);
    const bob = await t.member("bob", 2);
    await t.send(bob, "signout alice");
    await bob.log.waitFor("ERR you are signed in as bob, not alice");
    await t.send(bob, "signout bob");
    await bob.log.waitFor("OK signed out bob");
    await alice.log.waitFor("*** bob left");
    assertEquals([...t.room.members()], [alice]);
    await t.send(bob, "chat still here?");
    await t.send(alice, "who");
    await alice.log.waitFor("Users: alice");
    await t.member("bob", 3);
    assertEquals(alice.log.lines.filter((l) => l.includes("still here")), []);
  });

  test("removes a dropped member and tells the others why", {}, async (t) => {
    const alice = await t.member("alice", 1);
    const bob = await t.member("bob", 2);
    bob.gone = true;
    await t.room.leave(bob, { kind: "failed", reason: "queue full" });
    await alice.log.waitFor("*** bob was disconnected (queue full)");
    await t.room.leave(bob, { kind: "closed" }); // twice: nothing more happens
    await t.send(alice, "who");
    await alice.log.waitFor("Users: alice");
    assertEquals(t.out.events.slice(2), ["left bob failed"]);
  });

  test("can be walked while members are removed", {}, async (t) => {
    const seats = [];
    for (const [i, n] of ["a", "b", "c", "d", "e"].entries()) seats.push(await t.member(n, i));
    const [a, b, c, d] = seats;
    const visited: string[] = [];
    const leaving: unknown[] = [];
    for (const s of t.room.members()) {
      visited.push(s.name!);
      // Each send "fails" for b and d, and a failure removes the member at once.
      if (s === b || s === d) leaving.push(t.room.leave(s, { kind: "closed" }));
      // A removal of a member not yet visited means it is skipped.
      if (s === a) leaving.push(t.room.leave(c, { kind: "closed" }));
    }
    await Promise.all(leaving);
    assertEquals(visited, ["a", "b", "d", "e"]);
    await t.send(a, "who");
    await a.log.waitFor("Users: a e");
  });

  test(
    "sends join and leave notices only while the room is small",
    { noticeLimit: 2 },
    async (t) => {
      const a = await t.member("a", 1);
      const b = await t.member("b", 2);
      await a.log.waitFor("*** b joined");
      const c = await t.member("c", 3); // the room is now larger than the limit: no notice
      await t.room.leave(c, { kind: "closed" }); // leaving a room of 3: still no notice
      await t.room.leave(b, { kind: "closed" }); // a room of 2 → 1: notice
      await a.log.waitFor("*** b left");
      await t.send(a, "chat end");
      await a.log.waitFor("Msg a says: end");
      assertEquals(a.log.lines, [
        "OK signed in as a",
        "*** b joined",
        "*** b left",
        "Msg a says: end",
      ]);
    },
  );

  test("refuses a signin beyond maxMembers and beyond the per-source quota", {
    maxMembers: 3,
    maxPerSource: 2,
  }, async (t) => {
    await t.member("a", 1);
    await t.member("b", 2);
    const third = t.seat(3);
    await t.send(third, "signin c");
    await third.log.waitFor("ERR too many members from 127.0.0.1 (at most 2 per source)");
    const elsewhere = t.seat(4, "127.0.0.2");
    await t.send(elsewhere, "signin d");
    await elsewhere.log.waitFor("OK signed in as d");
    const fourth = t.seat(5, "127.0.0.3");
    await t.send(fourth, "signin e");
    await fourth.log.waitFor("ERR server full (3 clients)");
  });
}
