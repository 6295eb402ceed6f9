import { assertEquals, assertOk } from "../helpers/assert.ts";
import { FlushTicker } from "../../lib/net/flush_ticker.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("FlushTicker starts everything scheduled before a tick together, in order", async () => {
  const ticker = new FlushTicker(1);
  const ran: string[] = [];
  for (const name of ["a", "b", "c"]) ticker.schedule(() => ran.push(name));
  assertEquals(ticker.waiting, 3);
  assertEquals(ran, []); // never inside the caller's turn
  await sleep(5);
  assertEquals(ran, ["a", "b", "c"]);
  assertEquals(ticker.waiting, 0);
});

Deno.test("FlushTicker keeps ticks at least intervalMs apart", async () => {
  const ticker = new FlushTicker(30);
  const at: number[] = [];
  const done = new Promise<void>((resolve) => {
    const again = () => {
      at.push(performance.now());
      if (at.length < 3) ticker.schedule(again);
      else resolve();
    };
    ticker.schedule(again);
  });
  await done;
  // Timers may fire late, never early (allow 1 ms for clock rounding).
  assertOk(at[1] - at[0] >= 29 && at[2] - at[1] >= 29, `ticks at ${at.map((t) => t - at[0])}`);
});

Deno.test("FlushTicker.stop drops what waits", async () => {
  const ticker = new FlushTicker(1);
  let ran = false;
  ticker.schedule(() => (ran = true));
  ticker.stop();
  await sleep(5);
  assertEquals(ran, false);
});
