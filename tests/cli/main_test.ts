import { assertEquals, assertMatch, assertOk } from "../helpers/assert.ts";
import { MAIN, runCli } from "../helpers/cli.ts";
import { COMMANDS, SECTIONS } from "../../lib/cli/commands.ts";
import { intFlag, parseFlags } from "../../lib/cli/flags.ts";
import { HelpRequest, UsageError } from "../../lib/cli/errors.ts";
import { throws } from "../helpers/assert.ts";

Deno.test("socklab --help lists every command under its section", async () => {
  const { code, stdout } = await runCli(["--help"]);
  assertEquals(code, 0);
  for (const section of SECTIONS) {
    if (COMMANDS.some((c) => c.section === section)) {
      assertMatch(stdout, new RegExp(`^${section}:$`, "m"));
    }
  }
  for (const c of COMMANDS) assertMatch(stdout, new RegExp(`^  ${c.name} `, "m"));
});

Deno.test("socklab --version names socklab and the runtime", async () => {
  const { code, stdout } = await runCli(["--version"]);
  assertEquals(code, 0);
  assertMatch(stdout, /^socklab \d+\.\d+\.\d+ \(deno 2\.9\.6, v8 /);
});

Deno.test("socklab with an unknown command exits 2 with the usage on stderr", async () => {
  const { code, stdout, stderr } = await runCli(["no-such-command"]);
  assertEquals(code, 2);
  assertEquals(stdout, "");
  assertEquals(stderr.split("\n")[0], 'socklab: unknown command "no-such-command"');
  assertMatch(stderr, /^usage: socklab <command>/m);
});

Deno.test("socklab with no command exits 2", async () => {
  const { code, stderr } = await runCli([]);
  assertEquals(code, 2);
  assertMatch(stderr, /^usage: socklab/);
});

Deno.test("every command answers --help on stdout with exit 0", async () => {
  for (const c of COMMANDS) {
    const { code, stdout, stderr } = await runCli([c.name, "--help"]);
    assertEquals(code, 0, `${c.name} --help exit code; stderr: ${stderr}`);
    assertMatch(stdout, /usage/i, `${c.name} --help prints its usage`);
  }
});

Deno.test("a bad flag exits 2 with one error line and the usage, no stack trace", async () => {
  const { code, stderr } = await runCli(["udp-server", "--bogus"]);
  assertEquals(code, 2);
  const lines = stderr.trimEnd().split("\n");
  assertMatch(lines[0], /^socklab udp-server: Unknown option '--bogus'/);
  assertEquals(lines[1], "usage: socklab udp-server [--port N] [--bind ADDR]");
  assertOk(!/\bat \S+:\d+:\d+/.test(stderr), "no stack trace");
});

Deno.test("intFlag() checks ranges and names the flag", () => {
  assertEquals(intFlag("0", "port", 0, 65535), 0);
  assertEquals(intFlag(undefined, "port", 0, 65535, 1500), 1500);
  throws(
    () => intFlag("70000", "port", 0, 65535),
    /Cannot parse --port "70000": must be between 0 and 65535/,
  );
  throws(() => intFlag("1e3", "port", 0, 65535), /not a whole number/);
});

Deno.test("parseFlags() turns --help into a HelpRequest and extra arguments into a UsageError", () => {
  const spec = { usage: "usage: x", options: {}, maxPositionals: 1 };
  throws(() => parseFlags(["--help"], spec), /help requested/, HelpRequest);
  throws(() => parseFlags(["a", "b"], spec), /Unexpected argument "b"/, UsageError);
});

Deno.test("an out-of-range flag value exits 2 with the error and the command's usage line", async () => {
  const { code, stderr } = await runCli(["udp-server", "--port", "70000"]);
  assertEquals(code, 2);
  assertEquals(
    stderr,
    'socklab udp-server: Cannot parse --port "70000": must be between 0 and 65535\n' +
      "usage: socklab udp-server [--port N] [--bind ADDR]\n",
  );
});

// `socklab netstat -tuan | head -2` printed "Broken pipe (os error 32)" and
// exited 1; ss stops silently. The reader here closes its end before the
// command writes anything, so every write meets a closed pipe.
const PIPED: string[][] = [
  ["netstat", "-tuan"],
  ["ifconfig"],
  ["info"],
  ["getaddrinfo", "localhost"],
  ["inet", "aton", "1.2.3.4"],
  ["hostname"],
  ["--help"],
  ["netstat", "--help"],
  ["--version"],
];
for (const args of PIPED) {
  Deno.test(`socklab ${args.join(" ")} into a closed pipe stops silently with status 0`, async () => {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", MAIN, ...args],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    await child.stdout.cancel();
    const out = await child.output();
    assertEquals(
      [out.code, new TextDecoder().decode(out.stderr)],
      [0, ""],
    );
  });
}
