/**
 * A minimal UDP echo on Deno's `node:dgram` (the Node compatibility layer),
 * to measure what that mechanism adds or costs beside Deno.listenDatagram.
 * Run: `deno run -A bench/node_echo.ts [PORT] [BIND]`; prints the bound port.
 */
import dgram from "node:dgram";

const socket = dgram.createSocket("udp4");
socket.on("message", (msg, rinfo) => socket.send(msg, rinfo.port, rinfo.address));
socket.bind(Number(Deno.args[0] ?? 0), Deno.args[1] ?? "127.0.0.1", () => {
  console.log(`node_echo: listening on UDP port ${socket.address().port}`);
});
