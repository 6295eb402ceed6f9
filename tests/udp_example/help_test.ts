/**
 * Help and README agree (issue 15, item 8) for the lecture examples and
 * exercises 1-3: the flags of the README's synopsis (`**command** `...``),
 * of the usage line and of the option lines are the same; the option
 * descriptions start in one column; the help ends with an exit-status line.
 */
import { assertEquals, assertMatch, assertOk } from "../helpers/assert.ts";
import { ROOT, runCli } from "../helpers/cli.ts";

const COMMANDS = [
  "udp-server",
  "udp-client",
  "tcp-server",
  "tcp-client",
  "time-server",
  "time-client",
  "rates-server",
  "rates-client",
  "registry-server",
  "registry-client",
];

const readme = Deno.readTextFileSync(`${ROOT}README.md`);

/** The README's synopsis of `command`: the first code span after `**command**`. */
function readmeSynopsis(command: string): string {
  const at = readme.indexOf(`**${command}**`);
  assertOk(at >= 0, `no **${command}** paragraph in README`);
  const m = /`([^`]+)`/.exec(readme.slice(at + command.length + 4));
  assertOk(m, `no synopsis after **${command}**`);
  return m[1];
}

/** The `--flags` a text names, sorted, each once. */
function flagsOf(text: string): string[] {
  return [...new Set(text.match(/(?<![\w-])--[a-z][a-z-]*/g) ?? [])].sort();
}

/** Option lines of a help text: two spaces, then a flag. */
function optionLines(help: string): string[] {
  return help.split("\n").filter((l) => /^ {2}--[a-z-]+/.test(l));
}

for (const command of COMMANDS) {
  Deno.test(`${command} --help and the README name the same flags, in one column, with an exit-status line`, async () => {
    const { code, stdout } = await runCli([command, "--help"]);
    assertEquals(code, 0);
    const usage = stdout.split("\n")[0];
    assertMatch(usage, new RegExp(`^usage: socklab ${command}\\b`));
    const fromUsage = flagsOf(usage);
    const options = optionLines(stdout);
    assertEquals(flagsOf(options.join("\n")), fromUsage, "the usage line and the option lines");
    assertEquals(flagsOf(readmeSynopsis(command)), fromUsage, "README's synopsis and the usage");
    assertMatch(stdout.trimEnd().split("\n\n").at(-1)!, /^Exit status: 0 .*, 2 usage\.$/);
    const starts = options.map((l) => l.search(/ {2,}\S/) + l.match(/ {2,}\S/)![0].length - 1);
    assertEquals(new Set(starts).size, 1, `option descriptions start at ${[...new Set(starts)]}`);
  });
}

Deno.test("udp-client without data prints the SPEC's usage line exactly (exit 2)", async () => {
  const { code, stderr } = await runCli(["udp-client", "localhost"]);
  assertEquals(code, 2);
  assertOk(
    stderr.split("\n").includes("usage : socklab udp-client <server> <data1> ... <dataN>"),
    stderr,
  );
});
