import { assertEquals, assertOk } from "../helpers/assert.ts";
import { Gate } from "../../lib/net/gate.ts";

/** A source that records when each read starts. */
function source(log: string[]) {
  let n = 0;
  return {
    read(p: Uint8Array): Promise<number | null> {
      log.push(`read ${++n}`);
      return Promise.resolve(p.length);
    },
  };
}

/** A new gate guarding a {@linkcode source}, and the log of the reads that reached it. */
function gated() {
  const log: string[] = [];
  const gate = new Gate();
  return { log, gate, guarded: gate.guard(source(log)) };
}

const turn = () => new Promise((r) => setTimeout(r, 0));

Deno.test("Gate: an open gate reads at once; a closed one holds reads until open()", async () => {
  const { log, gate, guarded } = gated();
  assertEquals(await guarded.read(new Uint8Array(3)), 3);
  gate.close();
  assertOk(gate.closed);
  const held = [guarded.read(new Uint8Array(1)), guarded.read(new Uint8Array(2))];
  await turn();
  assertEquals(log, ["read 1"]);
  gate.open();
  assertEquals(await Promise.all(held), [1, 2]);
  assertEquals(log, ["read 1", "read 2", "read 3"]);
});

Deno.test("Gate: a read let go re-checks, so closing again at once holds it again", async () => {
  const { log, gate, guarded } = gated();
  gate.close();
  const pending = guarded.read(new Uint8Array(1));
  gate.open();
  gate.close(); // before the waiting read got its turn
  await turn();
  assertEquals(log, []);
  gate.open();
  assertEquals(await pending, 1);
});

Deno.test("Gate: dispose() opens for good", async () => {
  const { gate, guarded } = gated();
  gate.close();
  const pending = guarded.read(new Uint8Array(1));
  gate.dispose();
  gate.close();
  assertEquals(gate.closed, false);
  assertEquals(await pending, 1);
});
