/**
 * The binder's record table: (command, server IP, server port) with an expiry
 * time. Pure state with an injected clock and random source, so expiry and the
 * random choice among servers are unit-tested without sockets or waiting.
 *
 * @example
 * ```ts
 * import { BinderTable } from "./table.ts";
 * let now = 0;
 * const table = new BinderTable({ ttlMs: 30_000, clock: () => now });
 * table.register("127.0.0.1", 40001, ["MAX"]);
 * console.assert(table.lookup("MAX")?.port === 40001);
 * now = 30_000;
 * console.assert(table.lookup("MAX") === undefined);
 * console.assert(table.expire().length === 1);
 * ```
 * @module
 */
import { defaultPerSource, sourceKey, SourceQuota } from "../net/quota.ts";
import { formatLookupReply, type RecordView } from "./protocol.ts";

/** Most records the table holds (so LIST and memory stay bounded). */
export const DEFAULT_MAX_RECORDS = 4096;
/** Most commands one server address may register. */
export const DEFAULT_MAX_PER_SERVER = 64;
/**
 * Most records one source (an IPv4 address, an IPv6 /64) may hold: a quarter
 * of the table, so one host registering from many ports cannot fill it.
 */
export const DEFAULT_MAX_PER_SOURCE = defaultPerSource(DEFAULT_MAX_RECORDS);

const encoder = new TextEncoder();

/** One record: a command offered by the server at ip:port, alive until `expiresAt`. */
export interface BinderRecord {
  readonly command: string;
  readonly ip: string;
  readonly port: number;
  /** Clock time (ms) at which the record expires unless refreshed. */
  expiresAt: number;
  /** The LOOKUP reply naming this record, encoded once (`CMD IP PORT`). */
  readonly reply: Uint8Array;
}

/** Options of {@linkcode BinderTable}. */
export interface BinderTableOptions {
  /** Lifetime of a record after its last REGISTER, in ms. */
  ttlMs: number;
  /** Current time in ms (default `performance.now`). */
  clock?: () => number;
  /** A number in [0, 1) (default `Math.random`): picks among servers. */
  random?: () => number;
  /** Default {@linkcode DEFAULT_MAX_RECORDS}. */
  maxRecords?: number;
  /** Default {@linkcode DEFAULT_MAX_PER_SERVER}. */
  maxPerServer?: number;
  /** Default {@linkcode DEFAULT_MAX_PER_SOURCE}. */
  maxPerSource?: number;
}

/** What a REGISTER did: the records it created and how many it only refreshed. */
export interface RegisterResult {
  added: BinderRecord[];
  refreshed: number;
}

/** A REGISTER that would break a limit; nothing of it was recorded. */
export class TableLimitError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = "TableLimitError";
  }
}

function serverKey(ip: string, port: number): string {
  return `${ip} ${port}`;
}

/** `too many records from 10.0.0.7 (at most 1024 per source)` */
export function sourceLimitMessage(ip: string, max: number): string {
  return `too many records from ${sourceKey(ip)} (at most ${max} per source)`;
}

/** Orders records by command, then IP, then port (how the table is printed). */
export function compareRecords(a: BinderRecord, b: BinderRecord): number {
  if (a.command !== b.command) return a.command < b.command ? -1 : 1;
  if (a.ip !== b.ip) return a.ip < b.ip ? -1 : 1;
  return a.port - b.port;
}

/** The binder's records, indexed by command (for LOOKUP) and by server (for UNREGISTER). */
export class BinderTable {
  readonly ttlMs: number;
  readonly maxRecords: number;
  readonly maxPerServer: number;
  readonly maxPerSource: number;
  readonly #quota: SourceQuota;
  readonly #clock: () => number;
  readonly #random: () => number;
  readonly #byCommand = new Map<string, BinderRecord[]>();
  readonly #byServer = new Map<string, BinderRecord[]>();
  #size = 0;

  constructor(options: BinderTableOptions) {
    if (!(options.ttlMs > 0)) throw new RangeError(`ttlMs must be positive, got ${options.ttlMs}`);
    this.ttlMs = options.ttlMs;
    this.#clock = options.clock ?? (() => performance.now());
    this.#random = options.random ?? Math.random;
    this.maxRecords = options.maxRecords ?? DEFAULT_MAX_RECORDS;
    this.maxPerServer = options.maxPerServer ?? DEFAULT_MAX_PER_SERVER;
    this.maxPerSource = options.maxPerSource ?? DEFAULT_MAX_PER_SOURCE;
    this.#quota = new SourceQuota({ perSource: this.maxPerSource });
  }

  /** Records held, expired ones not yet removed by {@linkcode expire} included. */
  get size(): number {
    return this.#size;
  }

  /** The current time of the injected clock. */
  now(): number {
    return this.#clock();
  }

  /**
   * Records each command for ip:port, or refreshes its expiry when it is
   * already there. All or nothing: a limit broken throws TableLimitError.
   */
  register(ip: string, port: number, commands: readonly string[]): RegisterResult {
    const key = serverKey(ip, port);
    const own = this.#byServer.get(key) ?? [];
    const fresh = commands.filter((c) => !own.some((r) => r.command === c));
    if (own.length + fresh.length > this.maxPerServer) {
      throw new TableLimitError(
        `too many commands for one server (at most ${this.maxPerServer})`,
      );
    }
    if (this.#quota.held(ip) + fresh.length > this.maxPerSource) {
      throw new TableLimitError(sourceLimitMessage(ip, this.maxPerSource));
    }
    if (this.#size + fresh.length > this.maxRecords) {
      throw new TableLimitError(`binder table full (at most ${this.maxRecords} records)`);
    }
    for (let i = 0; i < fresh.length; i++) this.#quota.tryTake(ip);
    const now = this.#clock();
    const expiresAt = now + this.ttlMs;
    let refreshed = 0;
    const revived: BinderRecord[] = [];
    for (const r of own) {
      if (commands.includes(r.command)) {
        // A record whose time was up but that expire() has not yet removed comes
        // back to life: to anyone watching the table, that is a new record.
        if (r.expiresAt <= now) revived.push(r);
        else refreshed++;
        r.expiresAt = expiresAt;
      }
    }
    const created: BinderRecord[] = fresh.map((command) => ({
      command,
      ip,
      port,
      expiresAt,
      reply: encoder.encode(formatLookupReply(command, ip, port)),
    }));
    for (const r of created) {
      own.push(r);
      const list = this.#byCommand.get(r.command);
      if (list) list.push(r);
      else this.#byCommand.set(r.command, [r]);
    }
    if (own.length > 0) this.#byServer.set(key, own);
    this.#size += created.length;
    return { added: [...revived, ...created].sort(compareRecords), refreshed };
  }

  /** Removes every record of ip:port (and only those); returns them. */
  unregister(ip: string, port: number): BinderRecord[] {
    const key = serverKey(ip, port);
    const own = this.#byServer.get(key);
    if (!own) return [];
    this.#byServer.delete(key);
    for (const r of own) this.#remove(r);
    return own;
  }

  /** A live record for `command`, chosen at random among the servers offering it. */
  lookup(command: string): BinderRecord | undefined {
    const list = this.#byCommand.get(command);
    if (!list) return undefined;
    const now = this.#clock();
    let alive = 0;
    for (let i = 0; i < list.length; i++) if (list[i].expiresAt > now) alive++;
    if (alive === 0) return undefined;
    let k = Math.min(alive - 1, Math.floor(this.#random() * alive));
    for (let i = 0; i < list.length; i++) {
      if (list[i].expiresAt > now && k-- === 0) return list[i];
    }
    return undefined;
  }

  /** Every live record for `command`, in registration order. */
  matching(command: string): BinderRecord[] {
    const now = this.#clock();
    return (this.#byCommand.get(command) ?? []).filter((r) => r.expiresAt > now);
  }

  /** Every live record (optionally only `command`'s), sorted by command, IP, port. */
  records(command?: string): BinderRecord[] {
    if (command !== undefined) return this.matching(command).sort(compareRecords);
    const now = this.#clock();
    const all: BinderRecord[] = [];
    for (const list of this.#byCommand.values()) {
      for (const r of list) if (r.expiresAt > now) all.push(r);
    }
    return all.sort(compareRecords);
  }

  /** Removes the records whose time is up; returns them. */
  expire(): BinderRecord[] {
    const now = this.#clock();
    const gone: BinderRecord[] = [];
    for (const [key, own] of this.#byServer) {
      const keep = own.filter((r) => r.expiresAt > now);
      if (keep.length === own.length) continue;
      for (const r of own) {
        if (r.expiresAt <= now) {
          gone.push(r);
          this.#remove(r);
        }
      }
      if (keep.length === 0) this.#byServer.delete(key);
      else this.#byServer.set(key, keep);
    }
    return gone.sort(compareRecords);
  }

  /** The earliest expiry time among the records, or `undefined` when empty. */
  nextExpiry(): number | undefined {
    let next: number | undefined;
    for (const own of this.#byServer.values()) {
      for (const r of own) if (next === undefined || r.expiresAt < next) next = r.expiresAt;
    }
    return next;
  }

  /** Live records (optionally only `command`'s) as LIST and the printed table show them. */
  view(command?: string): RecordView[] {
    return this.records(command).map((r) => ({
      command: r.command,
      ip: r.ip,
      port: r.port,
      secondsLeft: this.secondsLeft(r),
    }));
  }

  /** Whole seconds `r` has left (0 once expired). */
  secondsLeft(r: BinderRecord): number {
    return Math.max(0, Math.ceil((r.expiresAt - this.#clock()) / 1000));
  }

  /** Records (live or not) held by `ip`'s source. */
  heldBy(ip: string): number {
    return this.#quota.held(ip);
  }

  /** Drops `r` from the command index, the size and its source's quota (not from #byServer). */
  #remove(r: BinderRecord): void {
    this.#size--;
    this.#quota.release(r.ip);
    const list = this.#byCommand.get(r.command);
    if (!list) return;
    const i = list.indexOf(r);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.#byCommand.delete(r.command);
  }
}

/** Rows the binder prints per change; a class-sized table fits, a flood does not. */
export const MAX_PRINTED_ROWS = 64;

/**
 * The table as the binder prints it: a header row and one row per record
 * (`  (empty)` when there is none), columns aligned, at most `maxRows` rows
 * and then `  ... and N more (LIST shows every record)`, so a flood of
 * registrations cannot turn every change into thousands of lines.
 */
export function formatTable(
  records: readonly RecordView[],
  maxRows = MAX_PRINTED_ROWS,
): string[] {
  if (records.length === 0) return ["  (empty)"];
  const shown = records.length > maxRows ? records.slice(0, maxRows) : records;
  const rows = [
    ["COMMAND", "IP", "PORT", "EXPIRES"],
    ...shown.map((r) => [r.command, r.ip, String(r.port), `in ${r.secondsLeft ?? 0} s`]),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  const lines = rows.map((row) =>
    `  ${row.map((cell, i) => i === row.length - 1 ? cell : cell.padEnd(widths[i])).join("  ")}`
  );
  if (shown.length < records.length) {
    lines.push(`  ... and ${records.length - shown.length} more (LIST shows every record)`);
  }
  return lines;
}
