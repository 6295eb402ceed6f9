/**
 * A private, real `redis-server` for tests: started on a free loopback port
 * with no persistence (`--save "" --appendonly no`) in its own temporary
 * directory, and failure cases on demand: kill it (SIGKILL), pause it
 * (SIGSTOP/SIGCONT: TCP stays up, nothing answers), restart it on the same
 * port, or `CLIENT KILL` the connections of one client by name. Always
 * cleaned up on dispose. No mock Redis: {@linkcode redisTest} is a
 * {@linkcode peerTest} on `redis-server` (ignored locally when it is missing,
 * failed under CI=true).
 *
 * @example
 * ```ts ignore
 * import { redisTest, RedisServer } from "./redis.ts";
 * redisTest("the binder shares its table", async () => {
 *   await using redis = await RedisServer.start();
 *   console.log(redis.url);                   // redis://127.0.0.1:PORT
 *   await redis.command("SET", "k", "v");     // "OK"
 *   await redis.pause();                      // SIGSTOP
 *   await redis.resume();                     // SIGCONT
 *   await redis.kill();                       // SIGKILL, then...
 *   await redis.restart();                    // ...the same port again
 * });
 * ```
 * @module
 */
import { type CliProcess, freePort, spawnProgram } from "./cli.ts";
import {
  connectRedis,
  parseRedisUrl,
  type RedisConnection,
  type RedisConnectOptions,
} from "../../lib/redis/connection.ts";
import { peerPath, peerTest } from "./peers.ts";

/** Defines a test that needs `redis-server` (see peerTest for missing peers). */
export function redisTest(
  name: string,
  fn: (t: Deno.TestContext) => Promise<void>,
  options: { sanitizeOps?: boolean; sanitizeResources?: boolean; peers?: string[] } = {},
): void {
  peerTest(name, ["redis-server", ...(options.peers ?? [])], fn, options);
}

/** A reply as {@linkcode RedisServer.command} returns it. */
export type RespValue = string | number | null | RespValue[] | RespError;

/** A Redis error reply (`-ERR ...`). */
export class RespError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RespError";
  }
}

/** One private redis-server process. */
export class RedisServer implements AsyncDisposable {
  readonly port: number;
  readonly dir: string;
  #proc?: CliProcess;

  private constructor(port: number, dir: string) {
    this.port = port;
    this.dir = dir;
  }

  /** Starts a redis-server on a free 127.0.0.1 port; resolves when it accepts connections. */
  static async start(): Promise<RedisServer> {
    const dir = await Deno.makeTempDir({ prefix: "socklab-redis-" });
    for (let attempt = 1;; attempt++) {
      const server = new RedisServer(freePort("tcp"), dir);
      try {
        await server.#spawn();
        return server;
      } catch (err) {
        // Another process took the port between freePort() and the bind.
        if (attempt >= 5 || !String(err).includes("in use")) {
          await Deno.remove(dir, { recursive: true }).catch(() => {});
          throw err;
        }
      }
    }
  }

  /** `redis://127.0.0.1:PORT` */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }
  /** Our own client's connection to this server, its lost/back lines not logged. */
  connect(options: RedisConnectOptions = {}): Promise<RedisConnection> {
    return connectRedis(parseRedisUrl(this.url), { log: () => {}, ...options });
  }

  /** The process id (while it runs). */
  get pid(): number | undefined {
    return this.#proc?.child.pid;
  }

  async #spawn(): Promise<void> {
    const proc = spawnProgram([
      peerPath("redis-server"),
      "--port",
      String(this.port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      this.dir,
      "--daemonize",
      "no",
      "--logfile",
      "",
      "--loglevel",
      "notice",
    ], { stdin: false });
    try {
      await Promise.race([
        proc.stdout.waitFor(/Ready to accept connections/, 10_000),
        proc.status().then(() => {
          throw new Error(`redis-server exited: ${proc.stdout.text}${proc.stderr.text}`);
        }),
      ]);
    } catch (err) {
      await proc[Symbol.asyncDispose]();
      const text = proc.stdout.text + proc.stderr.text;
      throw new Error(
        /in use/i.test(text) ? `port ${this.port} in use` : `redis-server did not start: ${err}`,
      );
    }
    this.#proc = proc;
  }

  /** SIGKILL: the server is gone at once, with everything it held. */
  async kill(): Promise<void> {
    const proc = this.#proc;
    if (!proc) return;
    this.#proc = undefined;
    proc.kill("SIGCONT"); // a paused process must run to die promptly
    proc.kill("SIGKILL");
    await proc[Symbol.asyncDispose]();
  }

  /** SIGSTOP: connections stay open, nothing is answered until {@linkcode resume}. */
  pause(): Promise<void> {
    this.#proc?.kill("SIGSTOP");
    return Promise.resolve();
  }

  /** SIGCONT after {@linkcode pause}. */
  resume(): Promise<void> {
    this.#proc?.kill("SIGCONT");
    return Promise.resolve();
  }

  /** Starts a fresh, empty server on the same port (after {@linkcode kill}). */
  async restart(): Promise<void> {
    await this.kill();
    // The port was ours a moment ago; a racing process is retried for a while.
    for (let attempt = 1;; attempt++) {
      try {
        return await this.#spawn();
      } catch (err) {
        if (attempt >= 20 || !String(err).includes("in use")) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /**
   * Kills (`CLIENT KILL ID`) every connection whose client name matches
   * `name`; returns how many were killed. The server itself stays up.
   */
  async clientKill(name: string | RegExp): Promise<number> {
    const list = await this.command("CLIENT", "LIST");
    if (typeof list !== "string") throw new Error(`CLIENT LIST answered ${list}`);
    let killed = 0;
    for (const line of list.split("\n")) {
      const id = /(?:^| )id=(\d+)/.exec(line)?.[1];
      const client = /(?:^| )name=(\S*)/.exec(line)?.[1] ?? "";
      const match = typeof name === "string" ? client === name : name.test(client);
      if (id && match) {
        const r = await this.command("CLIENT", "KILL", "ID", id);
        if (r === 1) killed++;
      }
    }
    return killed;
  }

  /** Client names of the current connections (the test's own excluded). */
  async clientNames(): Promise<string[]> {
    const list = await this.command("CLIENT", "LIST");
    if (typeof list !== "string") return [];
    return list.split("\n").map((l) => /(?:^| )name=(\S*)/.exec(l)?.[1] ?? "")
      .filter((n) => n !== "" && n !== "socklab-test");
  }

  /** Sends one command on a fresh connection and returns the reply (an error reply as RespError). */
  async command(...args: string[]): Promise<RespValue> {
    using conn = await Deno.connect({ hostname: "127.0.0.1", port: this.port });
    const request = ["CLIENT", "SETNAME", "socklab-test"];
    await writeAll(conn, encodeCommand(request) + encodeCommand(args));
    const reader = new RespReader(conn);
    await reader.read(); // SETNAME's OK
    return await reader.read();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.kill();
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }
}

function encodeCommand(args: readonly string[]): string {
  const enc = new TextEncoder();
  return `*${args.length}\r\n${args.map((a) => `$${enc.encode(a).length}\r\n${a}\r\n`).join("")}`;
}

async function writeAll(conn: Deno.Conn, text: string): Promise<void> {
  const data = new TextEncoder().encode(text);
  for (let off = 0; off < data.length;) off += await conn.write(data.subarray(off));
}

/** Just enough RESP2 to read the replies tests need. */
class RespReader {
  #buf = new Uint8Array(0);
  readonly #conn: Deno.Conn;
  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  async #fill(): Promise<void> {
    const chunk = new Uint8Array(65536);
    const n = await this.#conn.read(chunk);
    if (n === null) throw new Error("redis closed the connection");
    const next = new Uint8Array(this.#buf.length + n);
    next.set(this.#buf);
    next.set(chunk.subarray(0, n), this.#buf.length);
    this.#buf = next;
  }

  async #line(): Promise<string> {
    while (true) {
      const i = this.#buf.indexOf(10);
      if (i >= 0) {
        const line = new TextDecoder().decode(this.#buf.subarray(0, i - 1));
        this.#buf = this.#buf.subarray(i + 1);
        return line;
      }
      await this.#fill();
    }
  }

  async read(): Promise<RespValue> {
    const line = await this.#line();
    const rest = line.slice(1);
    switch (line[0]) {
      case "+":
        return rest;
      case "-":
        return new RespError(rest);
      case ":":
        return Number(rest);
      case "$": {
        const n = Number(rest);
        if (n < 0) return null;
        while (this.#buf.length < n + 2) await this.#fill();
        const text = new TextDecoder().decode(this.#buf.subarray(0, n));
        this.#buf = this.#buf.subarray(n + 2);
        return text;
      }
      case "*": {
        const n = Number(rest);
        if (n < 0) return null;
        const out: RespValue[] = [];
        for (let i = 0; i < n; i++) out.push(await this.read());
        return out;
      }
      default:
        throw new Error(`cannot read RESP line ${JSON.stringify(line)}`);
    }
  }
}
