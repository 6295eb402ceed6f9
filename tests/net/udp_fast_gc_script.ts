/**
 * Run by udp_fast_test.ts with `--v8-flags=--expose-gc`: serves with the fast
 * path while forcing a full garbage collection on every datagram, answers
 * `n` with `n*2`, and checks every reply from a client socket. Prints
 * `ok N` on success; any corruption shows as a wrong reply or a crash.
 * (The fuzz tests in tests/reliability found the crash this guards against:
 * buffers reached by the kernel only through pointers were collected.)
 */
import { serveUdp } from "../../lib/net/udp_serve.ts";

const gc = (globalThis as unknown as { gc: () => void }).gc;
const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
const ac = new AbortController();
let litter: Uint8Array[] = [];
const serving = serveUdp(conn, (data) => {
  gc();
  // Reuse freed memory at once: buffers of the fast path's sizes, full of garbage.
  litter = [];
  for (const size of [256, 544, 1024]) {
    for (let i = 0; i < 16; i++) litter.push(new Uint8Array(size).fill(0x41));
  }
  return String(Number(new TextDecoder().decode(data)) * 2);
}, { signal: ac.signal });
const client = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
const to = conn.addr as Deno.NetAddr;
const count = 400;
let ok = 0;
for (let burst = 0; burst < count / 20; burst++) {
  // Twenty sends in one tick: they queue up, so the server reads them in batches.
  const sent = Array.from({ length: 20 }, (_, i) => burst * 20 + i);
  await Promise.all(sent.map((n) => client.send(new TextEncoder().encode(String(n)), to)));
  const got: number[] = [];
  for (let i = 0; i < 20; i++) {
    got.push(Number(new TextDecoder().decode((await client.receive())[0])));
  }
  const expected = sent.map((n) => n * 2).sort((a, b) => a - b);
  if (got.sort((a, b) => a - b).join() !== expected.join()) throw new Error(`replies ${got}`);
  ok += 20;
}
client.close();
ac.abort();
await serving;
console.log(`ok ${ok}`);
