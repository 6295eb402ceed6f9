/**
 * Crashes and restarts: SIGTERM on every server of the table while clients
 * are connected (exit 0, clients see the close, port free); SIGKILL of an
 * exec server (the binder lets its record expire, the client fails over);
 * SIGKILL of the binder itself (exec servers re-register when it is back);
 * SIGKILL of a chat client in the middle of a broadcast (the others get
 * every message).
 * @module
 */
import { assertEquals, assertMatch, assertOk } from "../helpers/assert.ts";
import { argv, runCli, socklabArgv } from "../helpers/cli.ts";
import { isAlive, socketsOnPort } from "../helpers/procfs.ts";
import { startServer } from "./harness.ts";
import { connectLines, type ConnLines, sendLine } from "./probes.ts";
import { SERVERS } from "./servers.ts";
import { WatchedProcess } from "./watched.ts";

function entry(name: string) {
  const e = SERVERS.find((s) => s.name === name);
  if (!e) throw new Error(`no server "${name}" in servers.ts`);
  return e;
}

/** Resolves when `conn` sees EOF or a reset (the server closed it); rejects after `ms`. */
async function closedWithin(conn: Deno.TcpConn, ms: number): Promise<void> {
  const buf = new Uint8Array(4096);
  const deadline = performance.now() + ms;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), ms)));
  try {
    while (performance.now() < deadline) {
      const got = await Promise.race([conn.read(buf).catch(() => null), timeout]);
      if (got === "timeout") throw new Error(`the connection was still open after ${ms} ms`);
      if (got === null) return;
    }
    throw new Error(`the connection was still open after ${ms} ms`);
  } finally {
    clearTimeout(timer);
  }
}

for (const e of SERVERS) {
  Deno.test(`${e.name} exits 0 on SIGTERM with clients connected, closing them and its port`, async () => {
    await using server = await startServer(e);
    const prober = await e.probe(server);
    const idle: Deno.TcpConn[] = [];
    try {
      await prober.ask(0); // it serves...
      if (e.transport === "tcp") {
        for (let i = 0; i < 3; i++) {
          idle.push(await Deno.connect({ hostname: server.host, port: server.port }));
        }
      }
      // ...and still does with idle clients connected (the lecture's
      // tcp-server serves one at a time: the others wait in its backlog).
      if (!e.oneAtATime) await prober.ask(1);
      const pid = server.proc.pid;
      const t0 = performance.now();
      server.proc.kill("SIGTERM");
      const status = await server.proc.exit(5000);
      const ms = Math.round(performance.now() - t0);
      assertOk(!status.timedOut, `still running 5 s after SIGTERM:\n${server.proc.describe()}`);
      assertEquals(status.code, 0, `exit code after SIGTERM:\n${server.proc.describe()}`);
      assertOk(!isAlive(pid), "the process is gone");
      for (const c of idle) await closedWithin(c, 2000);
      if (e.needs === "binder") {
        // A registered server unregisters on its way out (SPEC §1).
        await server.companions[0].stdout.waitFor(/^socklab binder: UNREGISTER from /, 2000, true);
      }
      assertEquals(socketsOnPort(server.port, e.transport), [], `port ${server.port} is free`);
      assertEquals(
        server.proc.stdout.crash ?? server.proc.stderr.crash,
        undefined,
        "no stack trace",
      );
      console.log(`${e.name}: SIGTERM -> exit 0 in ${ms} ms, port free`);
    } finally {
      await prober.close();
      for (const c of idle) {
        try {
          c.close();
        } catch {
          // closed already
        }
      }
    }
  });
}

Deno.test("tcp-server exits 0 on SIGTERM while it waits for its operator to type", async () => {
  await using server = await startServer(entry("tcp-server"), { feed: false });
  const conn = await Deno.connect({ hostname: server.host, port: server.port });
  try {
    await server.proc.stdout.waitFor(/^I got a connection from/, 10_000, true);
    server.proc.kill("SIGTERM");
    const status = await server.proc.exit(5000);
    assertOk(!status.timedOut, "it waited for a line nobody types instead of stopping");
    assertEquals(status.code, 0);
    await closedWithin(conn, 2000);
  } finally {
    conn.close();
  }
});

/** Runs exec-client once; returns its exit code, stdout and stderr. */
function execClient(binder: string, ...args: string[]) {
  return runCli(["exec-client", "--binder", binder, ...args], { timeoutMs: 30_000 });
}

Deno.test("a SIGKILLed exec server: clients fail over within one time-out and the binder lets its record expire", async () => {
  // ttl 2 s: the dead server is named for at most 2 s.
  await using binder = await startServer(entry("binder"), { extra: ["--ttl", "2"] });
  const at = `${binder.host}:${binder.port}`;
  const start = () =>
    new WatchedProcess(
      argv`${socklabArgv()} exec-server --binder ${at} --bind 127.0.0.1 --commands MAX`,
    );
  await using a = start();
  await using b = start();
  const portOf = async (p: WatchedProcess) =>
    Number(
      (await p.stdout.waitFor(/^socklab exec-server: listening on UDP \S+:(\d+)$/, 20_000, true))
        .match(/(\d+)$/)![1],
    );
  const [portA, portB] = [await portOf(a), await portOf(b)];
  await a.stdout.waitFor(/^socklab exec-server: registered/, 20_000, true);
  await b.stdout.waitFor(/^socklab exec-server: registered/, 20_000, true);

  const expired = binder.proc.stdout.waitFor(/expired \(.*did not re-register/, 10_000);
  a.kill("SIGKILL");
  await a.exit();
  // Until the record expires the binder may still name the dead server; every
  // call must still succeed, failing over within one short time-out.
  let failovers = 0;
  for (let i = 0; i < 4; i++) {
    const r = await execClient(at, "--timeout", "300", "-v", "MAX", "-1", `${i}00`, "7");
    assertEquals(r.code, 0, r.stderr);
    assertEquals(r.stdout.trim(), `MAX ${i === 0 ? 7 : `${i}00`}`);
    failovers += r.stderr.split("\n").filter((l) => l.includes(String(portA))).length;
  }
  const line = await expired;
  assertMatch(line, new RegExp(`127\\.0\\.0\\.1:${portA}`));
  const list = await execClient(at, "--list");
  assertEquals(list.code, 0, list.stderr);
  assertOk(!list.stdout.includes(String(portA)), `the dead server is gone:\n${list.stdout}`);
  assertOk(list.stdout.includes(String(portB)), `the live server stays:\n${list.stdout}`);
  console.log(
    `exec-server SIGKILL: 4/4 calls answered (${failovers} fail-over notes), record expired`,
  );
});

Deno.test("a SIGKILLed binder comes back on its port and the exec server re-registers by itself", async () => {
  const binderEntry = entry("binder");
  const first = await startServer(binderEntry, { extra: ["--ttl", "3"] });
  const at = `${first.host}:${first.port}`;
  await using exec = new WatchedProcess(
    argv`${socklabArgv()} exec-server --binder ${at} --bind 127.0.0.1 --commands MIN,MAX`,
  );
  try {
    await exec.stdout.waitFor(/^socklab exec-server: registered/, 20_000, true);
    assertEquals((await execClient(at, "MIN", "4", "-2")).stdout.trim(), "MIN -2");
    first.proc.kill("SIGKILL");
    await first.proc.exit();
  } finally {
    await first[Symbol.asyncDispose]();
  }
  // With the binder gone a client fails with one clear line.
  const down = await execClient(at, "--timeout", "300", "--retries", "1", "MAX", "1");
  assertEquals(down.code, 1);
  assertMatch(
    down.stderr,
    /^socklab exec-client: no reply from binder 127\.0\.0\.1:\d+: connection refused \(nothing listens on that port\)\n$/,
  );

  await using again = await startServer(binderEntry, {
    extra: ["--ttl", "3"],
    host: first.host,
    port: first.port,
  });
  // The exec server re-registers every ttl/3 = 1 s without being told.
  const t0 = performance.now();
  await again.proc.stdout.waitFor(
    /^socklab binder: REGISTER MIN MAX from 127\.0\.0\.1:\d+/,
    10_000,
    true,
  );
  const ms = Math.round(performance.now() - t0);
  const up = await execClient(at, "MAX", "4", "-2", "40");
  assertEquals(up.code, 0, up.stderr);
  assertEquals(up.stdout.trim(), "MAX 40");
  assertEquals(
    exec.stdout.crash ?? exec.stderr.crash,
    undefined,
    "no stack trace in the exec server",
  );
  console.log(
    `binder SIGKILL + restart on port ${first.port}: exec-server re-registered ${ms} ms after the restart`,
  );
});

Deno.test("a chat client SIGKILLed mid-broadcast is dropped and the others get every message in order", async () => {
  const MESSAGES = 3000;
  await using server = await startServer(entry("chat-server"));
  const join = async (name: string) => {
    const c = await connectLines(server);
    await sendLine(c, `signin ${name}`);
    await c.waitFor(new RegExp(`^OK signed in as ${name}$`));
    return c;
  };
  const alice = await join("alice");
  const bob = await join("bob");
  // The victim is our own chat-client, reading and printing as a person's would.
  await using victim = new WatchedProcess(
    argv`${socklabArgv()} chat-client ${server.host} ${server.port} victim`,
    { stdin: true },
  );
  try {
    await bob.waitFor(/^\*\*\* victim joined$/);
    // alice sends half the messages, the victim dies once it has shown some,
    // and the rest are broadcast while (and after) the server finds out.
    const burst = (from: number, to: number) =>
      sendLine(alice, Array.from({ length: to - from }, (_, i) => `chat m${from + i}`).join("\n"));
    const victimGotSome = victim.stdout.waitFor(/m200$/, 20_000);
    await burst(0, MESSAGES / 2);
    const receive = async (c: ConnLines, who: string) => {
      let next = 0;
      let notice = "";
      while (next < MESSAGES) {
        const line = await c.next(10_000);
        if (line === null) throw new Error(`${who}: connection closed after m${next - 1}`);
        const m = line.match(/^Msg alice says: m(\d+)$/);
        if (m) {
          assertEquals(Number(m[1]), next, `${who} gets the messages in order`);
          next++;
        } else if (line.startsWith("*** victim ") && !line.endsWith(" joined")) {
          notice = line;
        } else if (!line.startsWith("*** ")) {
          throw new Error(`${who} got an unexpected line: ${line}`);
        }
      }
      return notice;
    };
    const received = Promise.all([receive(bob, "bob"), receive(alice, "alice")]);
    received.catch(() => {}); // awaited below; do not let it dangle if the kill step fails
    await victimGotSome;
    victim.kill("SIGKILL");
    for (let i = MESSAGES / 2; i < MESSAGES; i += 100) await burst(i, i + 100);
    await victim.exit();
    const [bobNotice, aliceNotice] = await received;
    // The drop may come before or after the last message; wait for it if after.
    for (const [c, n] of [[bob, bobNotice], [alice, aliceNotice]] as const) {
      const notice = n || await c.waitFor(/^\*\*\* victim /);
      assertMatch(notice, /^\*\*\* victim (left|was disconnected \(.*\))$/);
    }
    await server.proc.stdout.waitFor(/^socklab chat-server: dropped victim /, 5000, true);
    await sendLine(bob, "who");
    assertEquals(await bob.waitFor(/^Users:/), "Users: alice bob");
    assertEquals(server.proc.stdout.crash ?? server.proc.stderr.crash, undefined, "no stack trace");
    console.log(
      `chat SIGKILL mid-broadcast: ${MESSAGES}/${MESSAGES} messages to each survivor, in order`,
    );
  } finally {
    await alice.close();
    await bob.close();
  }
});
