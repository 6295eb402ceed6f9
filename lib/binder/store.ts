/**
 * Where the binder keeps its table: behind one small interface, so the same
 * binder serves from memory (one process) or from Redis (many binder
 * instances sharing one table, `binder --redis URL`). Methods may answer at
 * once (memory: a LOOKUP stays a plain function call on the hot path) or with
 * a promise (Redis); {@linkcode then} handles both.
 *
 * @example
 * ```ts
 * import { MemoryStore } from "./store.ts";
 * const store = new MemoryStore({ ttlMs: 30_000 });
 * store.register("127.0.0.1", 40001, ["MAX"]);
 * const hit = store.lookup("MAX");
 * console.assert(hit instanceof Promise === false && hit?.port === 40001);
 * ```
 * @module
 */
import { type BinderRecord, BinderTable, type BinderTableOptions } from "./table.ts";

/** A value now, or later. */
export type Maybe<T> = T | Promise<T>;

/** Applies `f` to `value` at once when it is there, else when the promise settles. */
export function then<T, R>(value: Maybe<T>, f: (v: T) => Maybe<R>): Maybe<R> {
  return value instanceof Promise ? value.then(f) : f(value);
}

/** A live record as a store hands it out. */
export interface StoredRecord {
  readonly command: string;
  readonly ip: string;
  readonly port: number;
  /** ms until it expires unless refreshed (0 once expired). */
  readonly expiresInMs: number;
}

/** The answer to LOOKUP: one server, its reply, and (when the store had them at hand) all matches. */
export interface LookupHit {
  readonly command: string;
  readonly ip: string;
  readonly port: number;
  /** `CMD IP PORT`. */
  readonly reply: Uint8Array | string;
  /** Every live record for the command, when fetched along (Redis). */
  readonly matching?: StoredRecord[];
}

/** What a REGISTER did: records created (or revived after expiry) and how many only refreshed. */
export interface RegisterOutcome {
  added: StoredRecord[];
  refreshed: number;
}

/** What an expiry sweep removed, and when the next record is due (ms from now). */
export interface ExpiryOutcome {
  gone: StoredRecord[];
  nextInMs?: number;
}

/**
 * The binder's table. A REGISTER that breaks a limit throws (or rejects with)
 * TableLimitError and records nothing; any other failure (Redis unreachable)
 * is an Error the binder turns into an `ERR` reply.
 */
export interface BinderStore {
  /** `memory` or `redis`. */
  readonly kind: string;
  /** What the table is shared through (`Redis redis://HOST:PORT`), when it is. */
  readonly shared?: string;
  /** Lifetime of a record after its last REGISTER, in ms. */
  readonly ttlMs: number;
  register(ip: string, port: number, commands: readonly string[]): Maybe<RegisterOutcome>;
  /** Removes every record of ip:port (only those); returns them. */
  unregister(ip: string, port: number): Maybe<StoredRecord[]>;
  /** A live record for `command`, at random among the servers offering it. */
  lookup(command: string): Maybe<LookupHit | undefined>;
  /** Every live record for `command`. */
  matching(command: string): Maybe<StoredRecord[]>;
  /** Every live record (or `command`'s), sorted by command, IP, port. */
  records(command?: string): Maybe<StoredRecord[]>;
  /** Removes the records whose time is up. */
  expire(): Maybe<ExpiryOutcome>;
  /**
   * Claims a REGISTER signature for `ttlMs`: true the first time, false for a
   * replay (shared by every binder on the same store).
   */
  claimSignature(sig: string, ttlMs: number): Maybe<boolean>;
  close(): Promise<void>;
}

/** Orders stored records by command, then IP, then port (how the table is printed). */
export function byCommand(a: StoredRecord, b: StoredRecord): number {
  if (a.command !== b.command) return a.command < b.command ? -1 : 1;
  if (a.ip !== b.ip) return a.ip < b.ip ? -1 : 1;
  return a.port - b.port;
}

/** Signatures remembered at most (each only for its ttl): past this the oldest go first. */
export const MAX_SIGNATURES = 100_000;

/** The table in this process's memory ({@linkcode BinderTable}), answering synchronously. */
export class MemoryStore implements BinderStore {
  readonly kind = "memory";
  readonly table: BinderTable;
  readonly #signatures = new Map<string, number>();

  constructor(options: BinderTableOptions) {
    this.table = new BinderTable(options);
  }

  get ttlMs(): number {
    return this.table.ttlMs;
  }

  register(ip: string, port: number, commands: readonly string[]): RegisterOutcome {
    const result = this.table.register(ip, port, commands);
    return { added: result.added.map((r) => this.#stored(r)), refreshed: result.refreshed };
  }

  unregister(ip: string, port: number): StoredRecord[] {
    return this.table.unregister(ip, port).map((r) => this.#stored(r));
  }

  lookup(command: string): BinderRecord | undefined {
    return this.table.lookup(command);
  }

  matching(command: string): StoredRecord[] {
    return this.table.matching(command).map((r) => this.#stored(r));
  }

  records(command?: string): StoredRecord[] {
    return this.table.records(command).map((r) => this.#stored(r));
  }

  expire(): ExpiryOutcome {
    const gone = this.table.expire().map((r) => this.#stored(r));
    const next = this.table.nextExpiry();
    return { gone, nextInMs: next === undefined ? undefined : next - this.table.now() };
  }

  claimSignature(sig: string, ttlMs: number): boolean {
    const now = this.table.now();
    if ((this.#signatures.get(sig) ?? -Infinity) > now) return false;
    // Map order is insertion order and every entry lives equally long: the
    // expired ones are at the front (and the oldest go when it is full).
    for (const [old, until] of this.#signatures) {
      if (until > now && this.#signatures.size < MAX_SIGNATURES) break;
      this.#signatures.delete(old);
    }
    this.#signatures.set(sig, now + ttlMs);
    return true;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  #stored(r: BinderRecord): StoredRecord {
    return {
      command: r.command,
      ip: r.ip,
      port: r.port,
      expiresInMs: Math.max(0, r.expiresAt - this.table.now()),
    };
  }
}
