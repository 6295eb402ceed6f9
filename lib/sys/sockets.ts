/**
 * Reads the kernel's socket tables and their owning processes from `/proc`:
 * the I/O half of netstat (the parsing is in proc_net.ts). A system without
 * `/proc/net` gets one clear "not supported" error.
 *
 * @example
 * ```ts ignore
 * import { readOwners, readSocketTables } from "./sockets.ts";
 * const rows = readSocketTables();
 * const owners = readOwners();
 * console.log(rows.length, owners.byInode.size, owners.hidden);
 * ```
 * @module
 */
import { FailError } from "../cli/errors.ts";
import {
  parseProcNet,
  PROC_NET_TABLES,
  type Proto,
  socketInode,
  type SocketRow,
} from "./proc_net.ts";
import { type CounterGroup, parsePairedCounters, parseSnmp6 } from "./snmp.ts";
import { parseUnix, type UnixSocket } from "./unix_sockets.ts";

/** Where `/proc` is (tests point it elsewhere). */
export const DEFAULT_PROC = "/proc";

/** A process that holds a socket open. */
export interface ProcessRef {
  pid: number;
  /** The process's command name (`/proc/PID/comm`), as ss and netstat show it. */
  program: string;
}

/** Sockets' owners by inode, and how many processes could not be looked into. */
export interface Owners {
  byInode: Map<number, ProcessRef[]>;
  /** Processes whose file descriptors this user may not read (permission denied). */
  hidden: number;
  /** Some of the pids that were hidden (at most 20), for the message. */
  hiddenPids: number[];
}

/** The message for a system without `/proc/net`. */
export const NOT_SUPPORTED =
  "not supported on this system: netstat reads the kernel's socket tables from /proc/net (Linux)";

/**
 * Reads and parses the tables of the protocols asked for (both by default).
 * Throws FailError {@linkcode NOT_SUPPORTED} when `/proc/net` has none of them.
 */
export function readSocketTables(
  options: { procRoot?: string; protos?: readonly Proto[] } = {},
): SocketRow[] {
  const root = options.procRoot ?? DEFAULT_PROC;
  const protos = options.protos ?? ["tcp", "udp"];
  const rows: SocketRow[] = [];
  let found = 0;
  for (const table of PROC_NET_TABLES) {
    if (!protos.includes(table.proto)) continue;
    let text: string;
    try {
      text = Deno.readTextFileSync(`${root}/net/${table.file}`);
    } catch (err) {
      // tcp6/udp6 are missing when IPv6 is disabled: that is not an error.
      if (err instanceof Deno.errors.NotFound) continue;
      throw new FailError(`cannot read ${root}/net/${table.file}: ${(err as Error).message}`);
    }
    found++;
    rows.push(...parseProcNet(text, table));
  }
  if (found === 0) throw new FailError(NOT_SUPPORTED);
  return rows;
}

/**
 * Maps socket inodes to the processes holding them, by reading the links in
 * every `/proc/PID/fd`. Processes this user may not inspect are counted in
 * `hidden` (their sockets then show no owner).
 */
export function readOwners(options: { procRoot?: string } = {}): Owners {
  const root = options.procRoot ?? DEFAULT_PROC;
  const byInode = new Map<number, ProcessRef[]>();
  const owners: Owners = { byInode, hidden: 0, hiddenPids: [] };
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(root)];
  } catch {
    return owners;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry.name)) continue;
    const pid = Number(entry.name);
    let fds: Deno.DirEntry[];
    try {
      fds = [...Deno.readDirSync(`${root}/${pid}/fd`)];
    } catch (err) {
      if (err instanceof Deno.errors.PermissionDenied) {
        owners.hidden++;
        if (owners.hiddenPids.length < 20) owners.hiddenPids.push(pid);
      }
      continue; // NotFound: the process has exited meanwhile
    }
    let program: string | undefined;
    for (const fd of fds) {
      let link: string;
      try {
        link = Deno.readLinkSync(`${root}/${pid}/fd/${fd.name}`);
      } catch {
        continue; // closed meanwhile
      }
      const inode = socketInode(link);
      if (inode === null) continue;
      program ??= readComm(root, pid);
      const list = byInode.get(inode);
      const ref = { pid, program };
      if (!list) byInode.set(inode, [ref]);
      else if (!list.some((p) => p.pid === pid)) list.push(ref);
    }
  }
  return owners;
}

function readComm(root: string, pid: number): string {
  try {
    return Deno.readTextFileSync(`${root}/${pid}/comm`).trimEnd();
  } catch {
    return "?";
  }
}

/** Reads `/proc/net/unix`; FailError {@linkcode NOT_SUPPORTED} without it. */
export function readUnixTable(options: { procRoot?: string } = {}): UnixSocket[] {
  const root = options.procRoot ?? DEFAULT_PROC;
  try {
    return parseUnix(Deno.readTextFileSync(`${root}/net/unix`));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new FailError(NOT_SUPPORTED.replace("socket tables", "Unix socket table"));
    }
    throw new FailError(`cannot read ${root}/net/unix: ${(err as Error).message}`);
  }
}

/**
 * Reads the protocol counters of `/proc/net/snmp`, `/proc/net/netstat` and
 * `/proc/net/snmp6`, in that order (a missing file adds nothing; snmp6 is
 * missing when IPv6 is off). FailError when there is none of them.
 */
export function readCounters(options: { procRoot?: string } = {}): CounterGroup[] {
  const root = options.procRoot ?? DEFAULT_PROC;
  const groups: CounterGroup[] = [];
  let found = 0;
  for (
    const [file, parse] of [
      ["snmp", parsePairedCounters],
      ["netstat", parsePairedCounters],
      ["snmp6", parseSnmp6],
    ] as const
  ) {
    let text: string;
    try {
      text = Deno.readTextFileSync(`${root}/net/${file}`);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) continue;
      throw new FailError(`cannot read ${root}/net/${file}: ${(err as Error).message}`);
    }
    found++;
    groups.push(...parse(text));
  }
  if (found === 0) {
    throw new FailError(
      "not supported on this system: netstat -s reads the kernel's counters from /proc/net/snmp (Linux)",
    );
  }
  return groups;
}
