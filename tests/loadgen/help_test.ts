// The README's "socklab bench" section and the command's help are one truth:
// the same usage line for every mode, the same limit on --duration.
import { assertEquals, assertMatch } from "../helpers/assert.ts";
import { ROOT, runCli } from "../helpers/cli.ts";
import { MAX_DURATION_S } from "../../lib/loadgen/args.ts";

const README = Deno.readTextFileSync(`${ROOT}README.md`);
const SECTION = README.slice(
  README.indexOf("#### socklab bench: load generators"),
  README.indexOf("`deno task bench` (bench/run.ts)"),
);

/** The synopsis of `mode` in the README's bullet list, whitespace folded. */
function readmeSynopsis(mode: string): string {
  const at = SECTION.indexOf(`- \`bench ${mode} `);
  const text = SECTION.slice(at + 3, SECTION.indexOf("`:", at));
  return text.replace(/\s+/g, " ");
}

for (const mode of ["udp", "tcp", "chat"]) {
  Deno.test(`bench ${mode}: README and --help give the same usage and duration limit`, async () => {
    const { code, stdout } = await runCli(["bench", mode, "--help"]);
    assertEquals(code, 0);
    const usage = /^usage: socklab (bench .*)$/m.exec(stdout)?.[1];
    assertEquals(readmeSynopsis(mode), usage);
    // The --duration entry runs to the next option line.
    const entry = stdout.slice(stdout.indexOf("\n  --duration S") + 1).split(/\n +-/)[0];
    const max = /at most (\d+)/.exec(entry)?.[1];
    assertEquals(Number(max), MAX_DURATION_S, stdout);
  });
}

Deno.test("the README states the same --duration limit as the code", () => {
  assertMatch(SECTION, new RegExp(`\\(\`--duration\`, at most ${MAX_DURATION_S} s\\)`));
});
