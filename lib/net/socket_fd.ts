/**
 * The file descriptor behind one of Deno's sockets, for the Linux FFI paths
 * (batched UDP, ICMP errors, epoll TCP): Deno does not expose it, so it is
 * found through /proc, as the descriptor whose socket inode has the local
 * port in /proc/net/{udp,udp6} or /proc/net/{tcp,tcp6}.
 *
 * @example
 * ```ts ignore
 * import { findSocketFd } from "./socket_fd.ts";
 * const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
 * const fd = findSocketFd("udp", conn.addr.port); // a number on Linux, else undefined
 * ```
 * @module
 */

/** This process's socket descriptors by socket inode, from /proc/self/fd. */
function socketDescriptors(): Map<string, number> {
  const ours = new Map<string, number>();
  for (const entry of Deno.readDirSync("/proc/self/fd")) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(Deno.readLinkSync(`/proc/self/fd/${entry.name}`));
      if (m) ours.set(m[1], Number(entry.name));
    } catch {
      // closed meanwhile
    }
  }
  return ours;
}

/**
 * The descriptor of this process's `kind` socket bound to local `port` (for
 * TCP, the listening one; with `remotePort`, the connection to that port), or
 * undefined when there is none, more than one, or no /proc.
 */
export function findSocketFd(
  kind: "udp" | "tcp",
  port: number,
  remotePort?: number,
): number | undefined {
  try {
    const ours = socketDescriptors();
    const found: number[] = [];
    for (const table of [`/proc/net/${kind}`, `/proc/net/${kind}6`]) {
      let text = "";
      try {
        text = Deno.readTextFileSync(table);
      } catch {
        continue; // no IPv6
      }
      for (const line of text.split("\n").slice(1)) {
        const cols = line.trim().split(/\s+/);
        if (cols.length < 10) continue;
        if (
          remotePort === undefined
            ? kind === "tcp" && cols[3] !== "0A"
            : portOf(cols[2]) !== remotePort
        ) {
          continue; // 0A: LISTEN
        }
        const fd = ours.get(cols[9]);
        if (fd !== undefined && portOf(cols[1]) === port) found.push(fd);
      }
    }
    return found.length === 1 ? found[0] : undefined;
  } catch {
    return undefined;
  }
}

/** The port of a /proc/net address column (`0100007F:1F90`). */
function portOf(column: string): number {
  return parseInt(column.split(":")[1], 16);
}
