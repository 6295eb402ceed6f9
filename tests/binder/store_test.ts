import { storeContract } from "./store_contract.ts";
import { MemoryStore } from "../../lib/binder/store.ts";
import { assertEquals, assertOk } from "../helpers/assert.ts";

storeContract(
  "MemoryStore:",
  (o) => Promise.resolve(new MemoryStore({ ttlMs: o.ttlMs ?? 30_000, ...o })),
  (name, fn) => Deno.test(name, fn),
);

Deno.test("MemoryStore answers at once: LOOKUP on the UDP fast path is no promise", () => {
  const store = new MemoryStore({ ttlMs: 30_000 });
  const added = store.register("127.0.0.1", 4000, ["MAX"]);
  assertOk(!(added instanceof Promise));
  const hit = store.lookup("MAX");
  assertOk(hit !== undefined && !(hit instanceof Promise));
  assertEquals(new TextDecoder().decode(hit.reply as Uint8Array), "MAX 127.0.0.1 4000");
});

Deno.test("MemoryStore remembers signatures only for their ttl", () => {
  let now = 0;
  const store = new MemoryStore({ ttlMs: 30_000, clock: () => now });
  assertEquals(store.claimSignature("aa", 1000), true);
  assertEquals(store.claimSignature("aa", 1000), false);
  now = 1001;
  assertEquals(
    store.claimSignature("aa", 1000),
    true,
    "a signature that old fails its time check anyway",
  );
});
