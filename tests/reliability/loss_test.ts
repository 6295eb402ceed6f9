/**
 * Packet loss between two network namespaces: the servers of the table that
 * have a command-line client (servers.ts `client`) run in a "server"
 * namespace whose nftables rules drop 20% of the UDP datagrams crossing the
 * veth link, in each direction, at random (`numgen random mod 100 < 20`; tc
 * netem is not available here). Every client runs LOSS_COUNT times (default
 * 12) from the "client" namespace with its default time-out and retries, and
 * the test reports successes / attempts per client.
 *
 * With 20% loss each way a try fails 1 - 0.8² = 36% of the time, so a client
 * with the default 3 tries fails 0.36³ ≈ 4.7% of its requests; the test
 * asserts at least 75% overall (without retries it would be 64%) and that
 * the registry never applies a retried request twice.
 *
 * Root only: ignored on a user's machine without root, failed under CI=true.
 * @module
 */
import { assertEquals, assertOk } from "../helpers/assert.ts";
import { socklabArgv, spawnProgram } from "../helpers/cli.ts";
import { createNetnsPair, listNetns, type NetnsPair } from "../helpers/netns.ts";
import { peerTest } from "../helpers/peers.ts";
import { type RunningServer, startServer } from "./harness.ts";
import { type LossClient, SERVERS } from "./servers.ts";

/** Percentage of UDP datagrams dropped on the link, each direction. */
export const LOSS_PERCENT = 20;

/** Requests of one client in flight at once. */
const CONCURRENCY = 3;

function lossCount(): number {
  const n = Number(Deno.env.get("LOSS_COUNT") ?? 12);
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError("LOSS_COUNT must be a whole number");
  return n;
}

/** The ruleset: count UDP on the veth, then drop LOSS_PERCENT% of it, both directions. */
function lossRules(dev: string): string {
  const rule = (dir: "iifname" | "oifname") =>
    `${dir} "${dev}" meta l4proto udp counter numgen random mod 100 < ${LOSS_PERCENT} counter drop`;
  return `table inet socklab_loss {
  chain input { type filter hook input priority 0; policy accept; ${rule("iifname")}; }
  chain output { type filter hook output priority 0; policy accept; ${rule("oifname")}; }
}
`;
}

/** [datagrams seen, datagrams dropped] on the link, from the rules' counters. */
async function lossCounters(link: NetnsPair): Promise<[number, number]> {
  const text = await link.nftList("server", "list", "table", "inet", "socklab_loss");
  let seen = 0;
  let dropped = 0;
  for (
    const m of text.matchAll(/counter packets (\d+) bytes \d+ numgen .*? counter packets (\d+)/g)
  ) {
    seen += Number(m[1]);
    dropped += Number(m[2]);
  }
  return [seen, dropped];
}

interface ClientRun {
  client: LossClient;
  attempts: number;
  successes: number;
  /** Indices of the requests that succeeded. */
  succeeded: number[];
  delivered: number;
  failures: string[];
  /** What the final check found wrong, if anything. */
  finalProblem?: string;
}

async function runClient(
  link: NetnsPair,
  server: RunningServer,
  client: LossClient,
  count: number,
): Promise<ClientRun> {
  const run: ClientRun = {
    client,
    attempts: 0,
    successes: 0,
    succeeded: [],
    delivered: 0,
    failures: [],
  };
  const arrived = new Set<number>();
  const stop = client.delivered
    ? server.proc.stdout.onLine((line) => {
      for (let i = 0; i < count; i++) if (client.delivered!(i).test(line)) arrived.add(i);
    })
    : undefined;
  const to = { server: `${server.host}:${server.port}`, binder: server.binder };
  const one = async (i: number) => {
    run.attempts++;
    await using p = spawnProgram(link.exec("client", [...socklabArgv(), ...client.args(to, i)]), {
      stdin: false,
    });
    const status = await p.exit(60_000);
    if (status.code === 0 && client.expect(i).test(p.stdout.text)) {
      run.successes++;
      run.succeeded.push(i);
    } else {
      run.failures.push(
        `#${i}: exit ${status.code}: ${
          (p.stderr.text.trim() || p.stdout.text.trim()).split("\n")[0]
        }`,
      );
    }
  };
  try {
    // A few requests at once: the time goes in time-outs, not in CPU.
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < count) await one(next++);
      }),
    );
  } finally {
    stop?.();
  }
  run.delivered = arrived.size;
  if (client.final) {
    await using p = spawnProgram(
      link.exec("client", [...socklabArgv(), ...client.final.args(to)]),
      {
        stdin: false,
      },
    );
    const status = await p.exit(120_000);
    run.finalProblem = status.code === 0
      ? client.final.verify(p.stdout.text, run.succeeded)
      : `the final check failed: ${p.stderr.text.trim()}`;
  }
  return run;
}

peerTest(
  `UDP clients get through ${LOSS_PERCENT}% random packet loss between namespaces with default retries`,
  ["ip", "nft"],
  async () => {
    const count = lossCount();
    const entries = SERVERS.filter((e) => e.client);
    assertOk(entries.length > 0, "some server has a client");
    let nsName = "";
    {
      await using link = await createNetnsPair("loss");
      nsName = link.server.ns;
      await link.nft("server", lossRules(link.server.dev));
      const servers: RunningServer[] = [];
      try {
        for (const entry of entries) {
          servers.push(
            await startServer(entry, { host: link.server.ip, wrap: link.exec("server", []) }),
          );
        }
        const runs = await Promise.all(
          servers.map((s) => runClient(link, s, s.entry.client!, count)),
        );
        const [seen, dropped] = await lossCounters(link);
        console.log(
          `link: ${dropped} of ${seen} UDP datagrams dropped (${
            (100 * dropped / Math.max(1, seen)).toFixed(1)
          }%)`,
        );
        let attempts = 0;
        let successes = 0;
        for (const r of runs) {
          attempts += r.attempts;
          successes += r.successes;
          const delivered = r.client.delivered
            ? `, ${r.delivered}/${r.attempts} datagrams arrived`
            : "";
          console.log(`${r.client.name}: ${r.successes}/${r.attempts} succeeded${delivered}`);
          for (const f of r.failures) console.log(`  ${f}`);
          // A client may fail a request, but never with a double-applied registration.
          for (const f of r.failures) {
            assertOk(!/already registered/.test(f), `a retried request was applied twice: ${f}`);
          }
          assertOk(r.successes > 0, `${r.client.name} never got through`);
          assertEquals(r.finalProblem, undefined, `${r.client.name}: ${r.finalProblem}`);
        }
        assertOk(dropped > 0, "the rules dropped nothing: the loss was not applied");
        assertOk(
          successes >= attempts * 0.75,
          `only ${successes}/${attempts} requests succeeded through ${LOSS_PERCENT}% loss`,
        );
      } finally {
        for (const s of servers) await s[Symbol.asyncDispose]();
      }
    }
    const left = await listNetns();
    assertEquals(left.filter((n) => n === nsName), [], "the namespaces were removed");
  },
  { root: true },
);
