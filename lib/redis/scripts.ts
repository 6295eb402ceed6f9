/**
 * Runs Lua scripts on Redis (the binder's table, the chat room's presence): by hash (`EVALSHA`), sending the
 * script itself once when Redis does not know it yet (a fresh or restarted
 * Redis answers `NOSCRIPT`), each call with a deadline so a Redis that stopped
 * answering costs a caller that long, never a hang.
 *
 * @example
 * ```ts ignore
 * const scripts = new RedisScripts(redis, "socklab:chat:{lab}:", 1000);
 * await scripts.run("return redis.call('HLEN', ARGV[1] .. 'members')", []);
 * ```
 * @module
 */
import { createHash } from "node:crypto";
import { type RedisConnection, redisReason } from "./connection.ts";

/** A script could not run: Redis is down, or did not answer in time. */
export class RedisUnreachableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "RedisUnreachableError";
  }
}

/** Scripts run with `ARGV[1]` = a key prefix, then the caller's arguments. */
export class RedisScripts {
  readonly #redis: RedisConnection;
  readonly #prefix: string;
  readonly #timeoutMs: number;
  readonly #sha = new Map<string, string>();

  constructor(redis: RedisConnection, prefix: string, timeoutMs: number) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.#timeoutMs = timeoutMs;
  }

  /** Runs `script` with ARGV = [prefix, ...args]; throws RedisUnreachableError when it cannot. */
  async run<T = unknown>(script: string, args: readonly string[]): Promise<T> {
    let sha = this.#sha.get(script);
    if (sha === undefined) {
      sha = createHash("sha1").update(script).digest("hex");
      this.#sha.set(script, sha);
    }
    const argv = ["0", this.#prefix, ...args];
    try {
      return await this.call(["EVALSHA", sha, ...argv]) as T;
    } catch (err) {
      if (!String((err as Error)?.message).startsWith("NOSCRIPT")) throw err;
      return await this.call(["EVAL", script, ...argv]) as T;
    }
  }

  /** One command with the deadline; NOSCRIPT passes through, other failures become RedisUnreachableError. */
  async call(args: string[]): Promise<unknown> {
    const redis = this.#redis;
    if (!redis.isUp) throw new RedisUnreachableError(`Redis ${redis.target.label} is down`);
    try {
      return await redis.client.sendCommand(args, redis.commandOptions(this.#timeoutMs));
    } catch (err) {
      if (String((err as Error)?.message).startsWith("NOSCRIPT")) throw err;
      const kind = `${(err as object)?.constructor?.name} ${(err as Error)?.message}`;
      const why = /timeout|timed out/i.test(kind)
        ? `no answer within ${this.#timeoutMs} ms`
        : redisReason(err);
      throw new RedisUnreachableError(`Redis ${redis.target.label}: ${why}`, { cause: err });
    }
  }
}
