/**
 * Two network namespaces joined by a veth pair, created by a test and always
 * removed: a private link between a "client" and a "server" side whose traffic
 * never leaves the two namespaces. Addresses are 10.200.0.1/30 (client) and
 * 10.200.0.2/30 (server), valid only inside them. Needs root (`ip`, `nft`);
 * use it inside `peerTest(..., ["ip", "nft"], fn, { root: true })`.
 *
 * @example
 * ```ts ignore
 * import { createNetnsPair } from "./netns.ts";
 * await using link = await createNetnsPair("loss");
 * await link.nft("server", "table inet t { ... }");
 * const argv = link.exec("server", ["deno", "run", "-A", "main.ts", "rates-server"]);
 * ```
 * @module
 */

/** One side of the link. */
export interface NetnsSide {
  /** Namespace name (for `ip netns exec`). */
  ns: string;
  /** The veth interface inside it. */
  dev: string;
  /** Its IPv4 address on the link. */
  ip: string;
}

/** A veth link between two fresh namespaces; dispose to delete both. */
export interface NetnsPair extends AsyncDisposable {
  client: NetnsSide;
  server: NetnsSide;
  /** `argv` run inside a side's namespace. */
  exec(side: "client" | "server", argv: string[]): string[];
  /** Loads an nftables ruleset (`nft -f -`) inside a side's namespace. */
  nft(side: "client" | "server", ruleset: string): Promise<void>;
  /** `nft` output (e.g. `list ruleset`) inside a side's namespace. */
  nftList(side: "client" | "server", ...args: string[]): Promise<string>;
}

let counter = 0;

async function run(argv: string[], stdin?: string): Promise<string> {
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
  }
  const out = await child.output();
  if (!out.success) {
    throw new Error(`${argv.join(" ")} failed: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
  return new TextDecoder().decode(out.stdout);
}

/**
 * Creates the namespaces `sl-TAG-PID-N-c` / `-s` and the veth pair between
 * them (names unique per process and call, so parallel tests never collide).
 */
export async function createNetnsPair(tag: string): Promise<NetnsPair> {
  const id = `${Deno.pid}-${++counter}`;
  const short = `${(Deno.pid % 100000).toString(36)}${counter.toString(36)}`;
  const client: NetnsSide = { ns: `sl-${tag}-${id}-c`, dev: `slv${short}c`, ip: "10.200.0.1" };
  const server: NetnsSide = { ns: `sl-${tag}-${id}-s`, dev: `slv${short}s`, ip: "10.200.0.2" };
  const created: string[] = [];
  const remove = async () => {
    for (const ns of created.reverse()) {
      await run(["ip", "netns", "del", ns]).catch(() => {});
    }
  };
  try {
    for (const side of [client, server]) {
      await run(["ip", "netns", "add", side.ns]);
      created.push(side.ns);
    }
    await run([
      "ip",
      "link",
      "add",
      client.dev,
      "netns",
      client.ns,
      "type",
      "veth",
      "peer",
      "name",
      server.dev,
      "netns",
      server.ns,
    ]);
    for (const side of [client, server]) {
      await run(["ip", "-n", side.ns, "addr", "add", `${side.ip}/30`, "dev", side.dev]);
      await run(["ip", "-n", side.ns, "link", "set", side.dev, "up"]);
      await run(["ip", "-n", side.ns, "link", "set", "lo", "up"]);
    }
  } catch (err) {
    await remove();
    throw err;
  }
  const sideOf = (s: "client" | "server") => (s === "client" ? client : server);
  return {
    client,
    server,
    exec: (side, argv) => ["ip", "netns", "exec", sideOf(side).ns, ...argv],
    nft: async (side, ruleset) => {
      await run(["ip", "netns", "exec", sideOf(side).ns, "nft", "-f", "-"], ruleset);
    },
    nftList: (side, ...args) => run(["ip", "netns", "exec", sideOf(side).ns, "nft", ...args]),
    [Symbol.asyncDispose]: remove,
  };
}

/** Names of the namespaces that exist now (to prove a test removed its own). */
export async function listNetns(): Promise<string[]> {
  const out = await run(["ip", "netns", "list"]);
  return out.split("\n").map((l) => l.split(" ")[0]).filter(Boolean);
}
