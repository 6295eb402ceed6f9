/**
 * The environment a Deno process needs to download from the npm registry on
 * lab machines: the registry's certificate chains to a CA that only the
 * system store holds, so Deno's own (Mozilla) store alone rejects it with
 * "invalid peer certificate: UnknownIssuer". deno.json's tasks set the same
 * variable; scripts and tests that start a Deno which may fetch (`deno
 * bundle`'s esbuild, `npm:` imports) add this to its environment.
 *
 * ```ts ignore
 * import { FETCH_ENV } from "./fetch_env.ts";
 * await new Deno.Command(Deno.execPath(), { args: ["bundle", "..."], env: FETCH_ENV }).output();
 * ```
 * @module
 */

/** Environment variables for a Deno child process that may download from npm. */
export const FETCH_ENV: Readonly<Record<string, string>> = {
  DENO_TLS_CA_STORE: "mozilla,system",
};
