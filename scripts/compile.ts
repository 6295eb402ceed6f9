/**
 * `deno task compile`: builds the single binary dist/socklab with every
 * permission and flag socklab needs. `deno compile` downloads a runtime stub
 * (denort) unless `DENORT_BIN` names one; where the download cannot work (no
 * internet), this says so in one line instead of a wall of errors.
 *
 * ```sh
 * deno task compile
 * DENORT_BIN=/path/to/denort deno task compile
 * ```
 * @module
 */
import { FETCH_ENV } from "./fetch_env.ts";
import { writeStaticEntry } from "./static_entry.ts";

/** deno compile's arguments for the entry that imports every command statically. */
function compileArgs(entry: string): string[] {
  return [
    "compile",
    "--allow-all",
    "--unstable-net",
    "--no-check",
    "--output",
    "dist/socklab",
    entry,
  ];
}

async function compile(): Promise<number> {
  const denort = Deno.env.get("DENORT_BIN");
  if (denort) {
    try {
      Deno.statSync(denort);
    } catch {
      console.error(`socklab compile: DENORT_BIN "${denort}" does not exist`);
      return 1;
    }
  }
  // deno compile cannot follow main.ts's computed command imports: compile an
  // entry that imports every command statically.
  const dir = await Deno.makeTempDir({ prefix: "socklab-compile-" });
  const entry = await writeStaticEntry(dir);
  const out = await new Deno.Command(Deno.execPath(), {
    args: compileArgs(entry),
    env: FETCH_ENV,
    stdout: "inherit",
    stderr: "piped",
  }).output().finally(() => Deno.remove(dir, { recursive: true }));
  if (out.success) {
    // A DENORT_BIN that is really the deno CLI yields a binary that ignores socklab.
    const probe = await new Deno.Command("dist/socklab", { args: ["--version"], stdout: "piped" })
      .output();
    const version = new TextDecoder().decode(probe.stdout);
    if (!version.startsWith("socklab")) {
      console.error(
        "socklab compile: dist/socklab does not run socklab (is DENORT_BIN the deno CLI instead of denort?)",
      );
      return 1;
    }
    console.log(`socklab compile: wrote dist/socklab (${version.trim()})`);
    return 0;
  }
  const err = new TextDecoder().decode(out.stderr);
  if (!denort && /denort|download|dl\.deno\.land|connect|dns error|network/i.test(err)) {
    console.error(
      `socklab compile: cannot download Deno's runtime stub (denort ${Deno.version.deno}) from here; ` +
        `set DENORT_BIN to a denort ${Deno.version.deno} binary for this platform, or run ` +
        "`deno task compile` on a machine with internet access (or use `deno task bundle`, which works offline)",
    );
  } else {
    console.error(`socklab compile: deno compile failed: ${err.trim().split("\n").pop()}`);
  }
  return 1;
}

Deno.exit(await compile());
