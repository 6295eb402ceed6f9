/**
 * The fuzz run's "amplification" check (issue 17): once the hostile batches
 * and the entry's well-behaved `fill` requests have grown a UDP server's
 * tables (a registry of 200 names, a binder of 128 records), requests that
 * could be answered with a long listing (its own words, listing words, an SNTP packet, and a sample of
 * hostile datagrams up to 1,200 bytes) are each sent from a fresh socket that
 * never completed a round trip with the server. Any socket that gets more
 * than max(3x its request, 512) bytes in answer is a violation.
 *
 * Every reply is counted, not sampled: after each round a well-behaved probe
 * proves the server has answered everything sent before it (it answers in
 * order), then each socket sends itself a marker and reads until it, so
 * whatever the server sent is already in its queue and read.
 * @module
 */
import { replyBudget } from "../../lib/net/amplification.ts";
import { UdpSocket } from "../../lib/net/udp.ts";
import { hostileMessage, type Rng } from "./fuzz.ts";
import type { Prober, ProbeTarget } from "./probes.ts";

/** Words that ask for listings on some service. */
const LISTING_WORDS = ["who", "LIST", "list", "help", "HELP", "users", "WHO"];
/** Hostile datagrams sampled per check. */
const HOSTILE_SAMPLE = 96;
/** Largest hostile datagram sampled: a bigger one has a budget no listing reaches. */
const HOSTILE_MAX_BYTES = 1200;
/** Fresh sockets at once. */
const ROUND = 32;
/** Guard against a lost marker: the read gives up after this (it never should). */
const MARKER_GUARD_MS = 5000;

/** One exchange that broke the limit. */
export interface Amplification {
  request: string;
  bytesIn: number;
  bytesOut: number;
  datagrams: number;
  budget: number;
}

/** What the check found. */
export interface AmplificationResult {
  /** Requests sent, each from its own fresh socket. */
  requests: number;
  /** The exchange with the highest bytes-out / bytes-in (empty requests count as 1 byte). */
  worst?: Amplification;
  violations: Amplification[];
}

const encoder = new TextEncoder();

/** The requests to try: listing words, the server's words, an SNTP packet, hostile samples. */
export function amplificationRequests(words: readonly string[], rng: Rng): Uint8Array[] {
  const texts = new Set<string>();
  for (const w of [...LISTING_WORDS, ...words]) {
    for (const t of [w, `${w} x`, `${w} ${rng.pick(words.length ? words : LISTING_WORDS)}`]) {
      texts.add(t);
    }
  }
  const out = [...texts].map((t) => encoder.encode(t));
  const sntp = new Uint8Array(48);
  sntp[0] = 0x23; // version 4, client mode
  out.push(sntp, new Uint8Array(0));
  for (let i = 0; i < HOSTILE_SAMPLE; i++) {
    out.push(hostileMessage(rng, words, HOSTILE_MAX_BYTES).data.slice());
  }
  return out;
}

/** Requests that grow a server's tables, as ServerEntry.fill gives them. */
export interface TableFill {
  /** How many to send. */
  count: number;
  /** The i-th request (its reply is awaited, so each one takes effect). */
  request: (i: number) => string;
  /** Sockets they rotate over, all on the server's host (default 8). */
  sockets?: number;
}

/** Sends every fill request, each awaited (with retries), from a few rotating sockets. */
export async function fillTables(target: ProbeTarget, fill: TableFill): Promise<void> {
  const sockets = Array.from(
    { length: fill.sockets ?? 8 },
    () => UdpSocket.bind({ hostname: target.host, port: 0 }),
  );
  const to = { hostname: target.host, port: target.port };
  try {
    for (let i = 0; i < fill.count; i++) {
      await sockets[i % sockets.length].request(fill.request(i), to, { timeoutMs: 1000 });
    }
  } finally {
    await Promise.all(sockets.map((s) => s.close()));
  }
}

/** Shows a request in a report: its text, shortened, or its size when binary. */
function label(data: Uint8Array): string {
  const text = new TextDecoder().decode(data.subarray(0, 40));
  // deno-lint-ignore no-control-regex
  if (data.length === 0 || /[\x00-\x1f\x7f\ufffd]/.test(text)) return `(${data.length} bytes)`;
  return data.length > 40 ? `${text}...` : text;
}

/** A fresh socket that sends one request and counts what the server sends back. */
class Asker {
  readonly conn: Deno.DatagramConn;
  readonly request: Uint8Array;
  bytesOut = 0;
  datagrams = 0;
  #done: Promise<void>;
  #marker = encoder.encode(`marker-${crypto.randomUUID()}`);

  constructor(target: ProbeTarget, request: Uint8Array) {
    this.conn = Deno.listenDatagram({ transport: "udp", hostname: target.host, port: 0 });
    this.request = request;
    this.#done = this.#count(target.port);
  }

  send(target: ProbeTarget): Promise<number> {
    return this.conn.send(this.request, {
      transport: "udp",
      hostname: target.host,
      port: target.port,
    });
  }

  /** Sends the marker to itself and waits until everything before it was read. */
  async finish(): Promise<void> {
    await this.conn.send(this.#marker, this.conn.addr);
    const guard = setTimeout(() => this.conn.close(), MARKER_GUARD_MS);
    try {
      await this.#done;
    } finally {
      clearTimeout(guard);
      try {
        this.conn.close();
      } catch {
        // closed by the guard
      }
    }
  }

  async #count(serverPort: number): Promise<void> {
    const buf = new Uint8Array(65536);
    const own = (this.conn.addr as Deno.NetAddr).port;
    try {
      while (true) {
        const [data, from] = await this.conn.receive(buf) as [Uint8Array, Deno.NetAddr];
        if (from.port === own && data.length === this.#marker.length) return;
        if (from.port !== serverPort) continue;
        this.bytesOut += data.length;
        this.datagrams++;
      }
    } catch {
      // closed by the guard
    }
  }

  result(): Amplification {
    return {
      request: label(this.request),
      bytesIn: this.request.length,
      bytesOut: this.bytesOut,
      datagrams: this.datagrams,
      budget: replyBudget(this.request.length),
    };
  }
}

/**
 * Sends every request of {@linkcode amplificationRequests} from its own
 * socket and reports what came back; `syncIndex` numbers the probes used as
 * sync points (they must not collide with the run's other probes).
 */
export async function checkAmplification(
  target: ProbeTarget,
  prober: Prober,
  requests: Uint8Array[],
  syncIndex: number,
): Promise<AmplificationResult> {
  const result: AmplificationResult = { requests: 0, violations: [] };
  for (let start = 0; start < requests.length; start += ROUND) {
    const askers = requests.slice(start, start + ROUND).map((r) => new Asker(target, r));
    try {
      for (const a of askers) await a.send(target).catch(() => 0);
      await prober.ask(syncIndex++); // answered in order: everything before it was answered
    } finally {
      await Promise.all(askers.map((a) => a.finish()));
    }
    for (const a of askers) record(result, a.result());
  }
  return result;
}

function record(result: AmplificationResult, exchange: Amplification): void {
  result.requests++;
  if (exchange.bytesOut > exchange.budget) result.violations.push(exchange);
  const factor = (e: Amplification) => e.bytesOut / Math.max(1, e.bytesIn);
  if (!result.worst || factor(exchange) > factor(result.worst)) result.worst = exchange;
}

/** `who (3 B) got 490 B in 1 datagram (0.96 of its 512 B budget)` */
export function describeExchange(e: Amplification): string {
  const n = (x: number) => x.toLocaleString("en-US");
  return `${JSON.stringify(e.request)} (${n(e.bytesIn)} B) got ${n(e.bytesOut)} B in ${
    n(e.datagrams)
  } datagram${e.datagrams === 1 ? "" : "s"} (budget ${n(e.budget)} B)`;
}
