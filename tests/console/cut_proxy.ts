/**
 * A TCP relay on loopback that a test can cut: the browser talks to the
 * console through it, and `cutAll()` closes every relayed connection at once,
 * as a network blip would, without the console knowing anything about it.
 *
 * @example
 * ```ts ignore
 * await using proxy = new CutProxy({ hostname: "127.0.0.1", port: 8080 });
 * // open http://127.0.0.1:${proxy.port}/ in the browser, then:
 * proxy.refusing = true; // the network is down
 * proxy.cutAll();
 * proxy.refusing = false; // and back
 * ```
 * @module
 */

/** Relays every connection to `target` until cut or disposed. */
export class CutProxy implements AsyncDisposable {
  readonly #listener: Deno.TcpListener;
  readonly #pairs = new Set<[Deno.TcpConn, Deno.TcpConn]>();
  readonly #pumps = new Set<Promise<void>>();
  readonly #accepting: Promise<void>;
  /** Connections relayed so far. */
  accepted = 0;
  /** While true, new connections are closed at once (the network is down). */
  refusing = false;

  constructor(readonly target: { hostname: string; port: number }) {
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.#accepting = this.#accept();
  }

  get port(): number {
    return this.#listener.addr.port;
  }

  async #accept(): Promise<void> {
    for await (const inbound of this.#listener) {
      if (this.refusing) {
        inbound.close();
        continue;
      }
      this.accepted++;
      const outbound = await Deno.connect(this.target).catch(() => undefined);
      if (!outbound) {
        inbound.close();
        continue;
      }
      const pair: [Deno.TcpConn, Deno.TcpConn] = [inbound, outbound];
      this.#pairs.add(pair);
      const pump = Promise.all([relay(inbound, outbound), relay(outbound, inbound)]).then(() => {
        this.#close(pair);
      });
      this.#pumps.add(pump);
      pump.then(() => this.#pumps.delete(pump));
    }
  }

  /** Closes every relayed connection (both sides). */
  cutAll(): void {
    for (const pair of [...this.#pairs]) this.#close(pair);
  }

  #close(pair: [Deno.TcpConn, Deno.TcpConn]): void {
    if (!this.#pairs.delete(pair)) return;
    for (const conn of pair) {
      try {
        conn.close();
      } catch {
        // already closed
      }
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#listener.close();
    await this.#accepting.catch(() => {});
    this.cutAll();
    await Promise.all(this.#pumps);
  }
}

/** Copies `from` to `to` until either ends or fails. */
async function relay(from: Deno.TcpConn, to: Deno.TcpConn): Promise<void> {
  const buf = new Uint8Array(64 * 1024);
  try {
    for (;;) {
      const n = await from.read(buf);
      if (n === null) break;
      let off = 0;
      while (off < n) off += await to.write(buf.subarray(off, n));
    }
    await to.closeWrite().catch(() => {});
  } catch {
    // cut, or the other side went away
  }
}
