/**
 * `deno task install`: puts a `socklab` command on PATH. It bundles socklab
 * into one file and writes a launcher next to a copy of the Deno that ran it,
 * so the command works without Deno on PATH (npx's Deno lives in npm's
 * cache) and without this checkout.
 *
 * ```sh
 * npx -y deno@2.9.6 task install                      # ~/.local/bin/socklab
 * npx -y deno@2.9.6 task install --prefix /usr/local  # /usr/local/bin/socklab
 * ```
 * @module
 */
import { parseArgs } from "node:util";
import { bundle } from "./bundle.ts";
import { FETCH_ENV } from "./fetch_env.ts";

/** Where the pieces of an installation go under `prefix`. */
export function installPaths(prefix: string): { bin: string; share: string } {
  return { bin: `${prefix}/bin/socklab`, share: `${prefix}/share/socklab` };
}

/** The launcher script: the copied Deno running the bundle with socklab's flags. */
export function launcher(deno: string, bundleFile: string): string {
  const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  return [
    "#!/bin/sh",
    "# socklab, written by `deno task install` (scripts/install.ts).",
    "# npm: imports (node-redis, for --redis) are fetched at install; should Deno's",
    "# cache lose them, it fetches them again, which on lab machines needs the system CAs.",
    `DENO_TLS_CA_STORE="\${DENO_TLS_CA_STORE:-mozilla,system}" exec ${
      q(deno)
    } run --allow-all --unstable-net --no-config --quiet ${q(bundleFile)} "$@"`,
    "",
  ].join("\n");
}

/** Hard-links `from` to `to` (same file system), else copies it. */
async function linkOrCopy(from: string, to: string): Promise<void> {
  await Deno.remove(to).catch(() => {});
  try {
    await Deno.link(from, to);
  } catch {
    await Deno.copyFile(from, to);
    await Deno.chmod(to, 0o755);
  }
}

/**
 * Fetches what the bundle imports from npm (node-redis) into Deno's cache now,
 * so `--redis` works later without a download. Throws when it cannot.
 */
async function cacheImports(deno: string, bundled: string): Promise<void> {
  const out = await new Deno.Command(deno, {
    args: ["cache", "--no-config", "--quiet", bundled],
    env: FETCH_ENV,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) {
    const why = new TextDecoder().decode(out.stderr).trim().split("\n")[0];
    throw new Error(`cannot fetch the bundle's npm imports: ${why}`);
  }
}

/** Installs under `prefix`; returns the launcher's path. Throws when the bundle fails. */
export async function install(prefix: string): Promise<string> {
  const paths = installPaths(prefix);
  await Deno.mkdir(paths.share, { recursive: true });
  await Deno.mkdir(`${prefix}/bin`, { recursive: true });
  const bundled = `${paths.share}/socklab.js`;
  if (await bundle(bundled) !== 0) throw new Error("bundling failed");
  const deno = `${paths.share}/deno`;
  await linkOrCopy(Deno.execPath(), deno);
  await cacheImports(deno, bundled);
  await Deno.writeTextFile(paths.bin, launcher(deno, bundled), { mode: 0o755 });
  await Deno.chmod(paths.bin, 0o755);
  return paths.bin;
}

function onPath(dir: string): boolean {
  return (Deno.env.get("PATH") ?? "").split(":").some((p) => p.replace(/\/$/, "") === dir);
}

if (import.meta.main) {
  const { values } = parseArgs({ args: Deno.args, options: { prefix: { type: "string" } } });
  const home = Deno.env.get("HOME");
  const prefix = values.prefix ?? (home ? `${home}/.local` : undefined);
  if (!prefix) {
    console.error("socklab install: no HOME; give --prefix DIR");
    Deno.exit(2);
  }
  try {
    const bin = await install(prefix);
    console.log(`socklab install: wrote ${bin}`);
    if (!onPath(`${prefix}/bin`)) {
      console.log(
        `socklab install: ${prefix}/bin is not on PATH; add it: export PATH="${prefix}/bin:$PATH"`,
      );
    }
  } catch (err) {
    console.error(`socklab install: ${(err as Error).message}`);
    Deno.exit(1);
  }
}
