/**
 * A throw-away `redis-server` for the demo: on a free 127.0.0.1 port, with no
 * persistence (`--save "" --appendonly no`) in its own temporary directory,
 * killed and removed on dispose. Undefined when redis-server is not installed.
 *
 * @example
 * ```ts ignore
 * import { startPrivateRedis } from "./private_server.ts";
 * await using redis = await startPrivateRedis();
 * if (redis) console.log(redis.url); // redis://127.0.0.1:PORT
 * ```
 * @module
 */
import { which } from "../cli/which.ts";

/** A running private redis-server. */
export interface PrivateRedis extends AsyncDisposable {
  /** `redis://127.0.0.1:PORT` */
  readonly url: string;
}

/** Starts redis-server when it is on PATH; resolves once it accepts connections. */
export async function startPrivateRedis(): Promise<PrivateRedis | undefined> {
  const program = which("redis-server");
  if (!program) return undefined;
  const dir = await Deno.makeTempDir({ prefix: "socklab-redis-" });
  for (let attempt = 1;; attempt++) {
    const port = freeTcpPort();
    try {
      const child = await spawnReady(program, port, dir);
      return {
        url: `redis://127.0.0.1:${port}`,
        async [Symbol.asyncDispose]() {
          child.kill("SIGKILL");
          await child.status;
          await Deno.remove(dir, { recursive: true }).catch(() => {});
        },
      };
    } catch (err) {
      // Another process may take the port between freeTcpPort() and the bind.
      if (attempt < 5 && /in use/i.test(String(err))) continue;
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      throw err;
    }
  }
}

function freeTcpPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

const ARGS = ["--save", "", "--appendonly", "no", "--daemonize", "no", "--logfile", ""];

/** Spawns redis-server and waits (10 s at most) for "Ready to accept connections". */
async function spawnReady(program: string, port: number, dir: string): Promise<Deno.ChildProcess> {
  const child = new Deno.Command(program, {
    args: ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, ...ARGS],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  let seen = "";
  const decoder = new TextDecoder();
  const reader = child.stdout.getReader();
  // A server that never gets ready is killed, which ends its output.
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  try {
    while (!seen.includes("Ready to accept connections")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`redis-server did not start: ${lastLine(seen)}`);
      seen += decoder.decode(value, { stream: true });
    }
  } catch (err) {
    child.kill("SIGKILL");
    await child.status;
    throw err;
  } finally {
    clearTimeout(timer);
  }
  // Keep draining its log so a full pipe never blocks it.
  (async () => {
    while (!(await reader.read().catch(() => ({ done: true }))).done);
  })();
  return child;
}

function lastLine(text: string): string {
  return text.trim().split("\n").pop() ?? "no output";
}
