/**
 * Real peers for interoperability tests: Debian programs (nc, socat, dig, ...)
 * and the lecture's C programs. A test whose peer is missing is ignored on a
 * user's machine, but under `CI=true` it runs and fails: CI never passes by
 * skipping.
 *
 * @example
 * ```ts ignore
 * import { peerTest } from "./peers.ts";
 * peerTest("nc talks to our server", ["nc.openbsd"], async () => {});
 * ```
 * @module
 */
import { existsSync } from "node:fs";
import { fileURLToPath as fromFileUrl } from "node:url";
import { ROOT } from "./cli.ts";
import { which } from "../../lib/cli/which.ts";

export { which };

const IN_CI = Deno.env.get("CI") === "true";

/** The shared folder beside the repository (SOCKLAB_SHARED overrides). */
export const SHARED = Deno.env.get("SOCKLAB_SHARED") ??
  fromFileUrl(new URL("../../../shared", import.meta.url));

/** Where the lecture's C programs are built. */
export const LECTURE_BIN = `${ROOT}.cache/lecture-c`;

/** The path of a lecture C program, built on first use (needs cc and make). */
export function lectureProgram(name: string): string | undefined {
  const path = `${LECTURE_BIN}/${name}`;
  if (existsSync(path)) return path;
  if (!which("make") || !(which("cc") || which("gcc")) || !existsSync(`${SHARED}/lecture-c`)) {
    return undefined;
  }
  const out = new Deno.Command("make", {
    args: ["-s", "-C", `${SHARED}/lecture-c`, `OUT=${LECTURE_BIN}`],
    stdout: "null",
    stderr: "piped",
  }).outputSync();
  return out.success && existsSync(path) ? path : undefined;
}

/** What a peer name means: `lecture:NAME` is a C program, anything else a command. */
function findPeer(peer: string): string | undefined {
  return peer.startsWith("lecture:") ? lectureProgram(peer.slice(8)) : which(peer);
}

/** The missing peers among `peers`. */
export function missingPeers(peers: readonly string[]): string[] {
  return peers.filter((p) => !findPeer(p));
}

/** The path of a peer, or an error naming it (call inside a peerTest). */
export function peerPath(peer: string): string {
  const path = findPeer(peer);
  if (!path) throw new Error(`peer "${peer}" is not installed`);
  return path;
}

/** True when the tests run as root (needed for network namespaces). */
export function isRoot(): boolean {
  return Deno.uid?.() === 0;
}

/**
 * Defines a test that needs real peers. Missing peers: ignored locally, failed
 * under CI=true (so CI never passes by skipping).
 */
export function peerTest(
  name: string,
  peers: readonly string[],
  fn: (t: Deno.TestContext) => Promise<void>,
  options: { root?: boolean; sanitizeOps?: boolean; sanitizeResources?: boolean } = {},
): void {
  const missing = missingPeers(peers);
  if (options.root && !isRoot()) missing.push("root");
  Deno.test({
    name,
    ignore: missing.length > 0 && !IN_CI,
    sanitizeOps: options.sanitizeOps,
    sanitizeResources: options.sanitizeResources,
    async fn(t) {
      if (missing.length > 0) {
        throw new Error(`missing peer(s): ${missing.join(", ")} (CI installs them; see .ci/run)`);
      }
      await fn(t);
    },
  });
}
