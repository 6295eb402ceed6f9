/**
 * An echo on socklab's own serve loop (lib/net serveUdp): the same mechanism
 * as the services with no protocol at all, so a service's ratio to it is the
 * cost of its protocol alone.
 * Run: `deno run -A bench/serve_echo.ts [PORT] [BIND]`; prints the bound port.
 */
import { serveUdp } from "../lib/net/udp_serve.ts";

const conn = Deno.listenDatagram({
  transport: "udp",
  hostname: Deno.args[1] ?? "127.0.0.1",
  port: Number(Deno.args[0] ?? 0),
});
console.log(`serve_echo: listening on UDP port ${(conn.addr as Deno.NetAddr).port}`);
await serveUdp(conn, (data) => data);
