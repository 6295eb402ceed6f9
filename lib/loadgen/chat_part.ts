/**
 * The clients of the chat load generator that one thread runs: it connects
 * them (spread over the chat servers round-robin), waits until each has heard
 * a probe, sends on the run's schedule, and waits for the copies still due.
 * `socklab bench chat` runs one part in-process, or one per worker thread
 * (chat_worker.ts) when one thread cannot read every copy; chat.ts
 * coordinates the parts.
 *
 * @example
 * ```ts ignore
 * import { ChatLoadPart } from "./chat_part.ts";
 * const part = new ChatLoadPart({ targets, first: 0, count: 100, totalClients: 100, ... });
 * await part.join();
 * await part.probe();
 * ```
 * @module
 */
import { FailError } from "../cli/errors.ts";
import { formatHostPort, type HostPort } from "../net/address.ts";
import { connectTcp } from "../net/tcp.ts";
import { type DeliveryTally, LoadClient } from "./chat_client.ts";
import { type ChatDialect, chatLine, messageText, PROBE_MARK } from "./chat_lines.ts";
import { type HistogramSnapshot, LatencyHistogram } from "./stats.ts";

/** How often the sender wakes up to send what is due. */
const SEND_TICK_MS = 5;
/**
 * Clients connecting at the same time, per dialect. A connection beyond the
 * server's accept queue looks established to the client but may never be
 * accepted: ncat --chat loses half of 200 clients in batches of 64 (its queue
 * is short and it accepts slowly), none in batches of 10.
 */
const CONNECT_BATCH: Record<ChatDialect, number> = { socklab: 64, ncat: 10 };

/** What a part is: its clients' global indexes and the run's settings. */
export interface PartSpec {
  /** The chat servers; client i talks to `targets[i % targets.length]`. */
  targets: HostPort[];
  /** Global index of the part's first client. */
  first: number;
  /** Clients in this part. */
  count: number;
  /** Clients of the whole run. */
  totalClients: number;
  dialect: ChatDialect;
  /** Bytes of text per message. */
  size: number;
  /** Client names are this plus the global index. */
  namePrefix: string;
  /** Wall-clock ms (timeOrigin + now) that is 0 on the run's clock, the same in every thread. */
  epochMs: number;
  /** Joining and probing must be over by this time on the run's clock (µs). */
  readyByUs: number;
}

/** When and how fast to send (times on the run's clock). */
export interface Schedule {
  startAtUs: number;
  durationMs: number;
  /** Messages per second from all clients of the run together (spread round-robin). */
  rate: number;
  /** Instead: lines per second from each client, all on the same ticks. */
  perClientRate?: number;
}

/** Counters of a part, readable while it runs. */
export interface PartCounters {
  connected: number;
  messages: number;
  deliveries: number;
}

/** What a part measured, as plain data (sent between threads). */
export interface PartReport extends PartCounters {
  latency: HistogramSnapshot;
  /** Run clock (µs) of the last read that held a copy; 0 if none. */
  lastAtUs: number;
  /** Run clock (µs) when sending began and ended. */
  sendStartUs: number;
  sendEndUs: number;
}

/** The clients of one thread. */
export class ChatLoadPart {
  readonly clients: LoadClient[] = [];
  readonly tally: DeliveryTally;
  connected = 0;
  messages = 0;
  sendStartUs = 0;
  sendEndUs = 0;
  readonly #abort = new AbortController();

  constructor(readonly spec: PartSpec) {
    const epoch = spec.epochMs;
    this.tally = {
      deliveries: 0,
      latency: new LatencyHistogram(),
      clockUs: () => (performance.timeOrigin + performance.now() - epoch) * 1000,
      lastAtUs: 0,
    };
  }

  /** The run's clock in µs. */
  now(): number {
    return this.tally.clockUs();
  }

  /** Stops whatever the part is doing (joining, probing, sending, draining). */
  abort(): void {
    this.#abort.abort();
  }

  get aborted(): boolean {
    return this.#abort.signal.aborted;
  }

  live(): PartCounters {
    return {
      connected: this.connected,
      messages: this.messages,
      deliveries: this.tally.deliveries,
    };
  }

  /** Connects and signs in (socklab) or waits for the greeting (ncat) of every client, in batches. */
  async join(): Promise<void> {
    const batch = CONNECT_BATCH[this.spec.dialect];
    for (let i = 0; i < this.spec.count && !this.aborted; i += batch) {
      const n = Math.min(batch, this.spec.count - i);
      const joins = await Promise.allSettled(
        Array.from({ length: n }, (_, k) => this.#joinOne(this.spec.first + i + k)),
      );
      const failed = joins.find((j) => j.status === "rejected");
      if (failed) throw (failed as PromiseRejectedResult).reason;
    }
  }

  async #joinOne(index: number): Promise<void> {
    const target = this.spec.targets[index % this.spec.targets.length];
    const label = chatLabel(target);
    const conn = await connectTcp(target, label);
    conn.setNoDelay(true); // chat lines are small: no Nagle delay in the latency
    const client = new LoadClient(conn, `${this.spec.namePrefix}${index}`);
    this.clients.push(client);
    client.startReading(this.tally);
    // Joined = the server answered: socklab signs us in, ncat greets every client it accepts.
    const left = Math.max(1, (this.spec.readyByUs - this.now()) / 1000);
    if (this.spec.dialect === "socklab") await client.signIn(left, label);
    else await client.greeted(left, label);
    this.connected++;
  }

  /** Sends probes from the part's first client until every client that should has heard one. */
  async probe(): Promise<void> {
    if (this.clients.length === 0) return;
    const listeners = this.spec.dialect === "socklab" ? this.clients : this.clients.slice(1);
    for (let id = 1; listeners.some((c) => !c.sawProbe) && !this.aborted; id++) {
      if (this.now() > this.spec.readyByUs) {
        const deaf = listeners.filter((c) => !c.sawProbe).length;
        const waited = Math.round(this.spec.readyByUs / 1000);
        throw new FailError(
          `${
            chatLabel(this.spec.targets[0])
          }: ${deaf} of ${listeners.length} clients got no message within ${waited} ms`,
        );
      }
      const tag = this.spec.first * 1_000_000 + id;
      this.clients[0].send(chatLine(this.spec.dialect, `${PROBE_MARK}${tag}~`));
      await delay(100, this.#abort.signal);
    }
  }

  /** Sends on `schedule` until its time is up; resolves to the part's message count. */
  async send(schedule: Schedule): Promise<number> {
    const due = schedule.perClientRate !== undefined ? schedule.perClientRate : schedule.rate;
    if (due <= 0 || this.clients.length === 0 || this.aborted) return this.messages;
    await delay(Math.max(0, (schedule.startAtUs - this.now()) / 1000), this.#abort.signal);
    this.sendStartUs = this.now();
    const step = schedule.perClientRate !== undefined
      ? this.#burst(schedule.perClientRate)
      : this.#spread(schedule.rate * this.spec.count / this.spec.totalClients);
    await new Promise<void>((resolve) => {
      const tick = () => {
        const elapsedMs = (this.now() - schedule.startAtUs) / 1000;
        const over = elapsedMs >= schedule.durationMs || this.aborted;
        step(Math.min(elapsedMs, schedule.durationMs), over);
        if (!over) return;
        clearInterval(timer);
        resolve();
      };
      const timer = setInterval(tick, SEND_TICK_MS);
      tick();
    });
    this.sendEndUs = this.now();
    return this.messages;
  }

  /** `rate` messages/s from this part, one client after the other. */
  #spread(rate: number) {
    let next = 0;
    return (elapsedMs: number) => {
      const due = Math.floor((rate * elapsedMs) / 1000) - this.messages;
      for (let k = 0; k < due; k++) {
        this.clients[next].send(this.#line());
        next = (next + 1) % this.clients.length;
        this.messages++;
      }
    };
  }

  /** Every client sends what it owes at `perClientRate` on the same tick, its first line at once. */
  #burst(perClientRate: number) {
    const sentBy = new Array<number>(this.clients.length).fill(0);
    return (elapsedMs: number, over: boolean) => {
      if (over) return;
      const due = Math.floor((elapsedMs / 1000) * perClientRate) + 1;
      this.clients.forEach((c, i) => {
        let lines = "";
        for (; sentBy[i] < due; sentBy[i]++, this.messages++) lines += this.#line();
        if (lines) c.send(lines);
      });
    };
  }

  #line(): string {
    return chatLine(this.spec.dialect, messageText(this.now(), this.spec.size));
  }

  /** Waits until the part's clients got `expected` copies or the run's clock passes `untilUs`. */
  async drain(expected: number, untilUs: number): Promise<void> {
    while (this.tally.deliveries < expected && this.now() < untilUs && !this.aborted) {
      await delay(10, this.#abort.signal);
    }
  }

  report(): PartReport {
    return {
      ...this.live(),
      latency: this.tally.latency.snapshot(),
      lastAtUs: this.tally.lastAtUs,
      sendStartUs: this.sendStartUs,
      sendEndUs: this.sendEndUs,
    };
  }

  /** Signs every client out (socklab), closes them and waits for their readers. */
  async close(): Promise<void> {
    if (this.spec.dialect === "socklab") {
      for (const c of this.clients) c.send(`signout ${c.name}\n`);
    }
    for (const c of this.clients) c.close();
    await Promise.all(this.clients.map((c) => c.reading));
  }
}

/** `chat server HOST:PORT`, as errors name it. */
export function chatLabel(target: HostPort): string {
  return `chat server ${formatHostPort(target.hostname, target.port)}`;
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
