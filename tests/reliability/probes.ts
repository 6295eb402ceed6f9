/**
 * Well-behaved clients for the reliability suite. A probe asks a server
 * something whose correct answer is known and throws {@linkcode ProbeError}
 * when the answer is missing or wrong; between fuzzing batches it proves the
 * server still serves everyone else. Each server's table entry (servers.ts)
 * picks one of these with its own request and expected reply.
 * @module
 */
import { LineFramer } from "../../lib/net/framing.ts";
import { UdpSocket } from "../../lib/net/udp.ts";
import type { WatchedProcess } from "./watched.ts";

/** A wrong or missing answer from a probe. */
export class ProbeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProbeError";
  }
}

/** Where a running server is, as a probe sees it. */
export interface ProbeTarget {
  /** The address the server bound (an IP literal). */
  host: string;
  port: number;
  /** The server process (for probes that read what it prints). */
  proc: WatchedProcess;
}

/** A connected probe: `ask(i)` performs the i-th well-behaved exchange. */
export interface Prober {
  ask(i: number): Promise<void>;
  close(): Promise<void>;
}

/** Makes a prober for one server run. */
export type ProbeFactory = (target: ProbeTarget) => Promise<Prober>;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Time a probe waits per try; tries = 1 + PROBE_RETRIES (the UDP clients' defaults). */
export const PROBE_TIMEOUT_MS = 2000;
export const PROBE_RETRIES = 2;

/** One request and the reply it must get. */
export type Exchange = [request: string, expect: RegExp];
/** A UDP setup step: its request may be made from the previous reply (a challenge's answer). */
export type SetupExchange = [request: string | ((previous: string) => string), expect: RegExp];

/**
 * A UDP request/reply probe. `setup` runs once (e.g. a chat sign-in); `steps(i)`
 * are the exchanges of probe i. With `filter`, datagrams that do not match
 * are skipped (for servers that also push unrelated datagrams, like the chat's
 * broadcasts); without it, the first datagram from the server's port is the
 * answer and must match.
 */
export function udpRequestProbe(
  steps: (i: number) => Exchange[],
  options: { setup?: SetupExchange[]; filter?: boolean } = {},
): ProbeFactory {
  return async (target) => {
    const sock = UdpSocket.bind({
      hostname: target.host.includes(":") ? "::" : target.host,
      port: 0,
    });
    const to = { hostname: target.host, port: target.port };
    let previous = "";
    const exchange = async ([made, expect]: SetupExchange) => {
      const request = typeof made === "function" ? made(previous) : made;
      let reply;
      try {
        reply = await sock.request(request, to, {
          timeoutMs: PROBE_TIMEOUT_MS,
          retries: PROBE_RETRIES,
          accept: (data, from) =>
            from.port === target.port && (!options.filter || expect.test(decoder.decode(data))),
        });
      } catch (err) {
        throw new ProbeError(`${show(request)}: ${(err as Error).message}`);
      }
      const text = previous = decoder.decode(reply.data);
      if (!expect.test(text)) {
        throw new ProbeError(`${show(request)} got ${show(text)}, expected ${expect}`);
      }
    };
    try {
      for (const step of options.setup ?? []) await exchange(step);
    } catch (err) {
      await sock.close();
      throw err;
    }
    return {
      async ask(i) {
        for (const step of steps(i)) await exchange(step);
      },
      close: () => sock.close(),
    };
  };
}

/**
 * A probe for a server that prints what it receives and never answers
 * (udp-server): send `probe-i`, wait for the line `printed(i, ourPort)`,
 * resend after each time-out like a UDP client would.
 */
export function printedProbe(printed: (i: number, fromPort: number) => RegExp): ProbeFactory {
  return (target) => {
    const sock = UdpSocket.bind({
      hostname: target.host.includes(":") ? "::" : target.host,
      port: 0,
    });
    const to = { hostname: target.host, port: target.port };
    return Promise.resolve({
      async ask(i) {
        const pattern = printed(i, sock.addr.port);
        for (let attempt = 0; attempt <= PROBE_RETRIES; attempt++) {
          const seen = target.proc.stdout.waitFor(pattern, PROBE_TIMEOUT_MS);
          await sock.send(`probe-${i}`, to);
          try {
            await seen;
            return;
          } catch {
            // not printed in time: resend
          }
        }
        throw new ProbeError(`probe-${i} was never printed (${pattern})`);
      },
      close: () => sock.close(),
    });
  };
}

/** Lines from a TCP connection with a time-out per line; one read pending at a time. */
export class ConnLines {
  readonly conn: Deno.TcpConn;
  readonly #framer = new LineFramer({ maxLine: 1 << 20 });
  readonly #queue: string[] = [];
  readonly #buf = new Uint8Array(65536);
  #pending: Promise<number | null> | undefined;
  #eof = false;

  constructor(conn: Deno.TcpConn) {
    this.conn = conn;
  }

  /** Reads raw text (whatever one read returns); null at EOF. */
  async chunk(timeoutMs: number): Promise<string | null> {
    if (this.#queue.length) return this.#queue.shift()!;
    const n = await this.#read(timeoutMs);
    return n === null ? null : decoder.decode(this.#buf.subarray(0, n));
  }

  /** The next line (without its end); null at EOF. Throws ProbeError on time-out. */
  async next(timeoutMs: number): Promise<string | null> {
    while (this.#queue.length === 0) {
      if (this.#eof) return null;
      const n = await this.#read(timeoutMs);
      if (n === null) {
        this.#eof = true;
        const last = this.#framer.end();
        if (last?.kind === "line") this.#queue.push(last.text);
        continue;
      }
      for (const f of this.#framer.push(this.#buf.subarray(0, n))) {
        this.#queue.push(f.kind === "line" ? f.text : `<overflow ${f.bytes} bytes>`);
      }
    }
    return this.#queue.shift()!;
  }

  /** The next line matching `pattern`, skipping others; throws ProbeError on time-out or EOF. */
  async waitFor(pattern: RegExp, timeoutMs = PROBE_TIMEOUT_MS * 3): Promise<string> {
    const deadline = performance.now() + timeoutMs;
    while (true) {
      const line = await this.next(Math.max(1, deadline - performance.now()));
      if (line === null) throw new ProbeError(`connection closed waiting for ${pattern}`);
      if (pattern.test(line)) return line;
    }
  }

  async #read(timeoutMs: number): Promise<number | null> {
    this.#pending ??= this.conn.read(this.#buf).catch(() => null);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((
      r,
    ) => (timer = setTimeout(() => r("timeout"), timeoutMs)));
    try {
      const got = await Promise.race([this.#pending, timeout]);
      if (got === "timeout") throw new ProbeError(`no answer within ${Math.round(timeoutMs)} ms`);
      this.#pending = undefined;
      return got;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes the connection and lets the pending read settle. */
  async close(): Promise<void> {
    try {
      this.conn.close();
    } catch {
      // already closed
    }
    if (this.#pending) await this.#pending;
  }
}

/** Connects to the target over TCP, as a ConnLines. */
export async function connectLines(target: ProbeTarget): Promise<ConnLines> {
  let conn: Deno.TcpConn;
  try {
    conn = await Deno.connect({ hostname: target.host, port: target.port });
  } catch (err) {
    throw new ProbeError(`cannot connect: ${(err as Error).message}`);
  }
  conn.setNoDelay(true);
  return new ConnLines(conn);
}

/** Writes a whole line. */
export async function sendLine(c: ConnLines, line: string): Promise<void> {
  const bytes = encoder.encode(`${line}\n`);
  let off = 0;
  while (off < bytes.length) off += await c.conn.write(bytes.subarray(off));
}

/**
 * A probe that opens a fresh TCP connection for each request (a new client,
 * like a student's), runs `talk` over it, and hangs up whatever happened.
 */
function perConnectionProbe(
  talk: (c: ConnLines, i: number, target: ProbeTarget) => Promise<void>,
): ProbeFactory {
  return (target) =>
    Promise.resolve({
      async ask(i) {
        const c = await connectLines(target);
        try {
          await talk(c, i, target);
        } finally {
          await c.close();
        }
      },
      close: () => Promise.resolve(),
    });
}

/**
 * A line-protocol TCP probe: each probe opens a connection, runs `open`,
 * then `steps(i)` (each a line sent and the line that must come back, other
 * lines skipped), then `close` and hangs up. One connection per probe, so
 * each probe is a fresh client like a student's.
 */
export function tcpLineProbe(
  steps: (i: number) => Exchange[],
  options: { open?: Exchange[]; close?: Exchange[] } = {},
): ProbeFactory {
  return perConnectionProbe(async (c, i) => {
    for (
      const [line, expect] of [...(options.open ?? []), ...steps(i), ...(options.close ?? [])]
    ) {
      await sendLine(c, line);
      await c.waitFor(expect);
    }
  });
}

/**
 * A probe for a TCP server that prints what it receives and answers nothing
 * (`nc -l`): connect, send `data(i)`, half-close, wait for the server to print
 * the line `printed(i)` and to close the connection.
 */
export function printedTcpProbe(
  data: (i: number) => string,
  printed: (i: number) => RegExp,
): ProbeFactory {
  return perConnectionProbe(async (c, i, target) => {
    const seen = target.proc.stdout.waitFor(printed(i), PROBE_TIMEOUT_MS * 3);
    await c.conn.write(encoder.encode(data(i)));
    await c.conn.closeWrite();
    try {
      await seen;
    } catch (err) {
      throw new ProbeError(`${show(data(i))}: ${(err as Error).message}`);
    }
    if ((await c.chunk(PROBE_TIMEOUT_MS * 3)) !== null) {
      throw new ProbeError("the server sent data or did not close the connection");
    }
  });
}

/**
 * The lecture's TCP example (tcp-server): the server SENDs a line from its
 * stdin (`serverLine`), the probe answers `probe-i` and waits for the server
 * to print `RECEIVED DATA = probe-i`, then quits with `q`.
 */
export function lectureTcpProbe(serverLine: string): ProbeFactory {
  return perConnectionProbe(async (c, i, target) => {
    const first = await c.chunk(PROBE_TIMEOUT_MS * 3);
    if (first !== serverLine) {
      throw new ProbeError(
        `expected the server's "${serverLine}", got ${show(first ?? "EOF")}`,
      );
    }
    const printed = target.proc.stdout.waitFor(
      new RegExp(`^RECEIVED DATA = probe-${i}$`),
      PROBE_TIMEOUT_MS * 3,
    );
    await c.conn.write(encoder.encode(`probe-${i}`));
    try {
      await printed;
    } catch (err) {
      throw new ProbeError(`probe-${i}: ${(err as Error).message}`);
    }
    const next = await c.chunk(PROBE_TIMEOUT_MS * 3);
    if (next !== serverLine) {
      throw new ProbeError(`expected the next "${serverLine}", got ${show(next ?? "EOF")}`);
    }
    await c.conn.write(encoder.encode("q"));
    if ((await c.chunk(PROBE_TIMEOUT_MS * 3)) !== null) {
      throw new ProbeError(`the server did not close the connection after "q"`);
    }
  });
}

/** A short printable quote of a request or reply for messages. */
export function show(text: string): string {
  const cut = text.length > 80 ? `${text.slice(0, 80)}...` : text;
  return JSON.stringify(cut);
}
