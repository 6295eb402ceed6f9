/**
 * Help and README agree (issue 15): for binder, exec-server and exec-client,
 * the flags the README's Exercise 4a paragraph names are exactly the flags
 * `--help` lists, and every help text ends with an exit-status line.
 */
import { assertEquals, assertMatch, assertOk } from "../helpers/assert.ts";
import { ROOT, runCli } from "../helpers/cli.ts";

const readme = Deno.readTextFileSync(`${ROOT}README.md`);
const section = readme.slice(
  readme.indexOf("### Exercise 4a"),
  readme.indexOf("### Exercise 4b"),
);

/** The `--flags` of the README paragraph that starts with "`COMMAND [". */
function readmeFlags(command: string): string[] {
  const start = section.indexOf(`\`${command} [`);
  assertOk(start >= 0, `no paragraph for ${command} in README`);
  const paragraph = section.slice(start, section.indexOf("\n\n", start));
  const synopsis = paragraph.slice(0, paragraph.indexOf("`:") + 1 || paragraph.indexOf("` ") + 1);
  return flagsOf(synopsis);
}

/** `--flags` of a synopsis, `-v` read as `--verbose`. */
function flagsOf(text: string): string[] {
  const found = (text.match(/(?<![\w-])--?[a-z][a-z-]*/g) ?? []).map((f) =>
    f === "-v" ? "--verbose" : f
  );
  return [...new Set(found.filter((f) => f.startsWith("--")))].sort();
}

/** The flags `--help` describes (its option lines), less --help itself. */
function helpFlags(help: string): string[] {
  const flags = help.split("\n")
    .filter((l) => /^ {2}(-[a-z], )?--[a-z-]+/.test(l))
    .map((l) => l.match(/--[a-z-]+/)![0]);
  return [...new Set(flags)].sort();
}

for (const command of ["binder", "exec-server", "exec-client"]) {
  Deno.test(`${command} --help and the README name the same flags, aligned, with an exit-status line`, async () => {
    const { code, stdout } = await runCli([command, "--help"]);
    assertEquals(code, 0);
    const usage = stdout.split("\n")[0];
    const fromUsage = flagsOf(usage);
    assertEquals(helpFlags(stdout), fromUsage, "the usage line and the option lines");
    assertEquals(readmeFlags(command), fromUsage, "README's synopsis and the usage line");
    assertMatch(stdout.trimEnd().split("\n\n").at(-1)!, /^Exit status: /);
    // One column: every option line's description starts at the same place.
    const starts = stdout.split("\n")
      .filter((l) => /^ {2}(-[a-z], )?--[a-z-]+/.test(l))
      .map((l) => l.search(/ {2,}\S/) + l.match(/ {2,}\S/)![0].length - 1);
    assertEquals(new Set(starts).size, 1, `option descriptions start at ${[...new Set(starts)]}`);
  });
}
