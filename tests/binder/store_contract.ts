/**
 * The behaviour every binder store must have, written once and run against
 * each implementation (memory: store_test.ts; Redis: redis_store_test.ts), so
 * `binder --redis` keeps exactly the table rules of the single binder.
 * @module
 */
import { assertEquals, assertOk } from "../helpers/assert.ts";
import type { BinderStore } from "../../lib/binder/store.ts";
import { TableLimitError } from "../../lib/binder/table.ts";

/** What a contract case asks of the store under test. */
export interface StoreOptions {
  ttlMs?: number;
  maxRecords?: number;
  maxPerServer?: number;
  maxPerSource?: number;
  random?: () => number;
}

/** Builds a fresh, empty store. */
export type MakeStore = (options: StoreOptions) => Promise<BinderStore>;

/** Defines one test per contract case, named `${prefix} ...`. */
export type DefineTest = (name: string, fn: () => Promise<void>) => void;

const at = async <T>(v: T | Promise<T>): Promise<T> => await v;

/** Waits (polling, bounded) until `check` holds; returns the time it took. */
async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = performance.now();
  while (!(await check())) {
    if (performance.now() - started > timeoutMs) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return performance.now() - started;
}

/** `fn` throws (or rejects with) a TableLimitError saying `message`. */
async function refuses(fn: () => unknown, message: string): Promise<void> {
  try {
    await fn();
  } catch (err) {
    assertOk(err instanceof TableLimitError, String(err));
    assertEquals(err.message, message);
    return;
  }
  throw new Error(`expected TableLimitError "${message}"`);
}

function cycle(values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length];
}

/** Registers the contract's tests for one store implementation. */
export function storeContract(prefix: string, make: MakeStore, test: DefineTest): void {
  test(`${prefix} REGISTER adds records, a second REGISTER only refreshes them`, async () => {
    await using s = disposable(await make({}));
    const first = await at(s.store.register("10.0.0.1", 4000, ["MIN", "MAX"]));
    assertEquals(first.added.map((r) => r.command), ["MAX", "MIN"]);
    assertEquals(first.refreshed, 0);
    assertOk(first.added.every((r) => r.ip === "10.0.0.1" && r.port === 4000));
    const again = await at(s.store.register("10.0.0.1", 4000, ["MAX", "SORTU"]));
    assertEquals([again.added.map((r) => r.command), again.refreshed], [["SORTU"], 1]);
    const all = await at(s.store.records());
    assertEquals(all.map((r) => `${r.command} ${r.ip} ${r.port}`), [
      "MAX 10.0.0.1 4000",
      "MIN 10.0.0.1 4000",
      "SORTU 10.0.0.1 4000",
    ]);
    assertOk(all.every((r) => r.expiresInMs > 25_000 && r.expiresInMs <= 30_000));
  });

  test(`${prefix} LOOKUP picks at random among every live record`, async () => {
    await using s = disposable(await make({ random: cycle([0, 0.4, 0.99]) }));
    for (const port of [4001, 4002, 4003]) await at(s.store.register("10.0.0.1", port, ["MAX"]));
    const seen = new Set<number>();
    for (let i = 0; i < 3; i++) seen.add((await at(s.store.lookup("MAX")))!.port);
    assertEquals([...seen].sort(), [4001, 4002, 4003]);
    assertEquals(await at(s.store.lookup("MIN")), undefined);
    const hit = (await at(s.store.lookup("MAX")))!;
    const reply = typeof hit.reply === "string" ? hit.reply : new TextDecoder().decode(hit.reply);
    assertEquals(reply, `MAX 10.0.0.1 ${hit.port}`);
    assertEquals((await at(s.store.matching("MAX"))).length, 3);
  });

  test(`${prefix} UNREGISTER removes only the sender's own records`, async () => {
    await using s = disposable(await make({}));
    await at(s.store.register("10.0.0.1", 4001, ["MAX", "MIN"]));
    await at(s.store.register("10.0.0.2", 4001, ["MAX"]));
    assertEquals(await at(s.store.unregister("10.0.0.9", 4001)), []);
    const gone = await at(s.store.unregister("10.0.0.1", 4001));
    assertEquals(gone.map((r) => r.command), ["MAX", "MIN"]);
    assertEquals((await at(s.store.records())).map((r) => `${r.command} ${r.ip}`), [
      "MAX 10.0.0.2",
    ]);
    assertEquals((await at(s.store.records("MIN"))).length, 0);
  });

  test(`${prefix} a record not refreshed within the ttl stops being handed out and is swept`, async () => {
    await using s = disposable(await make({ ttlMs: 400 }));
    await at(s.store.register("10.0.0.1", 4001, ["MAX"]));
    await at(s.store.register("10.0.0.2", 4001, ["MAX"]));
    const started = performance.now();
    // 10.0.0.2 keeps refreshing; 10.0.0.1 does not.
    const took = await until(async () => {
      await at(s.store.register("10.0.0.2", 4001, ["MAX"]));
      return (await at(s.store.matching("MAX"))).length === 1;
    }, 3000);
    assertOk(took >= 300, `expired after ${took.toFixed(0)} ms (ttl 400)`);
    assertEquals((await at(s.store.lookup("MAX")))?.ip, "10.0.0.2");
    const swept = await at(s.store.expire());
    assertEquals(swept.gone.map((r) => `${r.command} ${r.ip}`), ["MAX 10.0.0.1"]);
    assertOk(swept.nextInMs !== undefined && swept.nextInMs <= 400, String(swept.nextInMs));
    assertOk(performance.now() - started < 3000);
    assertEquals((await at(s.store.expire())).gone, []);
  });

  test(`${prefix} a record re-registered after its time was up counts as new`, async () => {
    await using s = disposable(await make({ ttlMs: 200 }));
    await at(s.store.register("10.0.0.1", 4001, ["MAX"]));
    await until(async () => (await at(s.store.lookup("MAX"))) === undefined, 3000);
    const back = await at(s.store.register("10.0.0.1", 4001, ["MAX"]));
    assertEquals([back.added.length, back.refreshed], [1, 0]);
    assertEquals((await at(s.store.lookup("MAX")))?.port, 4001);
  });

  test(`${prefix} limits: per server, per source (one host from many ports) and the whole table`, async () => {
    await using s = disposable(await make({ maxRecords: 8, maxPerServer: 3, maxPerSource: 5 }));
    await refuses(
      () => s.store.register("10.0.0.1", 4001, ["A", "B", "C", "D"]),
      "too many commands for one server (at most 3)",
    );
    assertEquals((await at(s.store.records())).length, 0, "all or nothing");
    await at(s.store.register("10.0.0.1", 4001, ["A", "B", "C"]));
    await at(s.store.register("10.0.0.1", 4002, ["A", "B"]));
    await refuses(
      () => s.store.register("10.0.0.1", 4003, ["A"]),
      "too many records from 10.0.0.1 (at most 5 per source)",
    );
    await at(s.store.register("10.0.0.1", 4001, ["A"])); // a refresh is not a new record
    await at(s.store.register("10.0.0.2", 4001, ["A", "B", "C"]));
    await refuses(
      () => s.store.register("10.0.0.3", 4001, ["A"]),
      "binder table full (at most 8 records)",
    );
    await at(s.store.unregister("10.0.0.1", 4002));
    await at(s.store.register("10.0.0.1", 4003, ["A"]));
    assertEquals((await at(s.store.records())).length, 7);
  });

  test(`${prefix} a REGISTER signature can be claimed once`, async () => {
    await using s = disposable(await make({}));
    const sig = "ab".repeat(32);
    assertEquals(await at(s.store.claimSignature(sig, 60_000)), true);
    assertEquals(await at(s.store.claimSignature(sig, 60_000)), false);
    assertEquals(await at(s.store.claimSignature("cd".repeat(32), 60_000)), true);
  });
}

function disposable(store: BinderStore) {
  return { store, [Symbol.asyncDispose]: () => store.close() };
}
