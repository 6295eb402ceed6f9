/**
 * nc's zero-copy path (lib/nc/zero_copy.ts: sendfile from a file on stdin,
 * splice into a file or /dev/null on stdout) runs when both ends of nc are
 * files or devices, as in `nc HOST PORT < file > /dev/null` and
 * `nc -l > file < /dev/null`. Each test runs on that path, on its read + send
 * fallback for devices sendfile refuses (`SOCKLAB_NC=read`), and on the
 * portable loops (`SOCKLAB_NC=portable`): the bytes, the half-close, -w and
 * the summary must be the same.
 */
import { assertEquals, assertMatch } from "../helpers/assert.ts";
import { peerTest } from "../helpers/peers.ts";
import { freePort, portIn, Proc, randomFile, sha256File, socklab, tcpListening } from "./procs.ts";

const SIZE = 64 * 1000 * 1000;
const PATHS: [string, Record<string, string>][] = [
  ["zero-copy", {}],
  ["zero-copy, read + send", { SOCKLAB_NC: "read" }],
  ["portable", { SOCKLAB_NC: "portable" }],
];

/** socklab nc with `env` in front (through env(1), so Proc's redirections still apply). */
function nc(env: Record<string, string>, ...args: string[]): string[] {
  return ["env", ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...socklab("nc", ...args)];
}

async function withSource(fn: (dir: string, src: string, sha: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "socklab-nc-zc-" });
  try {
    const src = `${dir}/source.bin`;
    await randomFile(src, SIZE);
    await fn(dir, src, await sha256File(src));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

for (const [path, env] of PATHS) {
  peerTest(
    `${path}: a file through socklab nc (stdout /dev/null) into socklab nc -l (into a file) arrives intact`,
    [
      "sha256sum",
    ],
    async () => {
      await withSource(async (dir, src, sha) => {
        const dst = `${dir}/received.bin`;
        await using receiver = new Proc(nc(env, "-lv", "-p", "0", "127.0.0.1"), {
          stdin: "null",
          stdout: dst,
        });
        const port = portIn(await receiver.stderr.waitFor(/listening on TCP/));
        await using sender = new Proc(nc(env, "-v", "127.0.0.1", String(port)), {
          stdin: src,
          stdout: "/dev/null",
        });
        const [s, r] = await Promise.all([sender.exit(60_000), receiver.exit(60_000)]);
        assertEquals([s.code, r.code], [0, 0], `${sender.stderr.text} ${receiver.stderr.text}`);
        assertEquals(await sha256File(dst), sha);
        assertMatch(sender.stderr.text, /sent 64000000 bytes, received 0 bytes/);
        assertMatch(receiver.stderr.text, /sent 0 bytes, received 64000000 bytes/);
      });
    },
  );

  peerTest(
    `${path}: a file through socklab nc to an echoing socat comes back whole (both ways at once)`,
    [
      "socat",
      "sha256sum",
    ],
    async () => {
      await withSource(async (dir, src, sha) => {
        const port = freePort();
        const back = `${dir}/echoed.bin`;
        await using echo = new Proc([
          "socat",
          `TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr`,
          "PIPE",
        ], {
          stdin: "null",
        });
        await tcpListening(port);
        await using sender = new Proc(nc(env, "-N", "127.0.0.1", String(port)), {
          stdin: src,
          stdout: back,
        });
        assertEquals((await sender.exit(60_000)).code, 0, sender.stderr.text);
        assertEquals(await sha256File(back), sha);
        await echo.exit(10_000);
      });
    },
  );

  peerTest(
    `${path}: -w ends a silent connection after SECS with stdin and stdout on devices`,
    [],
    async () => {
      const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const held = listener.accept();
      try {
        const port = String((listener.addr as Deno.NetAddr).port);
        await using client = new Proc(nc(env, "-v", "-w", "1", "127.0.0.1", port), {
          stdin: "/dev/zero",
          stdout: "/dev/null",
        });
        // /dev/zero never ends, but the peer never reads: once the socket buffers
        // are full no data moves either way, and -w 1 closes.
        assertEquals((await client.exit(20_000)).code, 0, client.stderr.text);
        assertMatch(client.stderr.text, /^socklab nc: no data for 1 s: closing$/m);
      } finally {
        (await held).close();
        listener.close();
      }
    },
  );
}
