import { assertEquals, assertOk, throws } from "../helpers/assert.ts";
import { BinderTable, formatTable, TableLimitError } from "../../lib/binder/table.ts";

/** A table on a clock the test moves by hand. */
function makeTable(options: { ttlMs?: number; random?: () => number; maxRecords?: number } = {}) {
  const clock = { now: 1000 };
  const table = new BinderTable({
    ttlMs: options.ttlMs ?? 30_000,
    clock: () => clock.now,
    random: options.random,
    maxRecords: options.maxRecords,
  });
  return { table, clock };
}

const A = ["10.0.0.1", 4001] as const;
const B = ["10.0.0.2", 4002] as const;

Deno.test("BinderTable.register() records each command under the server's address", () => {
  const { table } = makeTable();
  const r = table.register(...A, ["MIN", "MAX"]);
  assertEquals(r.added.map((x) => x.command), ["MAX", "MIN"]);
  assertEquals(r.refreshed, 0);
  assertEquals(table.size, 2);
  const found = table.lookup("MAX");
  assertEquals([found?.ip, found?.port], ["10.0.0.1", 4001]);
  assertEquals(new TextDecoder().decode(found?.reply), "MAX 10.0.0.1 4001");
});

Deno.test("BinderTable.register() again only refreshes (no new records, later expiry)", () => {
  const { table, clock } = makeTable();
  table.register(...A, ["MAX"]);
  clock.now += 20_000;
  const r = table.register(...A, ["MAX"]);
  assertEquals(r, { added: [], refreshed: 1 });
  clock.now += 20_000; // 40 s after the first REGISTER, 20 s after the refresh
  assertOk(table.lookup("MAX"), "the refresh kept it alive");
  assertEquals(table.expire(), []);
});

Deno.test("BinderTable.lookup() never names a record whose time is up, even before expire()", () => {
  const { table, clock } = makeTable();
  table.register(...A, ["MAX"]);
  clock.now += 29_999;
  assertOk(table.lookup("MAX"));
  clock.now += 1;
  assertEquals(table.lookup("MAX"), undefined);
  assertEquals(table.matching("MAX"), []);
  assertEquals(table.records(), []);
  assertEquals(table.size, 1, "still held until expire() runs");
});

Deno.test("BinderTable.expire() removes expired records and reports them", () => {
  const { table, clock } = makeTable();
  table.register(...A, ["MAX", "MIN"]);
  clock.now += 10_000;
  table.register(...B, ["MAX"]);
  assertEquals(table.nextExpiry(), 31_000);
  clock.now = 31_000;
  const gone = table.expire();
  assertEquals(gone.map((r) => `${r.command} ${r.port}`), ["MAX 4001", "MIN 4001"]);
  assertEquals(table.size, 1);
  assertEquals(table.lookup("MAX")?.port, 4002);
  assertEquals(table.lookup("MIN"), undefined);
  assertEquals(table.nextExpiry(), 41_000);
  clock.now = 41_000;
  assertEquals(table.expire().length, 1);
  assertEquals(table.nextExpiry(), undefined);
});

Deno.test("BinderTable.register() of an expired but not yet removed record counts as new", () => {
  const { table, clock } = makeTable();
  table.register(...A, ["MAX"]);
  clock.now += 30_000;
  const r = table.register(...A, ["MAX"]);
  assertEquals(r.added.length, 1, "the table changed for anyone watching");
  assertEquals(table.size, 1);
  assertOk(table.lookup("MAX"));
});

Deno.test("BinderTable.unregister() removes only the sender's own records", () => {
  const { table } = makeTable();
  table.register(...A, ["MAX", "MIN"]);
  table.register(...B, ["MAX"]);
  assertEquals(table.unregister("10.0.0.1", 9999), [], "same IP, other port: nothing");
  assertEquals(table.unregister("10.0.0.9", 4001), [], "other IP, same port: nothing");
  assertEquals(table.size, 3);
  const gone = table.unregister(...A);
  assertEquals(gone.map((r) => r.command).sort(), ["MAX", "MIN"]);
  assertEquals(table.size, 1);
  assertEquals(table.lookup("MAX")?.port, 4002);
  assertEquals(table.lookup("MIN"), undefined);
});

Deno.test("BinderTable.lookup() picks among the servers with the injected random source", () => {
  let next = 0;
  const { table } = makeTable({ random: () => next });
  table.register(...A, ["MAX"]);
  table.register(...B, ["MAX"]);
  next = 0;
  assertEquals(table.lookup("MAX")?.port, 4001);
  next = 0.4999;
  assertEquals(table.lookup("MAX")?.port, 4001);
  next = 0.5;
  assertEquals(table.lookup("MAX")?.port, 4002);
  next = 0.999999;
  assertEquals(table.lookup("MAX")?.port, 4002);
});

Deno.test("BinderTable.lookup() with Math.random spreads 2,000 look-ups over both servers", () => {
  const { table } = makeTable();
  table.register(...A, ["MAX"]);
  table.register(...B, ["MAX"]);
  const counts = new Map<number, number>();
  for (let i = 0; i < 2000; i++) {
    const port = table.lookup("MAX")!.port;
    counts.set(port, (counts.get(port) ?? 0) + 1);
  }
  // Binomial(2000, 1/2): 1000 ± 22; below 850 has probability < 1e-11.
  assertOk(counts.get(4001)! > 850 && counts.get(4002)! > 850, JSON.stringify([...counts]));
});

Deno.test("BinderTable.lookup() skips an expired server among live ones", () => {
  const { table, clock } = makeTable({ random: () => 0 });
  table.register(...A, ["MAX"]);
  clock.now += 10_000;
  table.register(...B, ["MAX"]);
  clock.now += 25_000; // A expired, B alive
  assertEquals(table.lookup("MAX")?.port, 4002);
});

Deno.test("BinderTable.register() keeps to its limits, all or nothing", () => {
  const { table } = makeTable({ maxRecords: 3 });
  table.register(...A, ["A", "B"]);
  throws(() => table.register(...B, ["C", "D"]), /binder table full/, TableLimitError);
  assertEquals(table.size, 2, "nothing of the refused REGISTER was kept");
  table.register(...B, ["C"]);
  table.register(...B, ["C"]); // a refresh adds nothing, so it is not refused
  const many = Array.from({ length: 65 }, (_, i) => `C${i}`);
  throws(
    () => makeTable().table.register(...A, many),
    /too many commands for one server \(at most 64\)/,
    TableLimitError,
  );
});

Deno.test("BinderTable.records() sorts by command, IP and port; view() adds seconds left", () => {
  const { table, clock } = makeTable();
  table.register("10.0.0.2", 1, ["MIN", "MAX"]);
  table.register("10.0.0.1", 2, ["MAX"]);
  clock.now += 10_500;
  assertEquals(table.view(), [
    { command: "MAX", ip: "10.0.0.1", port: 2, secondsLeft: 20 },
    { command: "MAX", ip: "10.0.0.2", port: 1, secondsLeft: 20 },
    { command: "MIN", ip: "10.0.0.2", port: 1, secondsLeft: 20 },
  ]);
  assertEquals(table.view("MIN").length, 1);
});

Deno.test("formatTable() aligns its columns and says when the table is empty", () => {
  assertEquals(formatTable([]), ["  (empty)"]);
  assertEquals(
    formatTable([
      { command: "MAX", ip: "127.0.0.1", port: 40001, secondsLeft: 30 },
      { command: "SORT-DOWN", ip: "::1", port: 5, secondsLeft: 2 },
    ]),
    [
      "  COMMAND    IP         PORT   EXPIRES",
      "  MAX        127.0.0.1  40001  in 30 s",
      "  SORT-DOWN  ::1        5      in 2 s",
    ],
  );
});

Deno.test("formatTable() prints at most maxRows rows and counts the rest", () => {
  const records = Array.from({ length: 5 }, (_, i) => ({
    command: "MAX",
    ip: "127.0.0.1",
    port: 40000 + i,
    secondsLeft: 30,
  }));
  const lines = formatTable(records, 2);
  assertEquals(lines.length, 4);
  assertEquals(lines[3], "  ... and 3 more (LIST shows every record)");
  assertEquals(formatTable(records, 5).length, 6);
});

Deno.test("new BinderTable() refuses a ttl that is not positive", () => {
  throws(() => new BinderTable({ ttlMs: 0 }), /ttlMs must be positive/, RangeError);
});
