/**
 * `socklab netstat`: the machine's TCP and UDP sockets (IPv4 and IPv6) and
 * with `-x` its Unix sockets, as the kernel lists them in /proc/net, with
 * net-tools netstat's columns and flags and ss's filters; `-s` the protocol
 * counters; `--json` one document for each.
 *
 * ```sh
 * socklab netstat -tuanp
 * socklab netstat -tuan 'sport = :5353 or dport = :22'
 * socklab netstat -xa
 * socklab netstat -s -t --json
 * ```
 * @module
 */
import type { CommandContext } from "../cli/command.ts";
import { UsageError } from "../cli/errors.ts";
import { parseFlags } from "../cli/flags.ts";
import { formatJson, writeErr, writeOut } from "../cli/output.ts";
import { servicePort } from "../lookup/services.ts";
import { type Filter, matches, parseFilter } from "./filter.ts";
import {
  type CollectOptions,
  collectSockets,
  formatTable,
  hiddenNote,
  lookupNames,
  netstatJson,
  type SocketEntry,
  titleLine,
} from "./netstat.ts";
import { counterLines, countersJson, selectGroups } from "./snmp.ts";
import { readCounters, readOwners, readUnixTable } from "./sockets.ts";
import { selectUnix, unixJson, unixLines, unixTitle } from "./unix_sockets.ts";

const USAGE = `usage: socklab netstat [-tuxlanp] [--json] [--proc DIR] [FILTER]
       socklab netstat -s [-t|-u] [--json] [--proc DIR]`;

const OPTIONS = {
  tcp: { type: "boolean", short: "t", help: "TCP sockets (default: TCP and UDP)" },
  udp: { type: "boolean", short: "u", help: "UDP sockets" },
  unix: {
    type: "boolean",
    short: "x",
    help: "Unix domain sockets (/proc/net/unix); with -t or -u, both tables",
  },
  listening: {
    type: "boolean",
    short: "l",
    help: "only listening sockets (TCP LISTEN, unconnected UDP, Unix ACC)",
  },
  all: {
    type: "boolean",
    short: "a",
    help: "listening and non-listening sockets (default: only non-listening, as netstat)",
  },
  numeric: { type: "boolean", short: "n", help: "numeric addresses and ports (no name look-ups)" },
  programs: {
    type: "boolean",
    short: "p",
    help: "the PID/program owning each socket (root sees every process)",
  },
  statistics: {
    type: "boolean",
    short: "s",
    help: "the protocol counters (/proc/net/snmp, netstat, snmp6) instead of sockets; " +
      "-t or -u keeps TCP's or UDP's",
  },
  json: {
    type: "boolean",
    help: 'one JSON document: {"sockets": [...], "unix": [...]}, -s: {"counters": {...}}',
  },
  proc: {
    type: "string",
    arg: "DIR",
    help: "read the kernel's tables from DIR instead of /proc (a host's /proc in a container)",
  },
} as const;

const ROWS = [[
  "FILTER",
  "ss's filter on TCP/UDP sockets, e.g. 'sport = :5353', 'dport >= :1024', " +
  "'src 127.0.0.1/8', 'dst [::1]:22', 'state established', joined with and, or, not, ( )",
]] as const;

const ABOUT = "Lists the machine's TCP and UDP sockets, IPv4 and IPv6, from /proc/net.";
const EXIT = "0 listed, 1 not supported here (no /proc/net) or a table unreadable, 2 usage.";

type Values = ReturnType<typeof parseArgs>["values"];

function parseArgs(args: string[]) {
  return parseFlags(args, {
    usage: USAGE,
    about: ABOUT,
    options: OPTIONS,
    rows: ROWS,
    exitStatus: EXIT,
  });
}

/** The filter from the arguments after the flags (ss takes it as one or many words). */
export function filterFromArgs(words: string[]): Filter | null {
  try {
    return parseFilter(words.join(" "), servicePort);
  } catch (err) {
    throw new UsageError((err as Error).message, USAGE);
  }
}

/** `-s`: the counters, TCP's or UDP's with `-t`/`-u`. */
function showCounters(values: Values, filterGiven: boolean): number {
  if (filterGiven || values.unix || values.listening || values.all || values.programs) {
    throw new UsageError("-s takes only -t, -u, --json and --proc", USAGE);
  }
  const groups = selectGroups(readCounters({ procRoot: values.proc }), {
    tcp: values.tcp ?? false,
    udp: values.udp ?? false,
  });
  if (values.json) writeOut(formatJson({ counters: countersJson(groups) }) + "\n");
  else writeOut(counterLines(groups).join("\n") + "\n");
  return 0;
}

/** The TCP/UDP part: rows, with names unless `-n`. */
async function internetPart(values: Values, filter: Filter | null) {
  const options: CollectOptions = {
    tcp: values.tcp ?? false,
    udp: values.udp ?? false,
    listening: values.listening ?? false,
    all: values.all ?? false,
    programs: values.programs ?? false,
    procRoot: values.proc,
  };
  const collected = collectSockets(options);
  const entries: SocketEntry[] = collected.entries.filter((e) => matches(filter, e));
  const names = values.numeric ? undefined : await lookupNames(entries);
  return { options, entries, names, hidden: collected.hidden };
}

/** The Unix part: selected rows and, with `-p`, their owners. */
function unixPart(values: Values) {
  const sel = { listening: values.listening ?? false, all: values.all ?? false };
  const rows = selectUnix(readUnixTable({ procRoot: values.proc }), sel);
  const owners = values.programs ? readOwners({ procRoot: values.proc }) : undefined;
  return { sel, rows, owners };
}

/** CLI entry point. */
export async function main(args: string[], _ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseArgs(args);
  if (values.statistics) return showCounters(values, positionals.length > 0);
  const filter = filterFromArgs(positionals);
  const wantInternet = !values.unix || values.tcp || values.udp;
  if (filter && !wantInternet) {
    throw new UsageError("A filter applies to TCP and UDP sockets", USAGE);
  }
  const inet = wantInternet ? await internetPart(values, filter) : undefined;
  const unix = values.unix ? unixPart(values) : undefined;
  const hidden = inet?.hidden ?? unix?.owners?.hidden;
  if (values.json) {
    const doc: Record<string, unknown> = inet
      ? netstatJson(inet.entries, { names: inet.names, hidden: inet.hidden })
      : {};
    if (unix) doc.unix = unix.rows.map((s) => unixJson(s, unix.owners?.byInode));
    if (!inet && hidden !== undefined) doc.uninspectedProcesses = hidden;
    writeOut(formatJson(doc) + "\n");
  } else {
    const lines: string[] = [];
    if (inet) {
      lines.push(titleLine(inet.options));
      lines.push(
        ...formatTable(inet.entries, { programs: inet.options.programs, names: inet.names }),
      );
    }
    if (unix) lines.push(unixTitle(unix.sel), ...unixLines(unix.rows, unix.owners?.byInode));
    writeOut(lines.join("\n") + "\n");
  }
  if (hidden) writeErr(hiddenNote(hidden) + "\n");
  return 0;
}
