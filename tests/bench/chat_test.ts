import { assertEquals } from "../helpers/assert.ts";
import { searchCapacity, withinBound } from "../../bench/chat.ts";
import type { ChatLoadReport } from "../../bench/chat_servers.ts";

/** A fake run whose p99 grows with the rate: a server that passes up to `limit` lines/s. */
function fakeServer(limit: number, tried: number[]) {
  return (rate: number): Promise<ChatLoadReport> => {
    tried.push(rate);
    return Promise.resolve({
      deliveries: 1,
      expected: 1,
      lost: 0,
      deliveriesPerSecond: 1,
      p50: 1,
      p99: rate <= limit ? 50 : 150,
      serverCpu: [0],
      generatorBusiest: 0.1,
    });
  };
}

Deno.test("searchCapacity() climbs until a rate fails twice, then bisects twice toward the limit", async () => {
  const tried: number[] = [];
  const c = await searchCapacity(fakeServer(63, tried), [1, 2, 5, 10, 20, 50, 100, 150]);
  // A failing rate is tried twice before it counts as failed.
  assertEquals(tried, [1, 2, 5, 10, 20, 50, 100, 100, 75, 75, 63]);
  assertEquals([c.rate, c.fail?.rate], [63, 75]);
});

Deno.test("searchCapacity() reports 0 when the first rate fails, and no failure past the ladder", async () => {
  const none = await searchCapacity(fakeServer(0, []), [1, 2, 5]);
  assertEquals([none.rate, none.pass, none.fail?.rate], [0, undefined, 1]);
  const all = await searchCapacity(fakeServer(1000, []), [1, 2, 5]);
  assertEquals([all.rate, all.fail], [5, undefined]);
});

Deno.test("withinBound() needs every copy delivered as well as the p99", () => {
  const run = (lost: number, p99: number) => ({ lost, p99 } as ChatLoadReport);
  assertEquals([withinBound(run(0, 100)), withinBound(run(1, 10)), withinBound(run(0, 101))], [
    true,
    false,
    false,
  ]);
});

Deno.test("searchCapacity() keeps a rate that fails once and passes on the second try", async () => {
  let stalled = false;
  const flaky = (rate: number): Promise<ChatLoadReport> => {
    const stall = rate === 5 && !stalled; // the first run at 5 hits a stall
    if (stall) stalled = true;
    return fakeServer(stall ? 0 : 10, [])(rate);
  };
  const c = await searchCapacity(flaky, [1, 5, 10, 20]);
  assertEquals([stalled, c.rate, c.fail?.rate], [true, 10, 13]);
});
