import { assertEquals, assertMatch, assertOk, rejects, throws } from "../helpers/assert.ts";
import { UsageError } from "../../lib/cli/errors.ts";
import { parseWebAddress } from "../../lib/demo/main.ts";
import { runCli, spawnCli } from "../helpers/cli.ts";
import { LAB_SERVICES, SERVE_PLAN } from "../../lib/demo/services.ts";
import { serveLab } from "../../lib/demo/serve.ts";

/** One line of the address table: service, transport, address:port. */
const ROW = /^(\S+(?: --udp)?) +(UDP|TCP) +(127\.0\.0\.1):(\d+) +try: (.+)$/;

interface Row {
  service: string;
  transport: "UDP" | "TCP";
  port: number;
  tryIt: string;
}

function rowsOf(lines: readonly string[]): Row[] {
  return lines.flatMap((l) => {
    const m = ROW.exec(l);
    return m
      ? [{ service: m[1], transport: m[2] as "UDP" | "TCP", port: Number(m[4]), tryIt: m[5] }]
      : [];
  });
}

/** Binds `port` again (the proof that nothing holds it any more) and frees it at once. */
function bindAgain(row: Row): void {
  if (row.transport === "UDP") {
    Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: row.port }).close();
  } else {
    Deno.listen({ hostname: "127.0.0.1", port: row.port }).close();
  }
}

Deno.test("socklab demo --serve prints every service, serves clients, and frees every port on Ctrl-C", async () => {
  await using lab = spawnCli(["demo", "--serve"], { stdin: false });
  await lab.stdout.waitFor(/^chat-server --udp +UDP /, 20_000);
  const head = lab.stdout.lines.findIndex((l) => l.startsWith("socklab demo --serve:"));
  assertMatch(
    lab.stdout.lines[head],
    /^socklab demo --serve: the lab is running on 127\.0\.0\.1; Ctrl-C stops it$/,
  );
  const rows = rowsOf(lab.stdout.lines);
  assertEquals(rows.map((r) => r.service), [...SERVE_PLAN]);
  assertEquals(
    new Set(rows.map((r) => `${r.transport}:${r.port}`)).size,
    rows.length,
    "no port twice",
  );
  const port = (name: string) => rows.find((r) => r.service === name)!.port;

  // Two services through their own clients, as a student would from the printed lines.
  const rates = await runCli(["rates-client", `127.0.0.1:${port("rates-server")}`, "USD"]);
  assertEquals(rates.code, 0, rates.stderr);
  assertEquals(rates.stdout.trim(), "1 USD = 0.653624 GBP, 1.00481 CAD, 0.751033 EUR, 1.07338 AUD");
  const exec = await runCli([
    "exec-client",
    "--binder",
    `127.0.0.1:${port("binder")}`,
    "MAX",
    "1",
    "5",
    "3",
  ]);
  assertEquals(exec.code, 0, exec.stderr);
  assertMatch(exec.stdout, /^MAX 5$/m);
  // The servers' logs follow the table, prefixed with the service's name.
  await lab.stdout.waitFor(/^\[binder\] .*LOOKUP MAX/);

  lab.kill("SIGINT");
  const status = await lab.exit(15_000);
  assertEquals(status.code, 0, lab.stderr.text);
  assertEquals(lab.stderr.text, "");
  assertMatch(lab.stdout.lines.at(-1)!, /^socklab demo --serve: stopped 10 services$/);
  // The exec-servers said goodbye while the binder still answered.
  assertEquals(
    lab.stdout.lines.filter((l) => /^\[exec-server \d\] .*unregistered/.test(l)).length,
    2,
  );
  for (const row of rows) bindAgain(row);
});

Deno.test("socklab demo --serve --quiet prints the table only", async () => {
  const out: string[] = [];
  const controller = new AbortController();
  const serving = serveLab({
    signal: controller.signal,
    quiet: true,
    plan: ["udp-server", "rates-server"],
    print: (l) => {
      out.push(l);
      if (l.startsWith("rates-server")) controller.abort();
    },
  });
  assertEquals(await serving, 0);
  assertEquals(out.length, 4, out.join("\n"));
  assertEquals(rowsOf(out).map((r) => r.service), ["udp-server", "rates-server"]);
  assertMatch(out[3], /stopped 2 services/);
});

Deno.test("socklab demo --serve --default-ports binds the SPEC's port", async () => {
  const out: string[] = [];
  const controller = new AbortController();
  const code = await serveLab({
    signal: controller.signal,
    defaultPorts: true,
    quiet: true,
    plan: ["registry-server"],
    print: (l) => {
      out.push(l);
      if (ROW.test(l)) controller.abort();
    },
  });
  assertEquals(code, 0);
  assertEquals(rowsOf(out).map((r) => [r.service, r.transport, r.port]), [[
    "registry-server",
    "UDP",
    1503,
  ]]);
});

Deno.test("socklab demo --serve names the service that cannot start and stops the ones already started", async () => {
  // Hold the rates port: --default-ports must then fail on rates-server.
  const held = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 1502 });
  const out: string[] = [];
  try {
    await rejects(
      serveLab({
        signal: new AbortController().signal,
        defaultPorts: true,
        plan: ["binder", "rates-server"],
        print: (l) => out.push(l),
      }),
      /^cannot start rates-server: cannot bind UDP 127\.0\.0\.1:1502: address already in use$/,
    );
  } finally {
    held.close();
  }
  assertEquals(rowsOf(out), [], "no table for a lab that did not start");
  // The binder started first and was stopped: its default port is free again.
  Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 5500 }).close();
});

Deno.test("socklab demo rejects --bind without --serve (exit 2)", async () => {
  const { code, stderr } = await runCli(["demo", "--bind", "127.0.0.1"]);
  assertEquals(code, 2);
  assertMatch(stderr, /--bind needs --serve/);
});

Deno.test("the lab table names each service once per transport, with the SPEC's default ports", () => {
  const keys = LAB_SERVICES.map((s) => `${s.name}/${s.transport}`);
  assertEquals(new Set(keys).size, keys.length);
  const ports = Object.fromEntries(LAB_SERVICES.map((s) => [s.name, s.defaultPort]));
  assertEquals(ports, {
    "udp-server": 1500,
    "time-server": 1501,
    "rates-server": 1502,
    "registry-server": 1503,
    "tcp-server": 5000,
    binder: 5500,
    "exec-server": 0,
    "chat-server": 5600,
    "chat-server --udp": 5600,
  });
  for (const name of SERVE_PLAN) assertOk(LAB_SERVICES.some((s) => s.name === name), name);
});

Deno.test("parseWebAddress() takes [HOST:]PORT, loopback by default", () => {
  assertEquals(parseWebAddress("8080"), { hostname: "127.0.0.1", port: 8080 });
  assertEquals(parseWebAddress("0"), { hostname: "127.0.0.1", port: 0 });
  assertEquals(parseWebAddress("0.0.0.0:9000"), { hostname: "0.0.0.0", port: 9000 });
  assertEquals(parseWebAddress("[::1]:0"), { hostname: "::1", port: 0 });
  for (const bad of ["localhost", "70000", "host:x", ""]) {
    throws(() => parseWebAddress(bad), /^--web: /, UsageError);
  }
});

Deno.test("socklab demo rejects --web without --serve (exit 2)", async () => {
  const { code, stderr } = await runCli(["demo", "--web", "0"]);
  assertEquals(code, 2);
  assertMatch(stderr, /--web needs --serve/);
});

Deno.test("socklab demo --serve --web prints the console's URL after the table and serves the services' metrics", async () => {
  const out: string[] = [];
  const controller = new AbortController();
  let url = "";
  let listening!: () => void;
  const ready = new Promise<void>((resolve) => (listening = resolve));
  const serving = serveLab({
    signal: controller.signal,
    quiet: true,
    plan: ["time-server", "rates-server"],
    web: { hostname: "127.0.0.1", port: 0 },
    print: (l) => {
      out.push(l);
      const m = /lab console at (http:\S+) \(Prometheus metrics at \1metrics\)$/.exec(l);
      if (m) [url] = [m[1], listening()];
    },
  });
  await Promise.race([ready, serving]);
  try {
    assertMatch(out[3] ?? "", /^socklab demo --serve: lab console at http:\/\/127\.0\.0\.1:\d+\//);
    const text = await (await fetch(`${url}metrics`)).text();
    assertMatch(
      text,
      /^socklab_service_info\{service="rates-server",transport="udp",address="127\.0\.0\.1:\d+"\} 1$/m,
    );
    assertMatch(text, /^socklab_service_up\{service="time-server"\} 1$/m);
  } finally {
    controller.abort();
  }
  assertEquals(await serving, 0);
  // The console's port is free again.
  const port = Number(new URL(url).port);
  Deno.listen({ hostname: "127.0.0.1", port }).close();
});

Deno.test("socklab demo --serve --web fails on a busy console port before starting any service", async () => {
  using held = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const out: string[] = [];
  await rejects(
    serveLab({
      signal: new AbortController().signal,
      plan: ["registry-server"],
      web: { hostname: "127.0.0.1", port: held.addr.port },
      print: (l) => out.push(l),
    }),
    new RegExp(`^cannot listen on HTTP 127\\.0\\.0\\.1:${held.addr.port}: address already in use$`),
  );
  assertEquals(out, []);
});
