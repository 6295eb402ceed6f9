/**
 * `deno task bundle`: dist/socklab.js, one file that runs every command with
 * `deno run -A --unstable-net dist/socklab.js ...`. Works offline.
 *
 * ```sh
 * deno task bundle                 # dist/socklab.js
 * deno run -A scripts/bundle.ts /tmp/socklab.js
 * ```
 * @module
 */
import { FETCH_ENV } from "./fetch_env.ts";
import { writeStaticEntry } from "./static_entry.ts";

/** Bundles socklab into `out`; returns deno bundle's exit code. */
export async function bundle(out: string): Promise<number> {
  const dir = await Deno.makeTempDir({ prefix: "socklab-bundle-" });
  try {
    const entry = await writeStaticEntry(dir);
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["bundle", "--quiet", "--platform", "deno", "-o", out, entry],
      env: FETCH_ENV,
      stdout: "inherit",
      stderr: "piped",
    }).output();
    if (code !== 0) {
      console.error(
        `socklab bundle: deno bundle failed: ${new TextDecoder().decode(stderr).trim()}`,
      );
    }
    return code;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  const out = Deno.args[0] ?? "dist/socklab.js";
  const code = await bundle(out);
  if (code === 0) console.log(`socklab bundle: wrote ${out}`);
  Deno.exit(code);
}
