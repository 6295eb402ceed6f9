/** Demo sections for the lecture's UDP example 1 and TCP example 2. */
import { listInput } from "../cli/input.ts";
import { connectTcp } from "../net/tcp.ts";
import { sendDatagrams } from "../udp_example/client.ts";
import { runTcpClient } from "../tcp_example/client.ts";
import type { DemoSection } from "./context.ts";
import { startInDemo } from "./services.ts";

/** UDP example 1: the client's datagrams show on the server. */
export const udpExample: DemoSection = {
  title: "UDP example 1 (udp-server / udp-client)",
  async run(ctx) {
    const server = ctx.writer("udp-server");
    const client = ctx.writer("udp-client");
    const { port } = (await startInDemo(ctx, "udp-server", server)).addr;
    await ctx.step("the client's datagrams reach the server", async () => {
      await sendDatagrams("127.0.0.1", port, ["hello", "world"], client.log);
      await server.waitFor(/ : hello$/);
      await server.waitFor(/ : world$/);
    });
  },
};

/** TCP example 2: one SEND/RECEIVED round trip each way, then `q`. */
export const tcpExample: DemoSection = {
  title: "TCP example 2 (tcp-server / tcp-client)",
  async run(ctx) {
    const server = ctx.writer("tcp-server");
    const client = ctx.writer("tcp-client");
    const tcpServer = await startInDemo(ctx, "tcp-server", server, {
      input: listInput(["hello from the server", "q"]),
      maxConnections: 1,
    });
    const { port } = tcpServer.addr;
    const serving = tcpServer.running;
    await ctx.step("server and client take turns, then q ends the connection", async () => {
      const conn = await connectTcp({ hostname: "127.0.0.1", port });
      await runTcpClient(conn, {
        input: listInput(["hello from the client"]),
        write: client.write,
        signal: ctx.signal,
      });
      await serving;
      ctx.expectEqual(
        client.lines.includes("Received data = hello from the server"),
        true,
        "client received the server's line",
      );
      ctx.expectEqual(
        server.lines.includes("RECEIVED DATA = hello from the client"),
        true,
        "server received the client's line",
      );
    });
  },
};
