/** `socklab inet` end to end: output shapes, JSON, exit codes (values come from inet.ts, checked against C in inet_test.ts). */
import { assertEquals, assertMatch } from "../helpers/assert.ts";
import { runCli } from "../helpers/cli.ts";
import { hex32, inetAton } from "../../lib/lookup/inet.ts";

Deno.test("inet aton prints the dotted quad, decimal and hex of one address", async () => {
  const r = await runCli(["inet", "aton", "0x7f.1"]);
  const v = inetAton("0x7f.1");
  if (!v.valid) throw new Error("0x7f.1 is valid");
  assertEquals([r.code, r.stdout, r.stderr], [
    0,
    `${v.address}  ${v.value}  ${hex32(v.value)}\n`,
    "",
  ]);
});

Deno.test("inet aton --json gives one object per argument in order, and exit 1 if any is invalid", async () => {
  const inputs = ["127.1", "1.2.3.256", "10.0.0.1 trailing"];
  const r = await runCli(["inet", "aton", "--json", ...inputs]);
  assertEquals(r.code, 1);
  const doc = JSON.parse(r.stdout);
  assertEquals(doc.map((o: { input: string }) => o.input), inputs);
  assertEquals(doc.map((o: { valid: boolean }) => o.valid), inputs.map((i) => inetAton(i).valid));
  for (const [k, input] of inputs.entries()) {
    const v = inetAton(input);
    if (v.valid) assertEquals([doc[k].address, doc[k].value], [v.address, v.value]);
    else assertEquals(doc[k].reason, v.reason);
  }
  assertEquals(doc[2].ignored, "trailing");
  assertMatch(r.stderr, /^socklab inet aton: invalid address "1\.2\.3\.256": /m);
});

Deno.test("inet aton fails on one invalid address with one stderr line and exit 1", async () => {
  const r = await runCli(["inet", "aton", "1.2.3.4.5"]);
  assertEquals([r.code, r.stdout], [1, ""]);
  assertEquals(r.stderr, 'socklab inet aton: invalid address "1.2.3.4.5": more than 4 parts\n');
});

Deno.test("inet addr warns that 255.255.255.255 is indistinguishable from an error", async () => {
  const ok = await runCli(["inet", "addr", "255.255.255.255"]);
  assertEquals(ok.code, 0);
  assertMatch(ok.stdout, /= INADDR_NONE$/m);
  assertMatch(
    ok.stderr,
    /^socklab inet addr: warning: "255\.255\.255\.255" is valid, but inet_addr returns INADDR_NONE/,
  );
  const bad = await runCli(["inet", "addr", "1.2.3.x"]);
  assertEquals(bad.code, 1);
  assertMatch(bad.stdout, /= INADDR_NONE$/m);
});

Deno.test("inet pton and ntop round-trip IPv4 and IPv6, ntop in RFC 5952 form", async () => {
  const p = await runCli([
    "inet",
    "pton",
    "2001:0DB8:0:0:0:0:0:1",
    "::ffff:192.0.2.1",
    "192.0.2.1",
  ]);
  assertEquals(p.code, 0, p.stderr);
  const hexes = p.stdout.trimEnd().split("\n").map((l) => l.split(/\s+/).at(-1)!);
  const n = await runCli(["inet", "ntop", "--json", ...hexes]);
  assertEquals(JSON.parse(n.stdout).map((o: { address: string }) => o.address), [
    "2001:db8::1",
    "::ffff:192.0.2.1",
    "192.0.2.1",
  ]);
  const strict = await runCli(["inet", "pton", "010.1.1.1"]);
  assertEquals(strict.code, 1);
});

Deno.test("inet ntoa converts decimal and hex values and rejects values over 32 bits", async () => {
  const r = await runCli(["inet", "ntoa", "--json", "2130706433", "0xC0000201", "4294967296"]);
  assertEquals(r.code, 1);
  const doc = JSON.parse(r.stdout);
  assertEquals(doc.map((o: { address?: string }) => o.address ?? null), [
    "127.0.0.1",
    "192.0.2.1",
    null,
  ]);
});

Deno.test("inet refuses a missing or unknown subcommand with exit 2", async () => {
  for (const args of [["inet"], ["inet", "atoi", "1"], ["inet", "aton"]]) {
    const r = await runCli(args);
    assertEquals(r.code, 2, args.join(" "));
    assertMatch(r.stderr, /^usage: socklab inet /m);
  }
  const help = await runCli(["inet", "aton", "--help"]);
  assertEquals(help.code, 0);
  assertMatch(help.stdout, /^usage: socklab inet aton /);
});
