/**
 * Processes for the nc tests: any command (socklab, nc.openbsd, socat) with
 * stdin/stdout from/to files or pipes and stderr read as lines, so a test
 * waits for a status line instead of sleeping; plus random files and their
 * SHA-256.
 * @module
 */
import { assertEquals } from "../helpers/assert.ts";
import { CliProcess, MAIN } from "../helpers/cli.ts";

/** The argv that runs socklab with `args`. */
export function socklab(...args: string[]): string[] {
  return [Deno.execPath(), "run", "-A", "--quiet", MAIN, ...args];
}

/** Where a process's stdin comes from and its stdout goes. */
export interface ProcOptions {
  /** A file to read stdin from, "pipe" (write with `write`), or "null" (default "pipe"). */
  stdin?: string;
  /** A file to write stdout to, or "pipe" (collected in `stdout`) (default "pipe"). */
  stdout?: string;
}

function quote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/**
 * A running process (the helpers' CliProcess) whose stdin and stdout may be
 * files: `sh` redirects them, so bulk data never passes through the test.
 */
export class Proc extends CliProcess {
  constructor(argv: string[], options: ProcOptions = {}) {
    const stdin = options.stdin ?? "pipe";
    const stdout = options.stdout ?? "pipe";
    let redirect = "";
    if (stdin !== "pipe" && stdin !== "null") redirect += ` < ${quote(stdin)}`;
    if (stdout !== "pipe") redirect += ` > ${quote(stdout)}`;
    super(["sh", "-c", `exec "$@"${redirect}`, "sh", ...argv], { stdin: stdin === "pipe" });
  }

  /** Waits for exit (killing it after `timeoutMs`) and for its output to end. */
  override exit(timeoutMs = 30_000): Promise<Deno.CommandStatus> {
    return super.exit(timeoutMs);
  }

  /** Everything written to stdout, as bytes. */
  bytes(): Uint8Array {
    const total = this.stdout.chunks.reduce((n, c) => n + c.length, 0);
    const out = new Uint8Array(total);
    let off = 0;
    for (const c of this.stdout.chunks) {
      out.set(c, off);
      off += c.length;
    }
    return out;
  }
}

/** A port nothing listens on right now (bound, then released). */
export function freePort(hostname = "127.0.0.1"): number {
  const l = Deno.listen({ hostname, port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** A UDP port nothing is bound to right now. */
export function freeUdpPort(hostname = "127.0.0.1"): number {
  const s = Deno.listenDatagram({ transport: "udp", hostname, port: 0 });
  const port = (s.addr as Deno.NetAddr).port;
  s.close();
  return port;
}

/** The port at the end of a status line like `listening on TCP 127.0.0.1:41234`. */
export function portIn(line: string): number {
  const m = /(\d+)\s*$/.exec(line);
  if (!m) throw new Error(`no port in: ${line}`);
  return Number(m[1]);
}

/** Writes `bytes` random bytes to `path`. */
export async function randomFile(path: string, bytes: number): Promise<void> {
  using f = await Deno.open(path, { write: true, create: true, truncate: true });
  const block = new Uint8Array(1 << 20);
  for (let done = 0; done < bytes; done += block.length) {
    for (let k = 0; k < block.length; k += 65536) {
      crypto.getRandomValues(block.subarray(k, k + 65536));
    }
    const part = block.subarray(0, Math.min(block.length, bytes - done));
    let off = 0;
    while (off < part.length) off += await f.write(part.subarray(off));
  }
}

/** SHA-256 of a file as hex (`sha256sum`, which streams). */
export async function sha256File(path: string): Promise<string> {
  const out = await new Deno.Command("sha256sum", { args: [path], stdout: "piped" }).output();
  return new TextDecoder().decode(out.stdout).split(" ")[0];
}

/** Resolves once `ss FLAGS 'sport = :PORT'` lists a socket, polling; else throws `missing` (bounded). */
async function ssLists(flags: string, port: number, missing: string, timeoutMs: number) {
  const deadline = performance.now() + timeoutMs;
  while (true) {
    const out = await new Deno.Command("ss", { args: [flags, `sport = :${port}`], stdout: "piped" })
      .output();
    if (new TextDecoder().decode(out.stdout).trim() !== "") return;
    if (performance.now() > deadline) throw new Error(missing);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Resolves once something listens on TCP `port` (per `ss`), polling; bounded. */
export function tcpListening(port: number, timeoutMs = 10_000): Promise<void> {
  return ssLists("-Htln", port, `nothing listens on TCP ${port}`, timeoutMs);
}

/** Resolves once something is bound to UDP `port` (per `ss`), polling; bounded. */
export function udpBound(port: number, timeoutMs = 10_000): Promise<void> {
  return ssLists("-Huan", port, `nothing is bound to UDP ${port}`, timeoutMs);
}

/** `a` writes `aLine` and `b` prints it; then `b` writes `bLine` and `a` prints it. */
export async function exchange([a, aLine]: [Proc, string], [b, bLine]: [Proc, string]) {
  await a.write(`${aLine}\n`);
  await b.stdout.waitFor(aLine);
  await b.write(`${bLine}\n`);
  await a.stdout.waitFor(bLine);
}

/** Stops `p` (a UDP session that has no end of its own) with SIGTERM: it must exit 0. */
export async function stopsCleanly(p: Proc): Promise<void> {
  p.kill("SIGTERM");
  assertEquals((await p.exit()).code, 0);
}

/**
 * Text both ways between two connected programs: `a` writes `aLine` and `b`
 * prints it, then `b` writes `bLine` and `a` prints it; then each in `closing`
 * order closes its input, and both must exit 0.
 */
export async function talkBothWays(
  [a, aLine]: [Proc, string],
  [b, bLine]: [Proc, string],
  closing: [Proc, Proc],
): Promise<void> {
  await exchange([a, aLine], [b, bLine]);
  for (const p of closing) await p.closeStdin();
  const [ea, eb] = await Promise.all([a.exit(), b.exit()]);
  assertEquals([ea.code, eb.code], [0, 0], `${a.stderr.text} ${b.stderr.text}`);
}
