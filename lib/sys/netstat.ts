/**
 * netstat's TCP and UDP table: which sockets to show, their owners and
 * names, and net-tools netstat's layout (the command is netstat_command.ts).
 *
 * @example
 * ```ts ignore
 * import { collectSockets, formatTable } from "./netstat.ts";
 * const { entries } = collectSockets({ tcp: true, udp: false, listening: true, all: false, programs: false });
 * console.log(formatTable(entries).join("\n"));
 * ```
 * @module
 */
import { after } from "../cli/timer.ts";
import { systemResolver } from "../lookup/resolver.ts";
import type { Proto, SocketRow } from "./proc_net.ts";
import { type Owners, type ProcessRef, readOwners, readSocketTables } from "./sockets.ts";

/** Which sockets to show. */
export interface Selection {
  tcp: boolean;
  udp: boolean;
  listening: boolean;
  all: boolean;
}

/** A socket row with its owners (with `-p`). */
export interface SocketEntry extends SocketRow {
  processes?: ProcessRef[];
}

/** Turns addresses and ports into names (identity with `-n`). */
export interface Names {
  host(address: string): string;
  service(port: number, proto: Proto): string;
}

/** Names that are just the numbers. */
export const NUMERIC: Names = {
  host: (a) => a,
  service: (p) => String(p),
};

/** True for a listening socket: TCP in LISTEN, or UDP not connected to a peer. */
export function isListening(row: SocketRow): boolean {
  return row.proto === "tcp" ? row.state === "LISTEN" : row.state === null;
}

/**
 * The rows netstat shows for `sel`: TCP and/or UDP (both when neither is
 * asked for); with `all` every socket, with `listening` only listeners,
 * otherwise only non-listening ones.
 */
export function selectSockets<T extends SocketRow>(rows: readonly T[], sel: Selection): T[] {
  const both = !sel.tcp && !sel.udp;
  return rows.filter((r) => {
    if (!both && !(r.proto === "tcp" ? sel.tcp : sel.udp)) return false;
    if (sel.all) return true;
    return sel.listening ? isListening(r) : !isListening(r);
  });
}

/** Attaches each row's owning processes from `owners` (by socket inode). */
export function attachOwners(rows: readonly SocketRow[], owners: Owners): SocketEntry[] {
  return rows.map((r) => ({
    ...r,
    processes: r.inode === 0 ? [] : [...(owners.byInode.get(r.inode) ?? [])],
  }));
}

const WILDCARDS = new Set(["0.0.0.0", "::"]);

/** `ADDR:PORT` as netstat shows it: a port of 0 is `*`, IPv6 literals in brackets. */
export function endpointText(
  address: string,
  port: number,
  proto: Proto,
  names: Names = NUMERIC,
): string {
  const host = WILDCARDS.has(address) ? address : names.host(address);
  const shown = host.includes(":") ? `[${host}]` : host;
  return `${shown}:${port === 0 ? "*" : names.service(port, proto)}`;
}

/** The table's title line, as netstat words it. */
export function titleLine(sel: Selection): string {
  if (sel.all) return "Active Internet connections (servers and established)";
  if (sel.listening) return "Active Internet connections (only servers)";
  return "Active Internet connections (w/o servers)";
}

/** `PID/program` for each owner, comma separated; `-` when none is known. */
export function ownerText(processes: readonly ProcessRef[] | undefined): string {
  if (!processes || processes.length === 0) return "-";
  return processes.map((p) => `${p.pid}/${p.program}`).join(",");
}

/** The table's lines: a header, then one line per socket, columns aligned to their widths. */
export function formatTable(
  entries: readonly SocketEntry[],
  options: { programs?: boolean; names?: Names } = {},
): string[] {
  const names = options.names ?? NUMERIC;
  const header = ["Proto", "Recv-Q", "Send-Q", "Local Address", "Foreign Address", "State"];
  if (options.programs) header.push("PID/Program name");
  const rows = entries.map((e) => {
    const cells = [
      e.family === "inet6" ? `${e.proto}6` : e.proto,
      String(e.recvQ),
      String(e.sendQ),
      endpointText(e.local.address, e.local.port, e.proto, names),
      endpointText(e.remote.address, e.remote.port, e.proto, names),
      e.state ?? "",
    ];
    if (options.programs) cells.push(ownerText(e.processes));
    return cells;
  });
  const widths = header.map((h, k) => Math.max(h.length, ...rows.map((r) => r[k].length)));
  const rightAligned = new Set([1, 2]);
  const line = (cells: string[]) =>
    cells.map((c, k) => {
      if (k === cells.length - 1) return c;
      return rightAligned.has(k) ? c.padStart(widths[k]) : c.padEnd(widths[k]);
    }).join(" ").trimEnd();
  return [line(header), ...rows.map(line)];
}

/** The JSON document for `--json`. */
export function netstatJson(
  entries: readonly SocketEntry[],
  options: { names?: Names; hidden?: number } = {},
): Record<string, unknown> {
  const names = options.names;
  const endpoint = (address: string, port: number, proto: Proto) => {
    const out: Record<string, unknown> = { address, port };
    if (names) {
      if (!WILDCARDS.has(address)) out.host = names.host(address);
      if (port !== 0) out.service = names.service(port, proto);
    }
    return out;
  };
  const doc: Record<string, unknown> = {
    sockets: entries.map((e) => {
      const out: Record<string, unknown> = {
        proto: e.proto,
        family: e.family,
        local: endpoint(e.local.address, e.local.port, e.proto),
        remote: endpoint(e.remote.address, e.remote.port, e.proto),
        state: e.state,
        recvQ: e.recvQ,
        sendQ: e.sendQ,
        uid: e.uid,
        inode: e.inode,
      };
      if (e.processes) out.processes = e.processes;
      return out;
    }),
  };
  if (options.hidden !== undefined) doc.uninspectedProcesses = options.hidden;
  return doc;
}

/** The stderr note for processes `-p` could not look into. */
export function hiddenNote(hidden: number): string {
  return `socklab netstat: ${hidden} process${hidden === 1 ? "" : "es"} could not be ` +
    `inspected (permission denied), so sockets they hold show no PID; run as root to see every owner`;
}

/**
 * Looks up host and service names for every address and port in `entries`
 * through the system resolver (getnameinfo), within `budgetMs`; whatever is
 * not answered in time stays numeric.
 */
export async function lookupNames(
  entries: readonly SocketRow[],
  budgetMs = 3000,
): Promise<Names> {
  const resolver = systemResolver();
  const hosts = new Map<string, string>();
  const services = new Map<string, string>();
  const jobs: Promise<void>[] = [];
  for (const e of entries) {
    for (const ep of [e.local, e.remote]) {
      if (!WILDCARDS.has(ep.address) && !hosts.has(ep.address)) {
        hosts.set(ep.address, ep.address);
        const address = ep.address;
        jobs.push(
          resolver.getnameinfo(address, null, {}).then((r) => {
            if (r.host) hosts.set(address, r.host);
          }, () => {}),
        );
      }
      const key = `${ep.port}/${e.proto}`;
      if (ep.port !== 0 && !services.has(key)) {
        services.set(key, String(ep.port));
        const any = e.family === "inet6" ? "::" : "0.0.0.0";
        jobs.push(
          resolver.getnameinfo(any, ep.port, { numericHost: true, dgram: e.proto === "udp" })
            .then((r) => {
              if (r.service) services.set(key, r.service);
            }, () => {}),
        );
      }
    }
  }
  let cancel: (() => void) | undefined;
  await Promise.race([
    Promise.all(jobs),
    new Promise<void>((resolve) => cancel = after(budgetMs, resolve)),
  ]);
  cancel?.();
  return {
    host: (a) => hosts.get(a) ?? a,
    service: (p, proto) => services.get(`${p}/${proto}`) ?? String(p),
  };
}

/** Options of {@linkcode collectSockets}. */
export interface CollectOptions extends Selection {
  programs: boolean;
  procRoot?: string;
}

/** Reads, selects and (with `programs`) attributes the sockets; `hidden` counts uninspectable processes. */
export function collectSockets(
  options: CollectOptions,
): { entries: SocketEntry[]; hidden?: number } {
  const protos: Proto[] = !options.tcp && !options.udp
    ? ["tcp", "udp"]
    : [...(options.tcp ? ["tcp" as const] : []), ...(options.udp ? ["udp" as const] : [])];
  const rows = selectSockets(readSocketTables({ procRoot: options.procRoot, protos }), options);
  if (!options.programs) return { entries: rows };
  const owners = readOwners({ procRoot: options.procRoot });
  return { entries: attachOwners(rows, owners), hidden: owners.hidden };
}
