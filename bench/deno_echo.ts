/**
 * The best minimal Deno UDP echo loop, the peer that shows what protocol cost
 * would look like if it were invisible: one reused receive buffer, sends not
 * awaited (at most 256 in flight), nothing else.
 * Run: `deno run -A bench/deno_echo.ts [PORT] [BIND]`; prints the bound port.
 */
const port = Number(Deno.args[0] ?? 0);
const hostname = Deno.args[1] ?? "127.0.0.1";
const conn = Deno.listenDatagram({ transport: "udp", hostname, port });
console.log(`deno_echo: listening on UDP port ${(conn.addr as Deno.NetAddr).port}`);
const buffer = new Uint8Array(65536);
let inFlight = 0;
let drained: (() => void) | undefined;
const sent = () => {
  inFlight--;
  drained?.();
  drained = undefined;
};
for (;;) {
  const [data, from] = await conn.receive(buffer);
  inFlight++;
  // The send borrows its bytes until it completes; the buffer is reused at once.
  conn.send(data.slice(), from).then(sent, sent);
  if (inFlight >= 256) await new Promise<void>((resolve) => (drained = resolve));
}
