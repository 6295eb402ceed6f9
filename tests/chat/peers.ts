/**
 * Raw chat peers for the end-to-end tests: a TCP connection or a UDP socket
 * that sends protocol lines and collects what the server sends as lines, so
 * a test can wait on a line (an event) and then check every line it got.
 * @module
 */
import { LineLog } from "../helpers/cli.ts";
import { closeQuietly, writeAll } from "../../lib/net/tcp.ts";

const encoder = new TextEncoder();

/** Options of {@linkcode TcpPeer.connect}. */
export interface TcpPeerOptions {
  /** False: never read after start-up (a stalled client). Default true. */
  read?: boolean;
  /** Keep only this many characters of each line (big messages, short failure reports). */
  keep?: number;
  /** A slow reader: at most `bytes` per read, then a pause of `pauseMs`. */
  slow?: { bytes: number; pauseMs: number };
}

/** A TCP chat peer that collects every line the server sends. */
export class TcpPeer implements AsyncDisposable {
  readonly log = new LineLog();
  readonly conn: Deno.TcpConn;
  #pump: Promise<void> = Promise.resolve();

  private constructor(conn: Deno.TcpConn) {
    this.conn = conn;
  }

  /** Connects and starts reading (unless `read` is false). */
  static async connect(port: number, options: TcpPeerOptions = {}): Promise<TcpPeer> {
    const peer = new TcpPeer(await Deno.connect({ hostname: "127.0.0.1", port }));
    if (options.read !== false) peer.#startReading(options.keep ?? Infinity, options.slow);
    return peer;
  }

  /** Reads every byte the server sends into `log` until EOF. */
  #startReading(keep: number, slow?: { bytes: number; pauseMs: number }): void {
    this.#pump = (async () => {
      const decoder = new TextDecoder();
      const buf = new Uint8Array(slow?.bytes ?? 64 * 1024);
      let partial = "";
      try {
        while (true) {
          const n = await this.conn.read(buf);
          if (n === null) break;
          const lines = (partial + decoder.decode(buf.subarray(0, n), { stream: true })).split(
            "\n",
          );
          partial = lines.pop()!;
          if (lines.length) this.log.push(lines.map((l) => `${l.slice(0, keep)}\n`).join(""));
          if (slow) await new Promise((r) => setTimeout(r, slow.pauseMs));
        }
      } catch {
        // reset or closed: the end either way
      }
      this.log.push(partial);
      this.log.end();
    })();
  }

  /** Reads exactly one line without starting the pump (then the peer may stall). */
  async readLine(): Promise<string> {
    let text = "";
    const one = new Uint8Array(1);
    while (true) {
      const n = await this.conn.read(one);
      if (n === null) throw new Error(`EOF after "${text}"`);
      if (one[0] === 0x0a) return text;
      text += String.fromCharCode(one[0]);
    }
  }

  /** Sends lines, each with LF. */
  async send(...lines: string[]): Promise<void> {
    await writeAll(this.conn, encoder.encode(lines.map((l) => `${l}\n`).join("")));
  }

  /** Connects and signs in as `name`. */
  static async signedIn(
    port: number,
    name: string,
    options: TcpPeerOptions = {},
  ): Promise<TcpPeer> {
    const peer = await TcpPeer.connect(port, options);
    await peer.signin(name);
    return peer;
  }

  /** Sends `who` and waits for the server's `Users: USERS` line. */
  async who(users: string): Promise<void> {
    await this.send("who");
    await this.log.waitFor(`Users: ${users}`);
  }

  /** Sends `signin NAME` and waits for the server's OK. */
  async signin(name: string): Promise<void> {
    await this.send(`signin ${name}`);
    await this.log.waitFor(`OK signed in as ${name}`);
  }

  /** Sends raw bytes. */
  async sendBytes(bytes: Uint8Array): Promise<void> {
    await writeAll(this.conn, bytes);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    closeQuietly(this.conn);
    await this.#pump;
  }
}

/** A UDP chat peer: each line one datagram; every datagram received is one line in `log`. */
export class UdpPeer implements AsyncDisposable {
  readonly log = new LineLog();
  /** Bytes of every datagram received, in order. */
  readonly sizes: number[] = [];
  readonly #sock: Deno.DatagramConn;
  readonly #port: number;
  readonly #pump: Promise<void>;

  /** A socket on `host` (default 127.0.0.1; any 127.x.y.z is a distinct source on loopback). */
  constructor(port: number, host = "127.0.0.1") {
    this.#port = port;
    const sock = Deno.listenDatagram({ transport: "udp", hostname: host, port: 0 });
    this.#sock = sock;
    this.#pump = (async () => {
      const decoder = new TextDecoder();
      try {
        while (true) {
          const [data] = await sock.receive();
          this.sizes.push(data.length);
          this.log.push(`${decoder.decode(data)}\n`);
        }
      } catch {
        // closed
      }
      this.log.end();
    })();
  }

  /**
   * Signs in as a person with `nc -u` would: `signin NAME`, then the line the
   * server's CONFIRM reply names; resolves once signed in.
   */
  async signin(name: string): Promise<void> {
    const seen = this.log.lines.length;
    await this.send(`signin ${name}`);
    const confirm = await this.log.waitFor(/^CONFIRM to sign in, send: /);
    const line = /send: (signin \S+ cookie=[0-9a-f]+) /.exec(confirm)![1];
    await this.send(line);
    await this.log.waitFor(`OK signed in as ${name}`);
    // Later waits for CONFIRM must see a new one.
    this.log.lines.splice(seen, this.log.lines.indexOf(confirm, seen) - seen + 1);
  }

  async send(...lines: string[]): Promise<void> {
    for (const line of lines) {
      await this.#sock.send(encoder.encode(line), {
        transport: "udp",
        hostname: "127.0.0.1",
        port: this.#port,
      });
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    closeQuietly(this.#sock);
    await this.#pump;
  }
}

/** The texts of the `Msg NAME says: TEXT` lines from `name`, in the order received. */
export function messagesFrom(lines: readonly string[], name: string): string[] {
  const prefix = `Msg ${name} says: `;
  return lines.filter((l) => l.startsWith(prefix)).map((l) => l.slice(prefix.length));
}

/** `["PREFIX 0", "PREFIX 1", ...]` */
export function numbered(prefix: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix} ${i}`);
}

/**
 * Resolves once `done()` is true, looking again every 20 ms (for a condition
 * over lines an event log already collects); rejects with `what` after `timeoutMs`.
 */
export async function until(done: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * The first line matching `pattern` among the lines `log` gets from index
 * `from` on (lines already there included), e.g. the reply to a request
 * sent when the log held `from` lines. Rejects after `timeoutMs`.
 */
export async function lineAfter(
  log: LineLog,
  from: number,
  pattern: RegExp,
  timeoutMs = 10_000,
): Promise<string> {
  const hit = () => log.lines.slice(from).find((l) => pattern.test(l));
  await until(
    () => hit() !== undefined,
    `${pattern} after line ${from} in:\n${log.text}`,
    timeoutMs,
  );
  return hit()!;
}
