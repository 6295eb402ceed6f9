/**
 * serveUdp's guard on both loops (the batched fast path and the portable
 * one): no reply over max(3x the request, 512) bytes to a source the handler
 * has not validated, and a monitor told about every reply.
 */
import { assertEquals, assertMatch, assertOk } from "../helpers/assert.ts";
import { type ServiceEvent, ServiceMonitor } from "../../lib/net/monitor.ts";
import { UdpSocket } from "../../lib/net/udp.ts";
import { serveUdp, type UdpHandler, ValidatedReply } from "../../lib/net/udp_serve.ts";
import { AmplificationError } from "../../lib/net/udp_guard.ts";

const text = (b: Uint8Array) => new TextDecoder().decode(b);

function serve(
  mechanism: "auto" | "portable",
  handler: UdpHandler,
  extra: { monitor?: ServiceMonitor; errors?: unknown[] } = {},
) {
  const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const ac = new AbortController();
  const done = serveUdp(conn, handler, {
    signal: ac.signal,
    mechanism,
    monitor: extra.monitor,
    onError: (err) => extra.errors?.push(err),
  });
  return {
    to: { hostname: "127.0.0.1", port: (conn.addr as Deno.NetAddr).port },
    async [Symbol.asyncDispose]() {
      ac.abort();
      await done;
    },
  };
}

for (const mechanism of ["auto", "portable"] as const) {
  Deno.test(`serveUdp(${mechanism}) drops a reply over max(3x the request, 512) bytes to an unvalidated source; a ValidatedReply goes whole`, async () => {
    const errors: unknown[] = [];
    await using server = serve(mechanism, (data) => {
      const t = text(data);
      if (t === "big") return "x".repeat(2000);
      if (t === "bytes") return new Uint8Array(513);
      if (t === "trusted") return new ValidatedReply("y".repeat(2000));
      return "z".repeat(3 * data.length); // exactly the budget of a long request
    }, { errors });
    await using c = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
    for (const m of ["big", "bytes", "trusted", "w".repeat(300)]) await c.send(m, server.to);
    const first = (await c.receive(5000))![0];
    assertEquals(text(first), "y".repeat(2000), "the two oversize replies never left");
    assertEquals((await c.receive(5000))![0].length, 900, "3x a 300-byte request is allowed");
    assertEquals(errors.length, 2);
    for (const err of errors) {
      assertOk(err instanceof AmplificationError);
      assertMatch(
        err.message,
        /^dropped a (2000|513)-byte reply to 127\.0\.0\.1:\d+: over its 512-byte budget/,
      );
    }
  });

  Deno.test(`serveUdp(${mechanism}) tells a monitor each reply, and error replies with the peer and reason`, async () => {
    const monitor = new ServiceMonitor("test");
    const events: ServiceEvent[] = [];
    monitor.subscribe((e) => events.push(e));
    await using server = serve(mechanism, (data) => {
      const t = text(data);
      if (t === "quiet") return null;
      return t === "bad" ? "ERR bad request" : new TextEncoder().encode(`ok ${t}`);
    }, { monitor });
    await using c = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
    for (const m of ["a", "bad", "quiet", "b"]) await c.send(m, server.to);
    const replies = [];
    for (let i = 0; i < 3; i++) replies.push(text((await c.receive(5000))![0]));
    assertEquals(replies, ["ok a", "ERR bad request", "ok b"]);
    assertEquals([monitor.requests, monitor.errors], [3, 1]);
    assertEquals(monitor.latency.reduce((a, b) => a + b, 0), 3, "each service time counted");
    assertEquals(events.map((e) => [e.kind, e.text, e.peer]), [
      ["error", "ERR bad request", `127.0.0.1:${c.addr.port}`],
    ]);
  });
}
