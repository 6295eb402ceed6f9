/**
 * A process that opens a known set of sockets for the netstat tests, prints
 * one JSON line naming their ports and its pid, and holds them until its
 * stdin closes. Run as `deno run -A tests/sys/socket_fixture.ts [--syn-port N]`.
 *
 * Sockets: TCP listeners on 127.0.0.1, ::1 and :: (dual stack); an
 * established pair on each (the one to :: from 127.0.0.1, so its accepted
 * side is IPv4-mapped); a TIME_WAIT; a FIN_WAIT2/CLOSE_WAIT pair; UDP on
 * 127.0.0.1, ::1 and ::. With `--syn-port N` (inside a namespace whose
 * firewall drops the SYN-ACK from N): a SYN_SENT/SYN_RECV pair.
 * @module
 */
const args = Deno.args;
const synPort = args.includes("--syn-port") ? Number(args[args.indexOf("--syn-port") + 1]) : null;
const unixDir = args.includes("--unix") ? args[args.indexOf("--unix") + 1] : null;

const port = (x: { addr: Deno.Addr }) => (x.addr as Deno.NetAddr).port;
const keep: { close(): void }[] = [];

const l4 = Deno.listen({ hostname: "127.0.0.1", port: 0 });
const l6 = Deno.listen({ hostname: "::1", port: 0 });
const lAny = Deno.listen({ hostname: "::", port: 0 });
keep.push(l4, l6, lAny);

async function pair(
  listener: Deno.TcpListener,
  hostname: string,
): Promise<[Deno.TcpConn, Deno.TcpConn]> {
  const [client, server] = await Promise.all([
    Deno.connect({ hostname, port: port(listener) }),
    listener.accept(),
  ]);
  return [client, server];
}

// Established pairs: IPv4, IPv6, and IPv4 into a dual-stack listener (mapped).
for (const [l, host] of [[l4, "127.0.0.1"], [l6, "::1"], [lAny, "127.0.0.1"]] as const) {
  keep.push(...await pair(l, host));
}

// TIME_WAIT: the client closes first, the server then closes too.
{
  const [client, server] = await pair(l4, "127.0.0.1");
  client.close();
  const buf = new Uint8Array(16);
  while ((await server.read(buf)) !== null) { /* until the client's FIN */ }
  server.close();
}

// FIN_WAIT2 / CLOSE_WAIT: the client shuts down its sending side, the server does nothing.
{
  const [client, server] = await pair(l6, "::1");
  await client.closeWrite();
  keep.push(client, server);
}

const udp = ["127.0.0.1", "::1", "::"].map((hostname) =>
  Deno.listenDatagram({ transport: "udp", hostname, port: 0 })
);
keep.push(...udp);

let synListener: Deno.TcpListener | null = null;
if (synPort !== null) {
  synListener = Deno.listen({ hostname: "127.0.0.1", port: synPort });
  keep.push(synListener);
  // Never completes: the namespace's firewall drops the SYN-ACK.
  Deno.connect({ hostname: "127.0.0.1", port: synPort }).then((c) => keep.push(c), () => {});
}

const unix: string[] = [];
if (unixDir !== null) {
  const path = `${unixDir}/stream.sock`;
  const listener = Deno.listen({ transport: "unix", path });
  const [client, server] = await Promise.all([
    Deno.connect({ transport: "unix", path }),
    listener.accept(),
  ]);
  const dgram = Deno.listenDatagram({ transport: "unixpacket", path: `${unixDir}/dgram.sock` });
  keep.push(listener, client, server, dgram);
  unix.push(path, `${unixDir}/dgram.sock`);
}

console.log(JSON.stringify({
  pid: Deno.pid,
  unix,
  tcp: [port(l4), port(l6), port(lAny), ...(synPort === null ? [] : [synPort])],
  udp: udp.map(port),
}));

// Hold everything until stdin closes.
const buf = new Uint8Array(64);
while ((await Deno.stdin.read(buf)) !== null) { /* wait */ }
for (const k of keep) {
  try {
    k.close();
  } catch {
    // already closed
  }
}
Deno.exit(0);
