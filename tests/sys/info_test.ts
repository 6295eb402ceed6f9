/** info: its pure helpers from tables, then the command against whoami, hostname, uname, nproc. */
import { formatInfo, formatUptime, type MachineInfo, parseOsRelease } from "../../lib/sys/info.ts";
import { assertEquals, assertMatch } from "../helpers/assert.ts";
import { peerTest } from "../helpers/peers.ts";
import { must, run, socklab } from "./tools.ts";

const OS_RELEASE: [string, string, string | null][] = [
  [
    "a quoted PRETTY_NAME",
    'NAME="Debian GNU/Linux"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n',
    "Debian GNU/Linux 12 (bookworm)",
  ],
  ["NAME when PRETTY_NAME is missing", "NAME=Alpine\nID=alpine\n", "Alpine"],
  ["single quotes and escapes", "PRETTY_NAME='Lab \\\"OS\\\" 1'\n", 'Lab "OS" 1'],
  ["comments and blank lines", "# comment\n\nPRETTY_NAME=Plain\n", "Plain"],
  ["nothing known", "ID=x\n", null],
];

for (const [what, text, want] of OS_RELEASE) {
  Deno.test(`parseOsRelease() reads ${what}`, () => {
    assertEquals(parseOsRelease(text), want);
  });
}

Deno.test("formatUptime() shows days and hh:mm", () => {
  const shown: [number, string][] = [
    [59, "00:00"],
    [3600 + 5 * 60, "01:05"],
    [86400, "1 day, 00:00"],
    [3 * 86400 + 4 * 3600, "3 days, 04:00"],
  ];
  for (const [seconds, text] of shown) assertEquals(formatUptime(seconds), text, `${seconds} s`);
});

Deno.test("formatInfo() aligns one fact per line", () => {
  const info: MachineInfo = {
    user: "ana",
    uid: 1000,
    hostname: "lab1",
    arch: "x86_64",
    kernel: "Linux",
    kernelRelease: "6.1.0",
    os: "Debian",
    cpus: 4,
    cpuModel: null,
    memoryBytes: null,
    uptimeSeconds: null,
    versions: { socklab: "0.1.0", deno: "2.9.6", v8: "15", typescript: "6" },
  };
  assertEquals(formatInfo(info), [
    "user:       ana (uid 1000)",
    "hostname:   lab1",
    "arch:       x86_64",
    "os:         Debian",
    "kernel:     Linux 6.1.0",
    "cpus:       4",
    "socklab:    0.1.0",
    "deno:       2.9.6",
    "v8:         15",
    "typescript: 6",
  ]);
});

peerTest("info --json agrees with whoami, hostname, uname -m/-s/-r and nproc", [
  "whoami",
  "hostname",
  "uname",
  "nproc",
], async () => {
  const doc = JSON.parse(await must(socklab("info", "--json"))) as MachineInfo;
  const sh = async (...argv: string[]) => (await must(argv)).trim();
  assertEquals(doc.user, await sh("whoami"));
  assertEquals(doc.uid, Number(await sh("id", "-u")));
  assertEquals(doc.hostname, await sh("hostname"));
  assertEquals(doc.arch, await sh("uname", "-m"));
  assertEquals(doc.kernel, await sh("uname", "-s"));
  assertEquals(doc.kernelRelease, await sh("uname", "-r"));
  assertEquals(doc.cpus, Number(await sh("nproc")));
  assertEquals(doc.versions.deno, Deno.version.deno);
  assertEquals(doc.versions.v8, Deno.version.v8);
});

Deno.test("info prints one aligned fact per line; --bogus is a usage error", async () => {
  const out = await run(socklab("info"));
  assertEquals(out.code, 0);
  assertMatch(out.stdout, /^user: +\S+ \(uid \d+\)$/m);
  assertMatch(out.stdout, /^arch: +\S+$/m);
  assertMatch(out.stdout, new RegExp(`^deno: +${Deno.version.deno.replaceAll(".", "\\.")}$`, "m"));
  const bad = await run(socklab("info", "--bogus"));
  assertEquals(bad.code, 2);
  assertMatch(bad.stderr, /usage: socklab info/);
});
