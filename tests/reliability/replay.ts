/**
 * Replays the hostile inputs a failed fuzzing run left in
 * .cache/reliability/NAME-SEED/ against a fresh server of the table, one at a
 * time with a probe after each, and says which input (if any) breaks it.
 *
 * ```sh
 * deno run -A tests/reliability/replay.ts udp-server .cache/reliability/udp-server-5
 * ```
 * @module
 */
import { startServer } from "./harness.ts";
import { SERVERS } from "./servers.ts";

if (import.meta.main) {
  const [name, dir, roundsText] = Deno.args;
  const entry = SERVERS.find((s) => s.name === name);
  if (!entry || !dir || entry.transport !== "udp") {
    console.error("usage: replay.ts UDP-SERVER-NAME DIR [ROUNDS]   (UDP servers of servers.ts)");
    Deno.exit(2);
  }
  const files = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.endsWith(".bin"))
    .sort();
  const rounds = Number(roundsText ?? 1);
  await using server = await startServer(entry);
  const prober = await entry.probe(server);
  const sock = Deno.listenDatagram({ transport: "udp", hostname: server.host, port: 0 });
  const to: Deno.NetAddr = { transport: "udp", hostname: server.host, port: server.port };
  let code = 0;
  try {
    outer: for (let round = 0; round < rounds; round++) {
      for (const [i, file] of files.entries()) {
        await sock.send(await Deno.readFile(`${dir}/${file}`), to);
        try {
          await prober.ask(round * 1000 + i);
        } catch (err) {
          console.log(`round ${round}: after ${file}: ${(err as Error).message}`);
          console.log(server.proc.describe());
          code = 1;
          break outer;
        }
      }
    }
    if (code === 0) {
      console.log(`${rounds} x ${files.length} inputs replayed one at a time: no failure`);
    }
  } finally {
    sock.close();
    await prober.close();
  }
  Deno.exit(code);
}
