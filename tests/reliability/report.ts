/**
 * Prints the README's reliability table: every server of servers.ts fuzzed
 * with the same budget and seed as the tests, one markdown row each. Run it
 * to refresh the figures (FUZZ_COUNT and SEED work as in fuzz_test.ts).
 *
 * ```sh
 * deno run -A tests/reliability/report.ts
 * FUZZ_COUNT=20000 SEED=1 deno run -A tests/reliability/report.ts
 * ```
 * @module
 */
import { baseSeed } from "./fuzz.ts";
import { budget, fuzzServer, summaryLine, tableRow } from "./harness.ts";
import { SERVERS } from "./servers.ts";

if (import.meta.main) {
  const seed = baseSeed();
  const b = budget();
  const rows: string[] = [];
  let failed = 0;
  for (const entry of SERVERS) {
    const r = await fuzzServer(entry, seed, b);
    console.error(summaryLine(r));
    if (r.failure) {
      failed++;
      console.error(r.failure);
    }
    rows.push(tableRow(r));
  }
  console.log(
    `Seed ${seed}; ${
      b.datagrams.toLocaleString("en-US")
    } datagrams per UDP server, ${b.sessions} sessions per TCP server, ${b.batches} batches.\n`,
  );
  console.log(
    "| server | hostile input | crashes | probes answered | RSS growth (peak) | SIGTERM |",
  );
  console.log("|---|---|---|---|---|---|");
  for (const row of rows) console.log(row);
  Deno.exit(failed ? 1 : 0);
}
