/**
 * A private network namespace with its own /etc/hosts and /etc/resolv.conf
 * (`ip netns exec` bind-mounts /etc/netns/NAME/* over /etc/*), so resolver
 * tests control every answer: names come from the test's hosts file or from
 * a dnsmasq on the namespace's own 127.0.0.1:53, and an unknown name can
 * never reach the machine's real resolver. Needs root and `ip`.
 * @module
 */
import { Dnsmasq, run } from "./dnsmasq.ts";

let counter = 0;

/** A namespace made by {@linkcode openNetns}. */
export interface Netns extends AsyncDisposable {
  name: string;
  /** Runs `cmd args` inside the namespace. */
  run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  /** The argv prefix that runs a command inside the namespace. */
  prefix: string[];
}

/** Creates a namespace with loopback up, the given hosts file and a resolv.conf naming 127.0.0.1. */
export async function openNetns(hosts: string): Promise<Netns> {
  const name = `socklab-lookup-${Deno.pid}-${++counter}`;
  const etc = `/etc/netns/${name}`;
  const add = await run("ip", ["netns", "add", name]);
  if (add.code !== 0) throw new Error(`ip netns add failed: ${add.stderr}`);
  const prefix = ["ip", "netns", "exec", name];
  try {
    Deno.mkdirSync(etc, { recursive: true });
    Deno.writeTextFileSync(`${etc}/hosts`, hosts);
    Deno.writeTextFileSync(
      `${etc}/resolv.conf`,
      "nameserver 127.0.0.1\noptions timeout:2 attempts:1\n",
    );
    const up = await run("ip", [...prefix.slice(1), "ip", "link", "set", "lo", "up"]);
    if (up.code !== 0) throw new Error(`cannot bring lo up: ${up.stderr}`);
  } catch (err) {
    await run("ip", ["netns", "del", name]);
    Deno.removeSync(etc, { recursive: true });
    throw err;
  }
  return {
    name,
    prefix,
    run: (cmd, args) => run(prefix[0], [...prefix.slice(1), cmd, ...args]),
    async [Symbol.asyncDispose]() {
      await run("ip", ["netns", "del", name]);
      try {
        Deno.removeSync(etc, { recursive: true });
      } catch {
        // already gone
      }
    },
  };
}

/** Starts dnsmasq on the namespace's 127.0.0.1:53 (the namespace's system resolver). */
export async function namespaceDns(ns: Netns, options: string[]): Promise<Dnsmasq> {
  const server = new Dnsmasq(53, options, ns.prefix);
  try {
    await server.ready();
  } catch (err) {
    await server[Symbol.asyncDispose]();
    throw err;
  }
  return server;
}
