/**
 * netstat: selection and layout from tables, then the real command against
 * `ss -tuanp` taken at the same moment, on sockets a fixture process opens
 * (every kind: listeners, established pairs, IPv4-mapped, TIME_WAIT,
 * FIN_WAIT2/CLOSE_WAIT, UDP, IPv6; in a private namespace also SYN_SENT and
 * SYN_RECV, and there the whole socket set must match).
 */
import {
  endpointText,
  formatTable,
  hiddenNote,
  isListening,
  netstatJson,
  selectSockets,
  type SocketEntry,
  titleLine,
} from "../../lib/sys/netstat.ts";
import type { SocketRow } from "../../lib/sys/proc_net.ts";
import { assertEquals, assertMatch, assertOk } from "../helpers/assert.ts";
import { MAIN } from "../helpers/cli.ts";
import { peerTest } from "../helpers/peers.ts";
import {
  lines,
  must,
  netnsTest,
  onPorts,
  parseSs,
  run,
  socklab,
  ssAndOurs,
  startFixture,
  until,
} from "./tools.ts";

function row(
  proto: "tcp" | "udp",
  state: string | null,
  family: "inet" | "inet6" = "inet",
): SocketRow {
  const any = family === "inet" ? "0.0.0.0" : "::";
  return {
    proto,
    family,
    local: { address: family === "inet" ? "127.0.0.1" : "::1", port: 8080 },
    remote: state === "LISTEN" || state === null
      ? { address: any, port: 0 }
      : { address: "127.0.0.1", port: 40000 },
    state,
    stateCode: 0,
    recvQ: 0,
    sendQ: 0,
    uid: 0,
    inode: 1,
  };
}

const ROWS = [
  row("tcp", "LISTEN"),
  row("tcp", "ESTABLISHED"),
  row("tcp", "TIME_WAIT"),
  row("udp", null),
  row("udp", "ESTABLISHED"),
];

const SELECTIONS: [string, Parameters<typeof selectSockets>[1], number[]][] = [
  ["no flags: TCP and UDP, non-listening only", {
    tcp: false,
    udp: false,
    listening: false,
    all: false,
  }, [1, 2, 4]],
  ["-a: everything", { tcp: false, udp: false, listening: false, all: true }, [0, 1, 2, 3, 4]],
  ["-l: listeners (TCP LISTEN, unconnected UDP)", {
    tcp: false,
    udp: false,
    listening: true,
    all: false,
  }, [0, 3]],
  ["-t -a: TCP only", { tcp: true, udp: false, listening: false, all: true }, [0, 1, 2]],
  ["-u -l: UDP listeners", { tcp: false, udp: true, listening: true, all: false }, [3]],
  ["-t -u -a: both", { tcp: true, udp: true, listening: false, all: true }, [0, 1, 2, 3, 4]],
];

for (const [what, sel, want] of SELECTIONS) {
  Deno.test(`selectSockets() with ${what}`, () => {
    assertEquals(selectSockets(ROWS, sel), want.map((k) => ROWS[k]));
  });
}

Deno.test("isListening() is TCP LISTEN or unconnected UDP", () => {
  assertEquals(ROWS.map(isListening), [true, false, false, true, false]);
});

Deno.test("endpointText() brackets IPv6, shows port 0 as * and uses names when given", () => {
  assertEquals(endpointText("127.0.0.1", 80, "tcp"), "127.0.0.1:80");
  assertEquals(endpointText("::1", 80, "tcp"), "[::1]:80");
  assertEquals(endpointText("::", 0, "tcp"), "[::]:*");
  assertEquals(endpointText("0.0.0.0", 0, "udp"), "0.0.0.0:*");
  const names = {
    host: (a: string) => (a === "127.0.0.1" ? "localhost" : a),
    service: (p: number) => (p === 80 ? "http" : String(p)),
  };
  assertEquals(endpointText("127.0.0.1", 80, "tcp", names), "localhost:http");
  assertEquals(endpointText("0.0.0.0", 80, "tcp", names), "0.0.0.0:http");
});

Deno.test("titleLine() words the selection as netstat does", () => {
  assertEquals(
    titleLine({ tcp: false, udp: false, listening: false, all: true }),
    "Active Internet connections (servers and established)",
  );
  assertEquals(
    titleLine({ tcp: false, udp: false, listening: true, all: false }),
    "Active Internet connections (only servers)",
  );
  assertEquals(
    titleLine({ tcp: false, udp: false, listening: false, all: false }),
    "Active Internet connections (w/o servers)",
  );
});

Deno.test("formatTable() aligns columns and names tcp6/udp6, with PID/program", () => {
  const entries: SocketEntry[] = [
    { ...row("tcp", "LISTEN"), processes: [{ pid: 42, program: "deno" }] },
    { ...row("udp", null, "inet6"), recvQ: 1234, processes: [] },
  ];
  assertEquals(formatTable(entries, { programs: true }), [
    "Proto Recv-Q Send-Q Local Address  Foreign Address State  PID/Program name",
    "tcp        0      0 127.0.0.1:8080 0.0.0.0:*       LISTEN 42/deno",
    "udp6    1234      0 [::1]:8080     [::]:*                 -",
  ]);
});

Deno.test("netstatJson() keeps numbers, adds names only when looked up, and counts hidden processes", () => {
  const listener = row("tcp", "LISTEN");
  const processes = [{ pid: 1, program: "init" }];
  const doc = netstatJson([{ ...listener, processes }], { hidden: 3 });
  // Every field of the row as it is (numbers stay numbers), but the kernel's state code.
  const { stateCode: _, ...fields } = listener;
  assertEquals(doc, { sockets: [{ ...fields, processes }], uninspectedProcesses: 3 });
  const named = netstatJson([row("tcp", "LISTEN")], {
    names: { host: () => "localhost", service: () => "http-alt" },
  });
  const s = (named.sockets as Record<string, Record<string, unknown>>[])[0];
  assertEquals(s.local, {
    address: "127.0.0.1",
    port: 8080,
    host: "localhost",
    service: "http-alt",
  });
  assertEquals(s.remote, { address: "0.0.0.0", port: 0 });
});

Deno.test("hiddenNote() says how many processes permission hid", () => {
  assertMatch(
    hiddenNote(1),
    /^socklab netstat: 1 process could not be inspected \(permission denied\)/,
  );
  assertMatch(hiddenNote(7), /7 processes could not/);
});

Deno.test("netstat --proc on a directory without socket tables: one line, exit 1", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = await run(socklab("netstat", "--proc", dir));
    assertEquals(out.code, 1);
    assertEquals(out.stdout, "");
    assertEquals(
      out.stderr,
      "socklab netstat: not supported on this system: netstat reads the kernel's socket tables from /proc/net (Linux)\n",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("netstat rejects positional arguments and unknown flags with exit 2", async () => {
  for (const args of [["x"], ["--bogus"]]) {
    const out = await run(socklab("netstat", ...args));
    assertEquals(out.code, 2, args.join(" "));
    assertMatch(out.stderr, /usage: socklab netstat/);
  }
});

/** The states the fixture's sockets must show (on its ports). */
function assertFixtureKinds(keys: string[]): void {
  const has = (re: RegExp, what: string) =>
    assertOk(keys.some((k) => re.test(k)), `no ${what} in:\n${keys.join("\n")}`);
  has(/^tcp\|127\.0\.0\.1:\d+\|0\.0\.0\.0:0\|LISTEN /, "IPv4 listener");
  has(/^tcp\|::1:\d+\|:::0\|LISTEN /, "IPv6 listener");
  has(/^tcp\|:::\d+\|:::0\|LISTEN /, "dual-stack listener");
  has(/^tcp\|127\.0\.0\.1:\d+\|127\.0\.0\.1:\d+\|ESTAB /, "IPv4 established pair");
  has(/^tcp\|::1:\d+\|::1:\d+\|ESTAB /, "IPv6 established pair");
  has(/^tcp\|::ffff:127\.0\.0\.1:\d+\|::ffff:127\.0\.0\.1:\d+\|ESTAB /, "IPv4-mapped socket");
  has(/\|TIME-WAIT -$/, "TIME_WAIT (no owner)");
  has(/\|FIN-WAIT-2 \d+$/, "FIN_WAIT2");
  has(/\|CLOSE-WAIT \d+$/, "CLOSE_WAIT");
  has(/^udp\|127\.0\.0\.1:\d+\|0\.0\.0\.0:0\|UNCONN /, "IPv4 UDP");
  has(/^udp\|::1:\d+\|:::0\|UNCONN /, "IPv6 UDP");
  has(/^udp\|:::\d+\|:::0\|UNCONN /, "dual-stack UDP");
}

async function settled(wrap: string[], ports: number[], extra: RegExp[] = []): Promise<void> {
  await until(async () => {
    const ss = lines(onPorts(parseSs(await must([...wrap, "ss", "-tuanp"])), ports));
    return [/TIME-WAIT/, /FIN-WAIT-2/, ...extra].every((re) => ss.some((l) => re.test(l)));
  }, "the fixture's sockets to reach TIME_WAIT and FIN_WAIT2");
}

peerTest("netstat -tuanp --json matches ss -tuanp on the fixture's sockets: set, states and PIDs", [
  "ss",
], async () => {
  await using fixture = await startFixture();
  const ports = [...fixture.ports.tcp, ...fixture.ports.udp];
  await settled([], ports);
  const { want, got } = await ssAndOurs("-tuanp", { ports });
  assertEquals(got, want);
  assertFixtureKinds(got);
  // Every socket the fixture holds is attributed to it.
  const owned = got.filter((l) => !/TIME-WAIT/.test(l));
  assertOk(owned.length >= 14, `expected at least 14 owned sockets, got ${owned.length}`);
  for (const l of owned) assertMatch(l, new RegExp(` ${fixture.ports.pid}$`));
  console.log(`compared ${got.length} sockets with ss (${owned.length} with owner PIDs)`);
});

peerTest(
  "netstat text output lists the fixture's sockets as netstat would, names resolved by default",
  ["ss"],
  async () => {
    await using fixture = await startFixture();
    const [l4, l6] = fixture.ports.tcp;
    const numeric = await must(socklab("netstat", "-tlnp"));
    assertEquals(numeric.split("\n")[0], "Active Internet connections (only servers)");
    assertMatch(
      numeric,
      /^Proto Recv-Q Send-Q Local Address +Foreign Address +State +PID\/Program name$/m,
    );
    assertMatch(
      numeric,
      new RegExp(
        `^tcp +\\d+ +\\d+ 127\\.0\\.0\\.1:${l4} +0\\.0\\.0\\.0:\\* +LISTEN +${fixture.ports.pid}/deno$`,
        "m",
      ),
    );
    assertMatch(
      numeric,
      new RegExp(
        `^tcp6 +\\d+ +\\d+ \\[::1\\]:${l6} +\\[::\\]:\\* +LISTEN +${fixture.ports.pid}/deno$`,
        "m",
      ),
    );
    const named = await must(socklab("netstat", "-tl"));
    assertMatch(
      named,
      new RegExp(`^tcp +\\d+ +\\d+ localhost:${l4} +0\\.0\\.0\\.0:\\* +LISTEN$`, "m"),
    );
  },
);

netnsTest(
  "netstat matches ss on the WHOLE socket set of a private namespace, SYN_SENT and SYN_RECV included",
  ["ss", "ip", "nft"],
  "netstat",
  async (ns) => {
    // Drop the SYN-ACK from port 80 so a handshake stays half done on both sides.
    await must(ns.exec([
      "nft",
      "add table inet t5; add chain inet t5 out { type filter hook output priority 0; }; " +
      "add rule inet t5 out tcp sport 80 tcp flags & (syn | ack) == (syn | ack) drop",
    ]));
    await using fixture = await startFixture(ns.exec([]), ["--syn-port", "80"]);
    const ports = [...fixture.ports.tcp, ...fixture.ports.udp];
    await settled(ns.exec([]), ports, [/SYN-SENT/, /SYN-RECV/]);
    const { want, got } = await ssAndOurs("-tuanp", { wrap: (argv) => ns.exec(argv) });
    assertEquals(got, want);
    assertFixtureKinds(got);
    assertOk(
      got.some((l) => /^tcp\|127\.0\.0\.1:\d+\|127\.0\.0\.1:80\|SYN-SENT \d+$/.test(l)),
      "SYN_SENT",
    );
    assertOk(
      got.some((l) => /^tcp\|127\.0\.0\.1:80\|127\.0\.0\.1:\d+\|SYN-RECV -$/.test(l)),
      "SYN_RECV",
    );
    console.log(`compared the namespace's whole set: ${got.length} sockets`);
    // Names: 127.0.0.1 is localhost (/etc/hosts) and port 80 is http (/etc/services).
    const named = await must(ns.exec(socklab("netstat", "-tl")));
    assertMatch(named, /^tcp +\d+ +\d+ localhost:http +0\.0\.0\.0:\* +LISTEN$/m);
  },
  { root: true },
);

/** A deno binary that user nobody can run (the npm one lives under /root). */
async function denoForNobody(dir: string): Promise<string> {
  const probe = await run([
    "setpriv",
    "--reuid=65534",
    "--regid=65534",
    "--clear-groups",
    Deno.execPath(),
    "--version",
  ]);
  if (probe.code === 0) return Deno.execPath();
  const copy = `${dir}/deno`;
  await Deno.copyFile(Deno.execPath(), copy);
  await Deno.chmod(copy, 0o755);
  return copy;
}

peerTest(
  "netstat -p as an unprivileged user says permission hid other users' processes",
  ["ss", "setpriv"],
  async () => {
    await using fixture = await startFixture();
    const dir = await Deno.makeTempDir();
    try {
      await Deno.chmod(dir, 0o777);
      const deno = await denoForNobody(dir);
      const asNobody = (...args: string[]) => [
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        deno,
        "run",
        "-A",
        "--quiet",
        MAIN,
        ...args,
      ];
      const env = { DENO_DIR: `${dir}/cache`, HOME: dir };
      const text = await run(asNobody("netstat", "-tlnp"), { env, timeoutMs: 60_000 });
      assertEquals(text.code, 0, text.stderr);
      assertMatch(
        text.stderr,
        /^socklab netstat: \d+ process(es)? could not be inspected \(permission denied\), so sockets they hold show no PID; run as root to see every owner\n$/,
      );
      assertMatch(
        text.stdout,
        new RegExp(`127\\.0\\.0\\.1:${fixture.ports.tcp[0]} .* LISTEN +-$`, "m"),
      );
      const json = await run(asNobody("netstat", "-tlnp", "--json"), { env, timeoutMs: 60_000 });
      const doc = JSON.parse(json.stdout);
      assertOk(doc.uninspectedProcesses > 0);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
  { root: true },
);

peerTest(
  "netstat on a system without /proc: one 'not supported on this system' line, exit 1",
  ["unshare", "mount"],
  async () => {
    const out = await run([
      "unshare",
      "--mount",
      "--propagation",
      "private",
      "sh",
      "-c",
      `mount -t tmpfs none /proc && exec ${
        socklab("netstat", "-tuan").map((a) => `'${a}'`).join(" ")
      }`,
    ]);
    assertEquals(out.code, 1);
    assertEquals(out.stdout, "");
    assertMatch(out.stderr, /^socklab netstat: not supported on this system: .*\n$/);
  },
  { root: true },
);

Deno.test("netstat -tln text and JSON agree on the rows they show", async () => {
  await using fixture = await startFixture();
  const port = fixture.ports.tcp[0];
  const [text, json] = await Promise.all([
    must(socklab("netstat", "-tln")),
    must(socklab("netstat", "-tln", "--json")),
  ]);
  const doc = JSON.parse(json) as { sockets: { local: { port: number }; state: string }[] };
  assertOk(doc.sockets.some((s) => s.local.port === port && s.state === "LISTEN"));
  assertMatch(text, new RegExp(`127\\.0\\.0\\.1:${port} `));
});
