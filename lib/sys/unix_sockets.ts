/**
 * Unix domain sockets for `netstat -x`: a pure parser of the kernel's table
 * `/proc/net/unix` and net-tools netstat's layout of it.
 *
 * ```text
 * row   = num ":" SP refcount SP protocol SP flags SP type SP st SP inode [SP path]
 * flags = 8HEXDIG        ; 0x10000 __SO_ACCEPTCON (listening), 0x20000 WAITDATA, 0x40000 NOSPACE
 * type  = 4HEXDIG        ; 1 STREAM, 2 DGRAM, 5 SEQPACKET
 * st    = 2HEXDIG        ; 1 UNCONNECTED, 2 CONNECTING, 3 CONNECTED, 4 DISCONNECTING
 * path  = "/" ... / "@" abstract name                 ; absent for unnamed sockets
 * ```
 *
 * @example
 * ```ts
 * import { parseUnix, unixState } from "./unix_sockets.ts";
 * const [s] = parseUnix("Num RefCount Protocol Flags Type St Inode Path\n" +
 *   "0000000000000000: 00000002 00000000 00010000 0001 01 4242 /run/x.sock\n");
 * console.assert(s.path === "/run/x.sock" && unixState(s) === "LISTENING");
 * ```
 * @module
 */
import type { ProcessRef } from "./sockets.ts";

/** One row of `/proc/net/unix`. */
export interface UnixSocket {
  refCount: number;
  flags: number;
  /** 1 STREAM, 2 DGRAM, 5 SEQPACKET (the kernel's SOCK_ numbers). */
  type: number;
  /** 1 UNCONNECTED, 2 CONNECTING, 3 CONNECTED, 4 DISCONNECTING. */
  st: number;
  inode: number;
  /** The bound path (`@name` for the abstract namespace), "" when unnamed. */
  path: string;
}

const ACCEPTCON = 0x10000;
const WAITDATA = 0x20000;
const NOSPACE = 0x40000;

const TYPES: Record<number, string> = {
  1: "STREAM",
  2: "DGRAM",
  3: "RAW",
  4: "RDM",
  5: "SEQPACKET",
};

/** Parses the table (header line first); rows of another shape are skipped. */
export function parseUnix(text: string): UnixSocket[] {
  const rows: UnixSocket[] = [];
  for (const line of text.split("\n").slice(1)) {
    const m =
      /^\s*[0-9A-Fa-f]+:\s+([0-9A-Fa-f]+)\s+[0-9A-Fa-f]+\s+([0-9A-Fa-f]+)\s+([0-9A-Fa-f]+)\s+([0-9A-Fa-f]+)\s+([0-9]+)(?: (.*))?$/
        .exec(line);
    if (!m) continue;
    rows.push({
      refCount: parseInt(m[1], 16),
      flags: parseInt(m[2], 16),
      type: parseInt(m[3], 16),
      st: parseInt(m[4], 16),
      inode: Number(m[5]),
      path: m[6] ?? "",
    });
  }
  return rows;
}

/** True for a listening socket (SO_ACCEPTCON set). */
export function isUnixListening(s: UnixSocket): boolean {
  return (s.flags & ACCEPTCON) !== 0;
}

/** The State column as net-tools words it ("" for an unconnected socket that does not listen). */
export function unixState(s: UnixSocket): string {
  switch (s.st) {
    case 0:
      return "FREE";
    case 1:
      return isUnixListening(s) ? "LISTENING" : "";
    case 2:
      return "CONNECTING";
    case 3:
      return "CONNECTED";
    case 4:
      return "DISCONNECTING";
    default:
      return "UNKNOWN";
  }
}

/** The socket type's name (STREAM, DGRAM, SEQPACKET). */
export function unixType(s: UnixSocket): string {
  return TYPES[s.type] ?? "UNKNOWN";
}

/** The Flags column: `[ ACC ]`, `[ W ]`, `[ ]`. */
export function unixFlags(s: UnixSocket): string {
  let text = "";
  if (s.flags & ACCEPTCON) text += "ACC ";
  if (s.flags & WAITDATA) text += "W ";
  if (s.flags & NOSPACE) text += "N ";
  return `[ ${text}]`;
}

/** The rows `-l` (listening only), `-a` (all) or neither (non-listening) select. */
export function selectUnix(
  rows: readonly UnixSocket[],
  sel: { listening: boolean; all: boolean },
): UnixSocket[] {
  if (sel.all) return [...rows];
  return rows.filter((s) => sel.listening === (s.st === 1 && isUnixListening(s)));
}

/** The title line, as netstat words it. */
export function unixTitle(sel: { listening: boolean; all: boolean }): string {
  const which = sel.all
    ? "servers and established"
    : sel.listening
    ? "only servers"
    : "w/o servers";
  return `Active UNIX domain sockets (${which})`;
}

/**
 * The table as net-tools netstat prints it:
 * `printf("%-5s %-6ld %-11s %-10s %-13s %-8lu %-20s %s", ...)` per row, the
 * PID/Program column only with `owners`.
 */
export function unixLines(
  rows: readonly UnixSocket[],
  owners?: Map<number, ProcessRef[]>,
): string[] {
  const header = "Proto RefCnt Flags       Type       State         I-Node   " +
    (owners ? "PID/Program name     Path" : "Path");
  return [
    header,
    ...rows.map((s) => {
      let line = `${"unix".padEnd(5)} ${String(s.refCount).padEnd(6)} ${unixFlags(s).padEnd(11)} ` +
        `${unixType(s).padEnd(10)} ${unixState(s).padEnd(13)} ${String(s.inode).padEnd(8)} `;
      if (owners) {
        const refs = owners.get(s.inode) ?? [];
        const who = refs.length ? `${refs[0].pid}/${refs[0].program}` : "-";
        line += `${who.padEnd(20)} `;
      }
      return line + s.path;
    }),
  ];
}

/** One socket for `--json`. */
export function unixJson(
  s: UnixSocket,
  owners?: Map<number, ProcessRef[]>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {
    type: unixType(s).toLowerCase(),
    state: unixState(s) || "UNCONNECTED",
    listening: isUnixListening(s),
    path: s.path || null,
    inode: s.inode,
    refCount: s.refCount,
    flags: s.flags,
  };
  if (owners) out.processes = owners.get(s.inode) ?? [];
  return out;
}
