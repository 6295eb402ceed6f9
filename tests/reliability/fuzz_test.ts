/**
 * Fuzzing every server of the table (servers.ts) with seeded hostile input.
 * Each test prints one summary line; a failure prints the seed and the
 * command that replays it. Counts: FUZZ_COUNT hostile datagrams per UDP
 * server (default 5,000) and FUZZ_COUNT/50 hostile sessions per TCP server
 * (default 100), in 20 batches each followed by 5 probes.
 *
 * ```sh
 * deno test -A tests/reliability/fuzz_test.ts
 * FUZZ_COUNT=50000 deno test -A tests/reliability/fuzz_test.ts   # heavier
 * SEED=123 deno test -A tests/reliability/fuzz_test.ts --filter "binder "
 * ```
 * @module
 */
import { assertEquals, assertOk } from "../helpers/assert.ts";
import { baseSeed } from "./fuzz.ts";
import { describeExchange } from "./amplification.ts";
import { budget, fuzzServer, repliesText, summaryLine, tableRow } from "./harness.ts";
import { RSS_GROWTH_LIMIT_MB, SERVERS } from "./servers.ts";

const seed = baseSeed();
const b = budget();

for (const entry of SERVERS) {
  Deno.test(`${entry.name} survives seeded hostile input and keeps answering (fuzz)`, async () => {
    const r = await fuzzServer(entry, seed, b);
    console.log(
      `${summaryLine(r)}  [seed ${seed}, ${r.seconds.toFixed(1)} s${
        r.transport === "udp"
          ? `, ${repliesText(r)}, ${r.kernelDrops ?? 0} dropped by the kernel`
          : ""
      }]`,
    );
    console.log(`  ${tableRow(r)}`);
    if (r.freshAmplification) {
      const a = r.freshAmplification;
      console.log(
        `  after the fill: ${a.requests} requests from fresh sockets, ${a.violations.length} ` +
          `over max(3x, 512 B)${a.worst ? `; most: ${describeExchange(a.worst)}` : ""}`,
      );
    }
    if (r.failure) throw new Error(r.failure);
    if (r.transport === "udp") {
      const w = r.amplification.worst;
      console.log(
        `  amplification: ${r.amplification.over} replies over max(3x, 512)${
          w ? `, worst ${w.bytes} B against a limit of ${w.limit} B` : ""
        }`,
      );
      if (!entry.amplificationPending) {
        assertEquals(r.amplification.over, 0, `replies over the limit; replay with SEED=${seed}`);
      }
    }
    assertEquals(r.crashes, 0);
    const over = r.freshAmplification?.violations ?? [];
    assertOk(
      over.length === 0 || entry.amplificationPending !== undefined,
      `replies over max(3x the request, 512 B) to unvalidated sources:\n  ${
        over.slice(0, 5).map(describeExchange).join("\n  ")
      }\nreplay with SEED=${seed}`,
    );
    assertEquals(r.probesAnswered, r.probesTotal);
    assertOk(r.probesTotal >= b.batches * b.probesPerBatch, "every batch was probed");
    const limitMB = entry.rssLimitMB ?? RSS_GROWTH_LIMIT_MB;
    assertOk(
      r.rssMax - r.rssStart <= limitMB * 1048576,
      `RSS grew by ${Math.round((r.rssMax - r.rssStart) / 1048576)} MB (limit ${limitMB} MB); ` +
        `replay with SEED=${seed}`,
    );
  });
}
