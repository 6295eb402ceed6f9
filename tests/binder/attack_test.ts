/**
 * Issue 17's attack rows that concern the binder and the exec servers, each
 * reproduced as a hostile neighbour on the lab network would run it (the
 * neighbour is 127.0.0.2, the lab 127.0.0.1), shown fixed, and the figure
 * printed: bytes and factor, who got in.
 */
import { assertEquals, assertMatch, assertOk } from "../helpers/assert.ts";
import { argv, runCli, spawnCli } from "../helpers/cli.ts";
import { UdpSocket } from "../../lib/net/udp.ts";
import { replyBudget } from "../../lib/net/amplification.ts";
import { signRegister } from "../../lib/binder/auth.ts";
import { ask, rawSocket, startBinder, startExecServer } from "./lab.ts";

const encoder = new TextEncoder();

/** A socket on the neighbour's address. */
function neighbour(): UdpSocket {
  return UdpSocket.bind({ hostname: "127.0.0.2", port: 0 });
}

/** `n` commands `C0 ... C(n-1)`. */
function commands(n: number, prefix = "C"): string {
  return Array.from({ length: n }, (_, i) => `${prefix}${i}`).join(" ");
}

Deno.test("attack: LIST at a binder filled from 64 ports of one host: 4 B in, at most 512 B out; the others still get in", async () => {
  await using binder = await startBinder(["--quiet"]);
  const ports = Array.from({ length: 64 }, () => neighbour());
  let accepted = 0;
  let refused = "";
  try {
    for (const sock of ports) {
      const reply = await ask(sock, binder.port, `REGISTER ${commands(64)}`);
      if (reply.startsWith("OK REGISTER")) accepted += 64;
      else refused = reply;
    }
  } finally {
    await Promise.all(ports.map((s) => s.close()));
  }
  // A class's exec server from another address still gets in.
  await using lab = await startExecServer(binder.port);
  console.log(
    `64 ports x 64 commands from 127.0.0.2: ${accepted} records accepted, then "${refused}"; ` +
      `exec-server from 127.0.0.1 registered: yes`,
  );
  assertEquals(accepted, 1024);
  assertEquals(refused, "ERR too many records from 127.0.0.2 (at most 1024 per source)");

  await using probe = rawSocket();
  const before = await probe.request(encoder.encode("LIST"), {
    hostname: "127.0.0.1",
    port: binder.port,
  });
  const outBytes = before.data.length;
  const text = new TextDecoder().decode(before.data);
  const cookie = text.match(/cookie=([0-9a-f]+)"\)$/)?.[1];
  assertOk(cookie, text.split("\n").at(-1));
  const full = await ask(probe, binder.port, `LIST cookie=${cookie}`);
  const fullBytes = encoder.encode(full).length;
  console.log(
    `LIST, 4 B in: ${outBytes} B out (${(outBytes / 4).toFixed(0)}x) to an unvalidated source; ` +
      `after the cookie round trip ${fullBytes} B (the whole table, 1032 records). Before: the ` +
      `table filled up (4096 records) and every source got 65,504 B (16,000x)`,
  );
  assertOk(outBytes <= replyBudget(4), `${outBytes} B > ${replyBudget(4)} B`);
  assertMatch(
    text.split("\n").at(-1)!,
    /^\(\+\d+ more: send "LIST from=\d+ cookie=[0-9a-f]{16}"\)$/,
  );
  assertMatch(
    full,
    /^OK LIST 1032\n/,
    "after the round trip the whole (quota-bounded) table in one page",
  );

  // socklab's own client does the round trips itself and shows the whole table.
  const listed = await runCli(["exec-client", "--binder", binder.at(), "--list"]);
  assertEquals(listed.code, 0, listed.stderr);
  const rows = listed.stdout.trimEnd().split("\n");
  assertEquals(rows[0], `binder ${binder.at()}: 1032 records`);
  assertEquals(rows.length, 2 + 1032, "header, column titles, one row per record");
  assertEquals(rows.filter((r) => r.includes(` ${lab.port} `)).length, 8);
});

Deno.test("attack: REGISTER MAX from a stranger: by default accepted (the lab's rule), --allow keeps it out", async () => {
  // Before (and still without --allow, as the lab expects): 5 of 6 LOOKUPs name the stranger.
  await using open = await startBinder(["--quiet"]);
  await using _server = await startExecServer(open.port, ["--commands", "MAX"]);
  const strangers = Array.from({ length: 5 }, () => neighbour());
  try {
    for (const s of strangers) {
      assertEquals(await ask(s, open.port, "REGISTER MAX"), "OK REGISTER MAX");
    }
    const named = await strangerShare(open.port, 600);
    console.log(`without --allow: ${named} of 600 LOOKUP MAX name the stranger (5 of 6 expected)`);
    assertOk(named > 420 && named < 580, `${named}`);

    await using guarded = await startBinder(["--quiet", "--allow", "127.0.0.1/32"]);
    await using lab = await startExecServer(guarded.port, ["--commands", "MAX"]);
    for (const s of strangers) {
      assertEquals(
        await ask(s, guarded.port, "REGISTER MAX"),
        "ERR REGISTER not allowed from 127.0.0.2 (binder --allow)",
      );
    }
    const after = await strangerShare(guarded.port, 600);
    console.log(`with --allow 127.0.0.1/32: ${after} of 600 LOOKUP MAX name the stranger`);
    assertEquals(after, 0);
    // Everyone may still look up and list.
    assertEquals(await ask(strangers[0], guarded.port, "LOOKUP MAX"), `MAX 127.0.0.1 ${lab.port}`);
  } finally {
    await Promise.all(strangers.map((s) => s.close()));
  }
});

/** How many of `n` LOOKUP MAX name an address on 127.0.0.2. */
async function strangerShare(binderPort: number, n: number): Promise<number> {
  await using sock = rawSocket();
  let named = 0;
  for (let i = 0; i < n; i++) {
    if ((await ask(sock, binderPort, "LOOKUP MAX")).startsWith("MAX 127.0.0.2 ")) named++;
  }
  return named;
}

Deno.test("attack: with --key, unsigned, wrongly signed and replayed REGISTERs are refused; signed exec servers get in", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/key`, "the lab's shared secret, 2026\n");
    await Deno.writeTextFile(`${dir}/wrong`, "a stranger's guess at it, 2026\n");
    await using binder = await startBinder(["--key", `${dir}/key`]);
    await using lab = await startExecServer(binder.port, argv`--commands MAX --key ${dir}/key`);
    await using stranger = neighbour();
    await using owner = rawSocket();
    const key = encoder.encode("the lab's shared secret, 2026");
    const wrong = encoder.encode("a stranger's guess at it, 2026");
    const outcomes = {
      unsigned: await ask(stranger, binder.port, "REGISTER MAX"),
      wrongKey: await ask(stranger, binder.port, signRegister(["MAX"], wrong)),
      // The stranger captured the owner's signed datagram and sends it again from its own address.
      captured: signRegister(["MAX"], key),
    } as Record<string, string>;
    assertEquals(await ask(owner, binder.port, outcomes.captured), "OK REGISTER MAX");
    outcomes.replayed = await ask(stranger, binder.port, outcomes.captured);
    outcomes.stale = await ask(
      stranger,
      binder.port,
      signRegister(["MAX"], key, Date.now() - 60_000),
    );
    assertMatch(outcomes.unsigned, /^ERR REGISTER must be signed/);
    assertEquals(outcomes.wrongKey, "ERR bad signature (not made with this binder's key)");
    assertEquals(
      outcomes.replayed,
      "ERR replayed REGISTER refused (this signature was used before)",
    );
    assertMatch(outcomes.stale, /^ERR signed REGISTER is 60 s old/);
    const named = await strangerShare(binder.port, 100);
    console.log(
      `with --key: unsigned, wrong key, replay and stale REGISTERs refused; ${named} of 100 LOOKUP MAX name the stranger; the signed exec server registered`,
    );
    assertEquals(named, 0);
    assertMatch(lab.proc.stdout.text, /registered MAX with binder/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("attack: MAX 1 with a trailing space (and its siblings) at an exec server and the binder", async () => {
  await using binder = await startBinder();
  await using server = await startExecServer(binder.port);
  await using sock = rawSocket();
  const execCases: [string, string][] = [
    ["MAX 1 ", "MAX 1"],
    ["MAX 1\t", "MAX 1"],
    ["MAX  3   1  2 ", "MAX 3"],
    [" SORTU 2 1", "SORTU 1 2"],
    ["MAX 1 \r\n", "MAX 1"],
    ["MAX 1 \0", "MAX 1"],
  ];
  for (const [request, reply] of execCases) {
    assertEquals(await ask(sock, server.port, request), reply, JSON.stringify(request));
  }
  console.log(`"MAX 1 " at an exec server: before ERR not an integer: "", now "MAX 1"`);
  assertEquals(await ask(sock, binder.port, "LOOKUP MAX "), `MAX 127.0.0.1 ${server.port}`);
  assertMatch(await ask(sock, binder.port, "LIST MAX \t"), /^OK LIST 1\n/);
  assertEquals(await ask(sock, binder.port, "TTL "), "OK TTL 30");
  const oneShot = await runCli(argv`exec-client --binder ${binder.at()} MAX ${"1 "}`);
  assertEquals([oneShot.code, oneShot.stdout], [0, "MAX 1\n"]);
});

Deno.test("attack: no binder or exec-server reply exceeds max(3x, 512) bytes to an unvalidated source", async () => {
  await using binder = await startBinder(["--quiet"]);
  await using server = await startExecServer(binder.port);
  await using sock = neighbour();
  const requests = [
    "LIST",
    "L",
    "TTL",
    "LOOKUP",
    "?",
    "MAX",
    "x".repeat(40),
    `LOOKUP ${"\u00e9".repeat(30)}`,
    "SORTU 1",
    "PERMUTE 3 2 1",
    "FOO 1",
    `REGISTER ${"A".repeat(33)}`,
    "UNREGISTER x",
    "\xff\xfe",
  ];
  let worst = 0;
  for (const port of [binder.port, server.port]) {
    for (const r of requests) {
      const bytes = encoder.encode(r);
      const got = await sock.request(bytes, { hostname: "127.0.0.1", port }, { timeoutMs: 2000 });
      const factor = got.data.length / Math.max(1, bytes.length);
      worst = Math.max(worst, factor);
      assertOk(
        got.data.length <= replyBudget(bytes.length),
        `${JSON.stringify(r)} at ${port}: ${bytes.length} B in, ${got.data.length} B out`,
      );
    }
  }
  console.log(
    `largest reply factor over ${requests.length * 2} requests: ${
      worst.toFixed(1)
    }x (each within max(3x, 512 B))`,
  );
  // A prompt-loop client keeps working through all of it.
  await using client = spawnCli(["exec-client", "--binder", binder.at()]);
  await client.write("MAX 1 2\n");
  await client.stdout.waitFor("MAX 2");
});
