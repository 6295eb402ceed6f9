import { assertEquals, assertMatch, assertOk } from "../helpers/assert.ts";
import { freePort, runCli } from "../helpers/cli.ts";
import { sockaddrTarget, watchStep } from "../../lib/net/udp_refused.ts";

Deno.test("watchStep() looks early, then every 100 ms", () => {
  assertEquals([0, 1, 2, 3, 4, 5, 6, 40].map(watchStep), [2, 4, 8, 16, 32, 64, 100, 100]);
});

Deno.test("sockaddrTarget() reads IPv4, IPv6 and IPv4-mapped destinations", () => {
  const v4 = new Uint8Array([2, 0, 0x1f, 0x90, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
  assertEquals(sockaddrTarget(v4, 0), { hostname: "127.0.0.1", port: 8080 });
  const v6 = new Uint8Array(28);
  v6.set([10, 0, 0, 53]);
  v6[23] = 1;
  assertEquals(sockaddrTarget(v6, 0), { hostname: "::1", port: 53 });
  v6.set([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 7], 8);
  assertEquals(sockaddrTarget(v6, 0), { hostname: "10.0.0.7", port: 53 });
});

// Every UDP client, pointed at a port where nothing listens, fails at once
// (dig: "connection refused" in 25 ms) instead of waiting out its retries.
const CLIENTS: [string, (port: number) => string[], number][] = [
  ["time-client", (p) => ["time-client", `127.0.0.1:${p}`], 1],
  ["time-client --ntp", (p) => ["time-client", "--ntp", `[::1]:${p}`], 1],
  ["rates-client", (p) => ["rates-client", `127.0.0.1:${p}`, "USD"], 1],
  ["registry-client", (p) => ["registry-client", `127.0.0.1:${p}`, "who", "x"], 1],
  ["exec-client", (p) => ["exec-client", "--binder", `127.0.0.1:${p}`, "MAX", "1"], 1],
  ["chat-client --udp", (p) => ["chat-client", "--udp", "127.0.0.1", `${p}`, "bob"], 1],
  ["dns", (p) => ["dns", "@127.0.0.1", "-p", `${p}`, "x.test"], 9],
];

for (const [name, argv, code] of CLIENTS) {
  Deno.test(`${name} to a closed port fails at once with "connection refused"`, async () => {
    const port = freePort("udp");
    const started = performance.now();
    const r = await runCli(argv(port), { stdin: "" });
    const ms = performance.now() - started;
    assertEquals(r.code, code, r.stderr);
    assertMatch(r.stderr, /^socklab [\w-]+: no reply from .*: connection refused/);
    assertEquals(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
    // The default time-outs would take 6 s or more; the ICMP error takes milliseconds.
    assertOk(ms < 2000, `${name} took ${ms.toFixed(0)} ms`);
  });
}
