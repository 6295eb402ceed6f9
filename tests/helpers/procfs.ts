/**
 * What the kernel says about a process, read from /proc: its resident memory
 * (VmRSS), whether it still runs, and the sockets it holds. Linux only; every
 * function returns `undefined` (or an empty list) where /proc cannot tell.
 *
 * @example
 * ```ts ignore
 * import { rssBytes, socketInodes } from "./procfs.ts";
 * const rss = rssBytes(Deno.pid); // e.g. 48_234_496
 * const sockets = socketInodes(Deno.pid).length;
 * ```
 * @module
 */

/** VmRSS of `pid` in bytes, or `undefined` when the process is gone or /proc is missing. */
export function rssBytes(pid: number): number | undefined {
  let status: string;
  try {
    status = Deno.readTextFileSync(`/proc/${pid}/status`);
  } catch {
    return undefined;
  }
  const m = status.match(/^VmRSS:\s+(\d+)\s+kB$/m);
  return m ? Number(m[1]) * 1024 : undefined;
}

/** True while `pid` exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // "pid (comm) S ...": the state follows the last ')'.
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/** The inodes of the sockets `pid` holds open (from the /proc/PID/fd links). */
export function socketInodes(pid: number): number[] {
  const inodes: number[] = [];
  let entries: Iterable<Deno.DirEntry>;
  try {
    entries = Deno.readDirSync(`/proc/${pid}/fd`);
  } catch {
    return inodes;
  }
  for (const e of entries) {
    try {
      const m = Deno.readLinkSync(`/proc/${pid}/fd/${e.name}`).match(/^socket:\[(\d+)\]$/);
      if (m) inodes.push(Number(m[1]));
    } catch {
      // closed while we looked
    }
  }
  return inodes;
}

/** One row of /proc/net/{udp,udp6,tcp,tcp6}: the fields the tests use. */
export interface ProcSocket {
  proto: "tcp" | "tcp6" | "udp" | "udp6";
  localPort: number;
  /** Kernel state number (TCP: 0x0A = LISTEN, 0x06 = TIME_WAIT; UDP: 0x07). */
  state: number;
  inode: number;
  /** Datagrams the kernel dropped on this socket (UDP only; receive buffer full). */
  drops?: number;
}

/** Every socket in this network namespace's /proc/net tables (`pid` picks the namespace). */
export function netSockets(pid: number | "self" = "self"): ProcSocket[] {
  const out: ProcSocket[] = [];
  for (const proto of ["tcp", "tcp6", "udp", "udp6"] as const) {
    let text: string;
    try {
      text = Deno.readTextFileSync(`/proc/${pid}/net/${proto}`);
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      out.push({
        proto,
        localPort: parseInt(f[1].split(":")[1], 16),
        state: parseInt(f[3], 16),
        inode: Number(f[9]),
        drops: proto.startsWith("udp") && f[12] !== undefined ? Number(f[12]) : undefined,
      });
    }
  }
  return out;
}

/**
 * Sockets still open on `port` in the namespace of `pid` (default ours). Rows
 * with inode 0 (TIME_WAIT and other orphaned TCP states) belong to no process
 * any more and are left out.
 */
export function socketsOnPort(
  port: number,
  transport: "tcp" | "udp",
  pid: number | "self" = "self",
): ProcSocket[] {
  return netSockets(pid).filter((s) =>
    s.proto.startsWith(transport) && s.localPort === port && s.inode !== 0
  );
}
