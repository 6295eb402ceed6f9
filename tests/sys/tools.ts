/**
 * Helpers for the machine-tool tests: one private network namespace that is
 * always deleted, running commands (inside it or not) to completion, the
 * socket fixture process, and reading `ss -tuanp` into comparable keys.
 * @module
 */
import { fileURLToPath } from "node:url";
import { MAIN } from "../helpers/cli.ts";
import { peerTest } from "../helpers/peers.ts";

/** The fixture script that opens the known sockets. */
export const FIXTURE = fileURLToPath(new URL("./socket_fixture.ts", import.meta.url));

/** What a finished command printed. */
export interface Output {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `argv` to completion (killed after `timeoutMs`). */
export async function run(
  argv: string[],
  options: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<Output> {
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1", ...options.env },
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // exited
    }
  }, options.timeoutMs ?? 30_000);
  try {
    const out = await child.output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `argv` and throws unless it exits 0; returns stdout. */
export async function must(argv: string[]): Promise<string> {
  const out = await run(argv);
  if (out.code !== 0) {
    throw new Error(`${argv.join(" ")} failed (${out.code}): ${out.stderr.trim()}`);
  }
  return out.stdout;
}

/** The argv that runs socklab with `args`. */
export function socklab(...args: string[]): string[] {
  return [Deno.execPath(), "run", "-A", "--quiet", MAIN, ...args];
}

let counter = 0;

/** A fresh network namespace with `lo` up; dispose to delete it. */
export interface Netns extends AsyncDisposable {
  name: string;
  /** `argv` run inside the namespace. */
  exec(argv: string[]): string[];
}

/** Creates namespace `sl5-TAG-PID-N` (unique per process and call). */
export async function createNetns(tag: string): Promise<Netns> {
  const name = `sl5-${tag}-${Deno.pid}-${++counter}`;
  await must(["ip", "netns", "add", name]);
  const remove = async () => {
    await run(["ip", "netns", "del", name]);
  };
  try {
    await must(["ip", "-n", name, "link", "set", "lo", "up"]);
  } catch (err) {
    await remove();
    throw err;
  }
  return {
    name,
    exec: (argv) => ["ip", "netns", "exec", name, ...argv],
    [Symbol.asyncDispose]: remove,
  };
}

/**
 * A {@linkcode peerTest} needing `ip` and `peers` whose `fn` runs with a
 * fresh namespace `TAG` ({@linkcode createNetns}), deleted afterwards;
 * `options` as peerTest's.
 */
export function netnsTest(
  name: string,
  peers: readonly string[],
  tag: string,
  fn: (ns: Netns) => Promise<void>,
  options?: Parameters<typeof peerTest>[3],
): void {
  peerTest(name, peers.includes("ip") ? peers : ["ip", ...peers], async () => {
    await using ns = await createNetns(tag);
    await fn(ns);
  }, options);
}

/** The fixture's description line. */
export interface FixturePorts {
  pid: number;
  /** The Unix socket paths (with `--unix DIR`). */
  unix: string[];
  tcp: number[];
  udp: number[];
}

/** The running fixture; dispose to close its stdin (it then exits). */
export interface Fixture extends AsyncDisposable {
  ports: FixturePorts;
}

/** Starts the socket fixture (via `wrap`, e.g. `ip netns exec NS`) and waits for its line. */
export async function startFixture(wrap: string[] = [], extra: string[] = []): Promise<Fixture> {
  const argv = [...wrap, Deno.execPath(), "run", "-A", "--quiet", FIXTURE, ...extra];
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) {
      await child.status;
      throw new Error(`socket fixture exited early: ${text}`);
    }
    text += value;
  }
  const ports = JSON.parse(text.split("\n")[0]) as FixturePorts;
  return {
    ports,
    async [Symbol.asyncDispose]() {
      await child.stdin.close().catch(() => {});
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await child.status;
      clearTimeout(timer);
      await reader.cancel().catch(() => {});
    },
  };
}

/** A socket as both tools can name it: `proto|local|remote|state`, and its owners. */
export type SocketKeys = Map<string, number[]>;

const SS_STATES: Record<string, string> = {
  ESTABLISHED: "ESTAB",
  SYN_SENT: "SYN-SENT",
  SYN_RECV: "SYN-RECV",
  FIN_WAIT1: "FIN-WAIT-1",
  FIN_WAIT2: "FIN-WAIT-2",
  TIME_WAIT: "TIME-WAIT",
  CLOSE: "UNCONN",
  CLOSE_WAIT: "CLOSE-WAIT",
  LAST_ACK: "LAST-ACK",
  LISTEN: "LISTEN",
  CLOSING: "CLOSING",
};

function ssEndpoint(text: string): string {
  const colon = text.lastIndexOf(":");
  let host = text.slice(0, colon).replace(/^\[|\]$/g, "").replace(/%[^%\]]*$/, "");
  host = host.replace(/^\[|\]$/g, "");
  if (host === "*") host = "::"; // ss prints a dual-stack :: as *
  const port = text.slice(colon + 1);
  return `${host}:${port === "*" ? 0 : Number(port)}`;
}

/** `ss -tuanp` output as keys → sorted owner pids. */
export function parseSs(text: string): SocketKeys {
  const out: SocketKeys = new Map();
  for (const line of text.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 6) continue;
    const [proto, state, , , local, peer] = f;
    const pids = [...line.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1])).sort((a, b) => a - b);
    out.set(`${proto}|${ssEndpoint(local)}|${ssEndpoint(peer)}|${state}`, pids);
  }
  return out;
}

interface JsonSocket {
  proto: string;
  local: { address: string; port: number };
  remote: { address: string; port: number };
  state: string | null;
  processes?: { pid: number }[];
}

/** `socklab netstat --json` output as the same keys. */
export function parseNetstatJson(text: string): SocketKeys {
  const doc = JSON.parse(text) as { sockets: JsonSocket[] };
  const out: SocketKeys = new Map();
  for (const s of doc.sockets) {
    const state = s.state === null ? "UNCONN" : SS_STATES[s.state] ?? s.state;
    const pids = (s.processes ?? []).map((p) => p.pid).sort((a, b) => a - b);
    out.set(
      `${s.proto}|${s.local.address}:${s.local.port}|${s.remote.address}:${s.remote.port}|${state}`,
      pids,
    );
  }
  return out;
}

/** Only the sockets with a local or remote port in `ports`. */
export function onPorts(keys: SocketKeys, ports: readonly number[]): SocketKeys {
  const wanted = new Set(ports);
  return new Map(
    [...keys].filter(([k]) => {
      const [, local, remote] = k.split("|");
      const port = (ep: string) => Number(ep.slice(ep.lastIndexOf(":") + 1));
      return wanted.has(port(local)) || wanted.has(port(remote));
    }),
  );
}

/** Sorted `key pids` lines, for readable equality failures. */
export function lines(keys: SocketKeys): string[] {
  return [...keys].map(([k, pids]) => `${k} ${pids.join(",") || "-"}`).sort();
}

/**
 * Runs `ss FLAGS [FILTER]` and `socklab netstat FLAGS --json [FILTER]` at the
 * same moment (each argv through `wrap`, e.g. a namespace's `exec`) and returns
 * both socket sets as sorted {@linkcode lines}: `want` from ss, `got` from ours,
 * only the sockets on `ports` when given.
 */
export async function ssAndOurs(
  flags: string,
  { filter, ports, wrap = (argv) => argv }: {
    filter?: string;
    ports?: readonly number[];
    wrap?: (argv: string[]) => string[];
  } = {},
): Promise<{ want: string[]; got: string[] }> {
  const rest = filter === undefined ? [] : [filter];
  const [ss, ours] = await Promise.all([
    must(wrap(["ss", flags, ...rest])),
    must(wrap(socklab("netstat", flags, "--json", ...rest))),
  ]);
  const only = (keys: SocketKeys) => ports ? onPorts(keys, ports) : keys;
  return { want: lines(only(parseSs(ss))), got: lines(only(parseNetstatJson(ours))) };
}

/** Waits (polling, bounded) until `ok()` holds; throws with `what` after `timeoutMs`. */
export async function until(
  ok: () => Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await ok())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
