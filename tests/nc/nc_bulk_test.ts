/**
 * 100 MB of random bytes through `socklab nc` in both directions against
 * nc.openbsd and socat (and itself), through files and through pipes: the
 * SHA-256 of what arrives must equal the source's.
 */
import { assertEquals } from "../helpers/assert.ts";
import { peerTest } from "../helpers/peers.ts";
import { freePort, portIn, Proc, randomFile, sha256File, socklab, tcpListening } from "./procs.ts";

const SIZE = 100 * 1000 * 1000;

let source: { dir: string; path: string; sha: string } | undefined;

/** The shared 100 MB random file (made once per test run of this module). */
async function sourceFile(): Promise<{ dir: string; path: string; sha: string }> {
  if (!source) {
    const dir = await Deno.makeTempDir({ prefix: "socklab-nc-test-" });
    const path = `${dir}/source.bin`;
    await randomFile(path, SIZE);
    source = { dir, path, sha: await sha256File(path) };
  }
  return source;
}

globalThis.addEventListener("unload", () => {
  if (source) Deno.removeSync(source.dir, { recursive: true });
});

/** Receives with `socklab nc -l` into a file while `sender(port)` sends the source. */
async function intoSocklab(sender: (port: number) => string[], senderStdin: "file" | "cat") {
  const src = await sourceFile();
  const dst = `${src.dir}/received-${crypto.randomUUID()}.bin`;
  try {
    await using receiver = new Proc(socklab("nc", "-lv", "-p", "0", "127.0.0.1"), {
      stdin: "null",
      stdout: dst,
    });
    const port = portIn(await receiver.stderr.waitFor(/listening on TCP/));
    const argv = senderStdin === "file"
      ? sender(port)
      : ["sh", "-c", `cat '${src.path}' | exec "$@"`, "sh", ...sender(port)];
    await using s = new Proc(argv, { stdin: senderStdin === "file" ? src.path : "null" });
    const [ss, rs] = await Promise.all([s.exit(120_000), receiver.exit(120_000)]);
    assertEquals(
      [ss.code, rs.code],
      [0, 0],
      `sender: ${s.stderr.text} receiver: ${receiver.stderr.text}`,
    );
    assertEquals((await Deno.stat(dst)).size, SIZE);
    assertEquals(await sha256File(dst), src.sha);
  } finally {
    await Deno.remove(dst).catch(() => {});
  }
}

/** Sends the source with `socklab nc` to `receiver(port)` writing into a file. */
async function fromSocklab(receiver: (port: number) => string[], stdin: "file" | "cat") {
  const src = await sourceFile();
  const dst = `${src.dir}/received-${crypto.randomUUID()}.bin`;
  const port = freePort();
  try {
    await using r = new Proc(receiver(port), { stdin: "null", stdout: dst });
    await tcpListening(port);
    const send = socklab("nc", "127.0.0.1", String(port));
    const argv = stdin === "file"
      ? send
      : ["sh", "-c", `cat '${src.path}' | exec "$@"`, "sh", ...send];
    await using s = new Proc(argv, { stdin: stdin === "file" ? src.path : "null" });
    const [ss, rs] = await Promise.all([s.exit(120_000), r.exit(120_000)]);
    assertEquals([ss.code, rs.code], [0, 0], `sender: ${s.stderr.text} receiver: ${r.stderr.text}`);
    assertEquals((await Deno.stat(dst)).size, SIZE);
    assertEquals(await sha256File(dst), src.sha);
  } finally {
    await Deno.remove(dst).catch(() => {});
  }
}

peerTest(
  "100 MB from nc.openbsd -N into socklab nc -l arrive intact",
  ["nc.openbsd", "sha256sum"],
  async () => {
    await intoSocklab((port) => ["nc.openbsd", "-N", "127.0.0.1", String(port)], "file");
  },
);

peerTest("100 MB from socat into socklab nc -l arrive intact", ["socat", "sha256sum"], async () => {
  await intoSocklab((port) => ["socat", "-u", "STDIN", `TCP:127.0.0.1:${port}`], "file");
});

peerTest("100 MB from socklab nc into nc.openbsd -l arrive intact (stdin from a pipe)", [
  "nc.openbsd",
  "sha256sum",
], async () => {
  await fromSocklab((port) => ["nc.openbsd", "-l", "127.0.0.1", String(port)], "cat");
});

peerTest(
  "100 MB from socklab nc into socat TCP-LISTEN arrive intact",
  ["socat", "sha256sum"],
  async () => {
    await fromSocklab(
      (port) => ["socat", "-u", `TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr`, "STDOUT"],
      "file",
    );
  },
);

peerTest("100 MB from socklab nc to socklab nc -l through pipes on both ends arrive intact", [
  "sha256sum",
], async () => {
  const src = await sourceFile();
  // The receiver's stdout is a pipe into sha256sum: the asynchronous write path.
  await using receiver = new Proc([
    "sh",
    "-c",
    `"$@" | sha256sum`,
    "sh",
    ...socklab("nc", "-lv", "-p", "0", "127.0.0.1"),
  ], { stdin: "null" });
  const port = portIn(await receiver.stderr.waitFor(/listening on TCP/));
  await using sender = new Proc(
    [
      "sh",
      "-c",
      `cat '${src.path}' | exec "$@"`,
      "sh",
      ...socklab("nc", "127.0.0.1", String(port)),
    ],
    { stdin: "null" },
  );
  const [ss, rs] = await Promise.all([sender.exit(120_000), receiver.exit(120_000)]);
  assertEquals([ss.code, rs.code], [0, 0], `${sender.stderr.text} ${receiver.stderr.text}`);
  assertEquals(receiver.stdout.text.split(" ")[0], src.sha);
});
