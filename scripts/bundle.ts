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

/**
 * deno.json's npm imports (`"redis": "npm:redis@6.4.0"`). They stay out of
 * the bundle: inlined, node-redis's CommonJS made every bundled command load
 * Deno's Node layer at start-up (~+90 ms CPU for `inet aton`). The bundle
 * imports them by their pinned `npm:` specifier instead, loaded (and fetched
 * once into Deno's cache) only by the commands that use them (`--redis`).
 */
async function npmImports(): Promise<Record<string, string>> {
  const config = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  const imports: Record<string, string> = config.imports ?? {};
  return Object.fromEntries(Object.entries(imports).filter(([, to]) => to.startsWith("npm:")));
}

/** Bundles socklab into `out`; returns deno bundle's exit code. */
export async function bundle(out: string): Promise<number> {
  const dir = await Deno.makeTempDir({ prefix: "socklab-bundle-" });
  try {
    const entry = await writeStaticEntry(dir);
    const npm = await npmImports();
    const external = Object.keys(npm).flatMap((name) => ["--external", name]);
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["bundle", "--quiet", "--platform", "deno", ...external, "-o", out, entry],
      env: FETCH_ENV,
      stdout: "inherit",
      stderr: "piped",
    }).output();
    if (code !== 0) {
      console.error(
        `socklab bundle: deno bundle failed: ${new TextDecoder().decode(stderr).trim()}`,
      );
      return code;
    }
    let text = await Deno.readTextFile(out);
    for (const [name, to] of Object.entries(npm)) {
      text = text.replaceAll(`import(${JSON.stringify(name)})`, `import(${JSON.stringify(to)})`);
    }
    await Deno.writeTextFile(out, text);
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
