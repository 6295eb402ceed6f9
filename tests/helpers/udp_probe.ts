/**
 * Test helpers for the UDP exercise services: run a server in-process on a
 * free loopback port, and send datagrams to it from a real socket, waiting on
 * replies (events), never on sleeps.
 * @module
 */
import { UdpSocket } from "../../lib/net/udp.ts";
import { bindUdp } from "../../lib/net/udp.ts";

/** A server running in this process on 127.0.0.1; dispose to stop it. */
export interface InProcessServer extends AsyncDisposable {
  port: number;
  lines: string[];
}

/** Starts `run(conn, {signal, log})` on a free loopback port. */
export function serveInProcess(
  run: (
    conn: Deno.DatagramConn,
    options: { signal: AbortSignal; log: (line: string) => void },
  ) => Promise<void>,
  hostname = "127.0.0.1",
): InProcessServer {
  const conn = bindUdp({ hostname, port: 0 });
  const controller = new AbortController();
  const lines: string[] = [];
  const running = run(conn, { signal: controller.signal, log: (l) => lines.push(l) });
  return {
    port: (conn.addr as Deno.NetAddr).port,
    lines,
    async [Symbol.asyncDispose]() {
      controller.abort();
      await running;
    },
  };
}

/** A client socket that sends datagrams and reads the next reply as text. */
export class Probe implements AsyncDisposable {
  readonly socket: UdpSocket;
  readonly #to: { hostname: string; port: number };

  constructor(port: number, hostname = "127.0.0.1") {
    this.#to = { hostname, port };
    this.socket = UdpSocket.bind({
      hostname: hostname.includes(":") ? "::1" : "127.0.0.1",
      port: 0,
    });
  }

  /** Sends one datagram (text or bytes). */
  send(data: string | Uint8Array): Promise<void> {
    return this.socket.send(data, this.#to);
  }

  /** The next datagram received, as bytes (throws after `timeoutMs`). */
  async nextBytes(timeoutMs = 5000): Promise<Uint8Array> {
    const got = await this.socket.receive(timeoutMs);
    if (got === null) throw new Error(`no datagram within ${timeoutMs} ms`);
    return got[0];
  }

  /** The next datagram received, as text. */
  async next(timeoutMs = 5000): Promise<string> {
    return new TextDecoder().decode(await this.nextBytes(timeoutMs));
  }

  /** Sends `data` and returns the next datagram as text. */
  async ask(data: string | Uint8Array): Promise<string> {
    await this.send(data);
    return await this.next();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.socket.close();
  }
}

/** The bad inputs every exercise service must survive (issue #6). */
export const BAD_INPUTS: [string, Uint8Array][] = [
  ["65,507 bytes of text", new Uint8Array(65507).fill(0x61)],
  ["binary bytes", new Uint8Array([0xff, 0x00, 0x1b, 0x80, 0x7f])],
  ["inner NULs", new TextEncoder().encode("US\0D")],
  ["invalid UTF-8", new Uint8Array([0x55, 0x53, 0xc3, 0x28])],
  ["one line of 10,000 words", new TextEncoder().encode("word ".repeat(10_000).trim())],
  ["only NULs", new Uint8Array(16)],
];
