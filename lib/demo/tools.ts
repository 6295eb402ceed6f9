/**
 * Demo section for the machine and socket tools: ifconfig's loopback line,
 * netstat finding a listener the demo opens (with its PID), and nc sending a
 * request whose reply only comes after nc's half-close.
 * @module
 */
import { closeOnAbort } from "../net/server.ts";
import { closeQuietly, connectTcp, listenTcp } from "../net/tcp.ts";
import { runTcpSession } from "../nc/session.ts";
import type { Input, Output } from "../nc/stdio.ts";
import { readInterfaces } from "../sys/ifconfig.ts";
import { collectSockets, formatTable } from "../sys/netstat.ts";
import type { DemoSection } from "./context.ts";

const encoder = new TextEncoder();

/** An Input that yields `chunks`, then end of input. */
function chunksInput(chunks: string[]): Input {
  let k = 0;
  return {
    interactive: false,
    read: () => Promise.resolve(k < chunks.length ? encoder.encode(chunks[k++]) : null),
  };
}

/** The machine and socket tools, on loopback. */
export const toolsSection: DemoSection = {
  title: "Machine and socket tools (ifconfig, netstat, nc)",
  async run(ctx) {
    await ctx.step("ifconfig shows the loopback interface up with 127.0.0.1/8", () => {
      const lo = readInterfaces().find((i) => i.flags.includes("LOOPBACK"));
      if (!lo) throw new Error("no loopback interface");
      const v4 = lo.addresses.filter((a) => a.family === "inet").map((a) =>
        `${a.address}/${a.prefixlen}`
      );
      ctx.say(`ifconfig: ${lo.name} <${lo.flags.join(",")}> mtu ${lo.mtu} ${v4.join(" ")}`);
      ctx.expectEqual(v4.includes("127.0.0.1/8"), true, "127.0.0.1/8 on loopback");
      return Promise.resolve();
    });

    const listener = listenTcp({ hostname: "127.0.0.1", port: 0 });
    const port = (listener.addr as Deno.NetAddr).port;
    // The server: read the whole request (until nc half-closes), then answer.
    const served = ctx.track((async () => {
      const conn = await listener.accept().catch(() => null);
      closeQuietly(listener);
      if (!conn) return;
      let n = 0;
      const buf = new Uint8Array(1024);
      for (let r = await conn.read(buf); r !== null; r = await conn.read(buf)) n += r;
      await conn.write(encoder.encode(`got ${n} bytes after your end of input\n`));
      conn.close();
    })());
    closeOnAbort(ctx.signal, listener);

    await ctx.step("netstat -tlp lists the demo's listener with this process as its owner", () => {
      const { entries } = collectSockets({
        tcp: true,
        udp: false,
        listening: true,
        all: false,
        programs: true,
      });
      const mine = entries.filter((e) => e.local.port === port);
      for (const line of formatTable(mine, { programs: true })) ctx.say(`netstat: ${line}`);
      ctx.expectEqual(mine.length, 1, "one listener on the demo's port");
      ctx.expectEqual(
        mine[0].processes?.some((p) => p.pid === Deno.pid),
        true,
        "owned by this process",
      );
      return Promise.resolve();
    });

    await ctx.step("nc sends a request, half-closes, and gets the whole reply", async () => {
      const client = ctx.writer("nc");
      const conn = await connectTcp({ hostname: "127.0.0.1", port });
      const decoder = new TextDecoder();
      const output: Output = {
        write: (chunk) => client.write(decoder.decode(chunk, { stream: true })),
      };
      const r = await runTcpSession(conn, {
        input: chunksInput(["GET ", "/demo\n"]),
        output,
        shutdownOnEof: true,
        waitForInput: true,
        idleMs: 3000,
        signal: ctx.signal,
      });
      await served;
      ctx.say(`nc: sent ${r.sent} bytes, received ${r.received} bytes`);
      ctx.expectEqual(
        client.lines.includes("got 10 bytes after your end of input"),
        true,
        "the reply",
      );
    });
  },
};
