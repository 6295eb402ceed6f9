/**
 * `socklab nc`: netcat. Connects to a host (or listens for one peer), then
 * copies stdin to the socket and the socket to stdout, TCP or UDP, IPv4 or
 * IPv6, binary-safe, with half-close at end of stdin. `-z` checks ports.
 *
 * ```sh
 * socklab nc -lv -p 9000 > out.bin
 * socklab nc 127.0.0.1 9000 < in.bin
 * echo hi | socklab nc localhost 7
 * ```
 * @module
 */
import type { CommandContext } from "../cli/command.ts";
import { FailError } from "../cli/errors.ts";
import { formatJson, writeErr, writeOut } from "../cli/output.ts";
import { after } from "../cli/timer.ts";
import { formatAddr, formatHostPort, isIPv4Literal, isIPv6Literal } from "../net/address.ts";
import { listenLine } from "../net/server.ts";
import { closeQuietly } from "../net/tcp.ts";
import { bindUdp, MAX_DATAGRAM, reason } from "../net/udp.ts";
import { type NcOptions, parseNcArgs } from "./options.ts";
import { runTcpSession, runUdpSession, type SessionOptions } from "./session.ts";
import { type Input, NO_INPUT, type Output, stdinInput, stdoutOutput } from "./stdio.ts";

/** Where nc's data comes from and goes to (stdin/stdout for the CLI). */
export interface NcIo {
  input: Input;
  output: Output;
  /** Status lines (stderr); called only with -v. */
  status: (line: string) => void;
}

/**
 * The addresses to try for `host`: a literal as it is, a name through the
 * system resolver (all answers, in its order). Throws FailError for an
 * unknown name, a name under `-n`, or a literal of the wrong family.
 */
export async function resolveAll(
  host: string,
  family: 0 | 4 | 6,
  numeric: boolean,
): Promise<string[]> {
  const v4 = isIPv4Literal(host);
  const v6 = isIPv6Literal(host);
  if (v4 || v6) {
    if ((family === 4 && v6) || (family === 6 && v4)) {
      throw new FailError(`'${host}' is not an IPv${family} address`);
    }
    return [host];
  }
  if (numeric) throw new FailError(`'${host}' is not a numeric address (-n: no name look-ups)`);
  try {
    // Loaded only for names: node:dns costs start-up time a literal does not need.
    const { lookup } = await import("node:dns/promises");
    const results = await lookup(host, { all: true, family });
    if (results.length > 0) return [...new Set(results.map((r) => r.address))];
  } catch {
    // fall through
  }
  throw new FailError(`unknown host '${host}'`);
}

/** Races `promise` against `ms` milliseconds; null on time-out. */
function within<T>(promise: Promise<T>, ms: number | null): Promise<T | null> {
  if (ms === null) return promise;
  let cancel: (() => void) | undefined;
  return Promise.race([
    promise.finally(() => cancel?.()),
    new Promise<null>((resolve) => cancel = after(ms, () => resolve(null))),
  ]);
}

/** One connection attempt: the connection, or why there is none. */
async function tryConnect(
  hostname: string,
  port: number,
  timeoutMs: number | null,
): Promise<Deno.TcpConn | string> {
  const attempt = Deno.connect({ transport: "tcp", hostname, port });
  try {
    const conn = await within(attempt, timeoutMs);
    if (conn) return conn;
    attempt.then(closeQuietly, () => {});
    return `timed out after ${timeoutMs! / 1000} s`;
  } catch (err) {
    return reason(err);
  }
}

/** Connects to the first of `addresses` that answers; FailError with the last reason. */
async function connectAny(
  addresses: string[],
  port: number,
  label: string,
  timeoutMs: number | null,
): Promise<Deno.TcpConn> {
  let why = "no address";
  for (const hostname of addresses) {
    const result = await tryConnect(hostname, port, timeoutMs);
    if (typeof result !== "string") return result;
    why = result;
  }
  throw new FailError(`cannot connect to ${label}: ${why}`);
}

/** `listening on TCP ADDR:PORT`: the server start-up line without its `socklab nc:` prefix. */
function listeningOn(addr: Deno.NetAddr): string {
  return listenLine("nc", addr).replace(/^socklab nc: /, "");
}

function sessionOptions(o: NcOptions, io: NcIo, signal: AbortSignal): SessionOptions {
  return {
    input: o.noStdin ? NO_INPUT : io.input,
    output: io.output,
    shutdownOnEof: o.shutdownOnEof,
    waitForInput: !o.noStdin && !io.input.interactive,
    idleMs: o.idleMs,
    signal,
    status: io.status,
  };
}

function summary(io: NcIo, r: { sent: number; received: number }): void {
  io.status(`sent ${r.sent} bytes, received ${r.received} bytes`);
}

/** `nc HOST PORT`: TCP or UDP client. */
export async function runConnect(o: NcOptions, io: NcIo, signal: AbortSignal): Promise<number> {
  const port = o.ports[0];
  const addresses = await resolveAll(o.host, o.family, o.numeric);
  const label = formatHostPort(o.host, port);
  if (o.udp) {
    const target = addresses[0];
    const sock = bindUdp({ hostname: target.includes(":") ? "::" : "0.0.0.0", port: 0 });
    const peer: Deno.NetAddr = { transport: "udp", hostname: target, port };
    io.status(
      `sending UDP datagrams to ${formatAddr(peer)} from port ${(sock.addr as Deno.NetAddr).port}`,
    );
    const r = await runUdpSession(sock, peer, sessionOptions(o, io, signal));
    summary(io, r);
    return 0;
  }
  const conn = await connectAny(addresses, port, label, o.idleMs);
  io.status(`connected to ${formatAddr(conn.remoteAddr)} (TCP)`);
  const r = await runTcpSession(conn, sessionOptions(o, io, signal));
  summary(io, r);
  return 0;
}

/** `nc -l`: waits for one TCP connection (or one UDP peer), `-k` for one after another. */
export async function runListen(o: NcOptions, io: NcIo, signal: AbortSignal): Promise<number> {
  const addr = { hostname: o.host, port: o.ports[0] };
  if (o.udp) {
    const sock = bindUdp(addr);
    io.status(listeningOn(sock.addr as Deno.NetAddr));
    const r = await runUdpSession(sock, null, sessionOptions(o, io, signal));
    summary(io, r);
    return 0;
  }
  let listener: Deno.TcpListener;
  try {
    listener = Deno.listen({ transport: "tcp", ...addr });
  } catch (err) {
    throw new FailError(
      `cannot listen on TCP ${formatHostPort(addr.hostname, addr.port)}: ${reason(err)}`,
    );
  }
  io.status(listeningOn(listener.addr as Deno.NetAddr));
  const stopListening = () => closeQuietly(listener);
  signal.addEventListener("abort", stopListening, { once: true });
  try {
    do {
      let conn: Deno.TcpConn;
      try {
        conn = await listener.accept();
      } catch (err) {
        if (signal.aborted) return 0;
        throw new FailError(`cannot accept: ${reason(err)}`);
      }
      if (!o.keepListening) stopListening();
      io.status(`connection from ${formatAddr(conn.remoteAddr)}`);
      const r = await runTcpSession(conn, sessionOptions(o, io, signal));
      summary(io, r);
    } while (o.keepListening && !signal.aborted);
  } finally {
    signal.removeEventListener("abort", stopListening);
    stopListening();
  }
  return 0;
}

/** One port's result for `-z`. */
export interface ScanResult {
  port: number;
  open: boolean;
  /** Why it is closed (connection refused, timed out after 1 s, ...). */
  reason?: string;
}

/** `nc -z HOST PORT...`: which ports accept a TCP connection; 0 when at least one does. */
export async function runScan(o: NcOptions, io: NcIo, signal: AbortSignal): Promise<number> {
  const [address] = await resolveAll(o.host, o.family, o.numeric);
  const results: ScanResult[] = [];
  for (const port of o.ports) {
    if (signal.aborted) break;
    const label = formatHostPort(address, port);
    const result = await tryConnect(address, port, o.idleMs);
    if (typeof result === "string") {
      io.status(`${label} (TCP) closed: ${result}`);
      results.push({ port, open: false, reason: result });
    } else {
      closeQuietly(result);
      io.status(`${label} (TCP) open`);
      results.push({ port, open: true });
    }
  }
  if (o.json) {
    writeOut(formatJson({ host: o.host, address, protocol: "tcp", ports: results }) + "\n");
  }
  return results.some((r) => r.open) ? 0 : 1;
}

/** Runs a parsed command line against `io`. */
export function runNc(o: NcOptions, io: NcIo, signal: AbortSignal): Promise<number> {
  if (o.mode === "listen") return runListen(o, io, signal);
  if (o.mode === "scan") return runScan(o, io, signal);
  return runConnect(o, io, signal);
}

/** CLI entry point. */
export function main(args: string[], ctx: CommandContext): Promise<number> {
  const o = parseNcArgs(args);
  const io: NcIo = {
    input: o.noStdin ? NO_INPUT : stdinInput(o.udp ? MAX_DATAGRAM : undefined),
    output: stdoutOutput(),
    status: o.verbose ? (line) => writeErr(`socklab nc: ${line}\n`) : () => {},
  };
  // With -d nothing but the socket-to-stdout direction ever moves.
  if (o.noStdin && o.idleMs === null) io.output.mayBlock?.();
  return runNc(o, io, ctx.signal);
}
