import { assertEquals, assertMatch } from "../helpers/assert.ts";
import { testBadInputs, textRequestReplies } from "../helpers/bad_inputs.ts";
import { argv, runCli } from "../helpers/cli.ts";
import { expectCleanStop, startServer } from "../helpers/server.ts";
import { runRatesServer } from "../../lib/rates/server.ts";
import { Probe, serveInProcess } from "../helpers/udp_probe.ts";
import { ECB_XML, SPEC_CSV } from "./table_file_test.ts";

const START = /^socklab rates-server: listening on UDP (\S+)$/;
const USD_LINE = "1 USD = 0.653624 GBP, 1.00481 CAD, 0.751033 EUR, 1.07338 AUD";

/** rates-server on 127.0.0.1, a free port, with `extra` flags. */
function startRates(...extra: string[]) {
  return startServer(argv`rates-server --port 0 --bind 127.0.0.1 ${extra}`, START);
}

async function withFile<T>(
  text: string,
  ext: string,
  fn: (path: string) => Promise<T>,
): Promise<T> {
  const path = await Deno.makeTempFile({ prefix: "socklab-rates-", suffix: ext });
  try {
    await Deno.writeTextFile(path, text);
    return await fn(path);
  } finally {
    await Deno.remove(path);
  }
}

Deno.test("rates-client gets the SPEC's USD line and converts 100 USD into EUR", async () => {
  await using server = await startRates();
  assertEquals(
    await server.proc.stdout.waitFor(/ currencies from /),
    "socklab rates-server: 5 currencies from built-in table (x-rates.com, April 30, 2010)",
  );
  const usd = await runCli(argv`rates-client 127.0.0.1 USD --port ${server.port}`);
  assertEquals([usd.code, usd.stdout, usd.stderr], [0, `${USD_LINE}\n`, ""]);
  const convert = await runCli(argv`rates-client ${server.at()} 100 usd EUR`);
  assertEquals([convert.code, convert.stdout], [0, "100 USD = 75.1033 EUR\n"]);
  await expectCleanStop(server.proc);
});

Deno.test("rates-client shows an ERR reply on stderr and exits 1; the server keeps serving", async () => {
  await using server = await startRates();
  const bad = await runCli(argv`rates-client 127.0.0.1 XYZ --port ${server.port}`);
  assertEquals(bad.code, 1);
  assertEquals(
    bad.stderr,
    "socklab rates-client: server replied: ERR unknown currency XYZ (known: USD GBP CAD EUR AUD)\n",
  );
  const good = await runCli(argv`rates-client 127.0.0.1 GBP USD --port ${server.port}`);
  assertEquals(good.stdout, "1 GBP = 1.52993 USD\n");
});

Deno.test("rates-client without a code prints its usage and exits 2", async () => {
  const r = await runCli(argv`rates-client localhost`);
  assertEquals(r.code, 2);
  assertMatch(r.stderr, /^usage: socklab rates-client SERVER\[:PORT\] \[AMOUNT\] CODE \[TARGET\]/m);
});

Deno.test("rates-server --rates serves a CSV matrix in the SPEC's layout", async () => {
  const csv = SPEC_CSV.replace("USD,1,1.52993", "USD,1,1.6");
  await withFile(csv, ".csv", async (path) => {
    await using server = await startRates("--rates", path);
    assertEquals(
      await server.proc.stdout.waitFor(/ currencies from /),
      `socklab rates-server: 5 currencies from "${path}"`,
    );
    const r = await runCli(argv`rates-client 127.0.0.1 GBP USD --port ${server.port}`);
    assertEquals(r.stdout, "1 GBP = 1.6 USD\n", "the file's cell, not the built-in one");
  });
});

Deno.test("rates-server --rates serves the ECB's XML with cross rates", async () => {
  await withFile(ECB_XML, ".xml", async (path) => {
    await using server = await startRates("--rates", path);
    assertEquals(
      await server.proc.stdout.waitFor(/ currencies from /),
      `socklab rates-server: 5 currencies from "${path}" (ECB reference rates of 2024-05-10)`,
    );
    const eur = await runCli(argv`rates-client 127.0.0.1 EUR --port ${server.port}`);
    assertEquals(eur.stdout, "1 EUR = 1.0783 USD, 167.88 JPY, 0.86075 GBP, 0.9766 CHF\n");
    const cross = await runCli(argv`rates-client 127.0.0.1 100 GBP USD --port ${server.port}`);
    assertEquals(cross.stdout, "100 GBP = 125.274 USD\n"); // 100 * 1.0783 / 0.86075 = 125.2744...
  });
});

Deno.test("rates-server refuses a malformed rates file at start-up, naming the line", async () => {
  await withFile(",USD,EUR\nUSD,1,1\nEUR,1,x\n", ".csv", async (path) => {
    const r = await runCli(argv`rates-server --port 0 --bind 127.0.0.1 --rates ${path}`);
    assertEquals(r.code, 1);
    assertEquals(
      r.stderr,
      `socklab rates-server: rates file "${path}" line 3: EUR per EUR: "x" is not a positive number\n`,
    );
    assertEquals(r.stdout, "", "it never started listening");
  });
  const missing = await runCli(argv`rates-server --rates /nonexistent/rates.csv`);
  assertEquals(missing.code, 1);
  assertMatch(
    missing.stderr,
    /^socklab rates-server: cannot read rates file "\/nonexistent\/rates\.csv": /,
  );
});

// What rates-server answers to each bad input, then to USD.
testBadInputs({
  service: "rates-server",
  run: runRatesServer,
  replies: {
    ...textRequestReplies(256),
    "only NULs": "ERR empty request (send a code such as USD)",
  },
  then: ["USD", USD_LINE],
});

Deno.test("rates-server answers an empty datagram with ERR", async () => {
  await using server = serveInProcess(runRatesServer);
  await using probe = new Probe(server.port);
  assertEquals(await probe.ask(""), "ERR empty request (send a code such as USD)");
});

Deno.test("rates-client --json gives the reply and its values", async () => {
  await using server = await startRates();
  const usd = await runCli(argv`rates-client ${server.at()} USD --json`);
  assertEquals(JSON.parse(usd.stdout), {
    server: server.at(),
    request: "USD",
    reply: USD_LINE,
    ok: true,
    amount: 1,
    code: "USD",
    values: { GBP: 0.653624, CAD: 1.00481, EUR: 0.751033, AUD: 1.07338 },
  });
  const bad = await runCli(argv`rates-client ${server.at()} XYZ --json`);
  assertEquals([bad.code, JSON.parse(bad.stdout).ok], [1, false]);
  assertMatch(JSON.parse(bad.stdout).reply, /^ERR unknown currency XYZ/);
});
