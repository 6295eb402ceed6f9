/**
 * `socklab CMD | head -1` (issue 15, item 2): the reader leaving early is its
 * choice, so every command stops silently with status 0 (under bash's
 * pipefail, so a non-zero status of socklab would show). Outputs larger than
 * a pipe's buffer make sure the command is still writing when head exits.
 */
import { assertEquals } from "../helpers/assert.ts";
import { socklabArgv } from "../helpers/cli.ts";
import { peerTest } from "../helpers/peers.ts";

const SOCKLAB = socklabArgv().map((a) => `'${a}'`).join(" ");

/** Runs `socklab ARGS | head -1` under pipefail: status, stdout, stderr. */
async function intoHead(args: string): Promise<[number, string, string]> {
  const out = await new Deno.Command("bash", {
    args: ["-c", `set -o pipefail; ${SOCKLAB} ${args} | head -1`],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const dec = new TextDecoder();
  return [out.code, dec.decode(out.stdout), dec.decode(out.stderr)];
}

/** 30,000 arguments, expanded by bash (the output is about 500 KB). */
const MANY = "$(seq 0 29999)";

const CASES: [string, string, RegExp][] = [
  ["inet ntoa with 30,000 values (about 500 KB)", `inet ntoa ${MANY}`, /^0 +0\.0\.0\.0\n$/],
  ["inet ntoa --json with 30,000 values", `inet ntoa --json ${MANY}`, /^\[\n$/],
  ["netstat -tuan", "netstat -tuan", /^Active Internet connections/],
  ["netstat -s", "netstat -s", /^Ip:\n$/],
  ["netstat -xa", "netstat -xa", /^Active UNIX domain sockets/],
  ["ifconfig -a", "ifconfig -a", /^\S+: flags=/],
  ["getaddrinfo with two names", "getaddrinfo localhost localhost", /^\S+ +STREAM localhost\n$/],
  ["info --json", "info --json", /^\{\n$/],
  ["--help", "--help", /^socklab /],
];

for (const [what, args, first] of CASES) {
  peerTest(
    `socklab ${what} | head -1: one line, no message, status 0`,
    ["bash", "head"],
    async () => {
      const [code, stdout, stderr] = await intoHead(args);
      assertEquals([code, stderr], [0, ""]);
      assertEquals(first.test(stdout), true, stdout);
    },
  );
}

peerTest("socklab nc | head -1 while the peer is still sending: status 0, no message", [
  "bash",
  "head",
], async () => {
  await using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const sending = (async () => {
    using conn = await listener.accept();
    const line = new TextEncoder().encode("x".repeat(1023) + "\n");
    try {
      // At most 64 MiB: nc stops reading long before, once head has gone.
      for (let i = 0; i < 65536; i++) await conn.write(line);
    } catch {
      // nc closed the connection: what this test waits for
    }
  })();
  const [code, stdout, stderr] = await intoHead(`nc -d 127.0.0.1 ${port}`);
  await sending;
  assertEquals([code, stderr, stdout.length], [0, "", 1024]);
});
