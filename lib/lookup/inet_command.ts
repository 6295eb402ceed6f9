/**
 * `socklab inet aton|ntoa|addr|pton|ntop ARG...`: the lecture's address
 * conversion functions, with the C library's exact acceptance rules (see
 * inet.ts). Several arguments in one call; `--json` prints one array with one
 * object per argument, in order.
 *
 * ```sh
 * socklab inet aton 127.1 0x7f.0.0.1      # canonical quad, decimal, hex
 * socklab inet addr 255.255.255.255       # the INADDR_NONE warning
 * socklab inet pton ::ffff:10.0.0.1 && socklab inet ntop 20010db8000000000000000000000001
 * ```
 * @module
 */
import type { CommandContext } from "../cli/command.ts";
import { HelpRequest, UsageError } from "../cli/errors.ts";
import { parseFlags } from "../cli/flags.ts";
import { formatJson, writeErr } from "../cli/output.ts";
import {
  hex32,
  hostEndian,
  inetAddr,
  inetAton,
  ntoa,
  ntop,
  parseAddressHex,
  parseU32,
  pton,
  toHex,
} from "./inet.ts";

const USAGE = "usage: socklab inet aton|ntoa|addr|pton|ntop [--json] ARG...";

/** `text` as it can be shown on one line: JSON-quoted when it holds control characters. */
function shown(text: string): string {
  const control = [...text].some((c) => c < " " || c === "\x7f");
  return control ? JSON.stringify(text) : text;
}

/** `text` in double quotes, control characters escaped. */
function quoted(text: string): string {
  return JSON.stringify(text);
}

/** One converted argument: the text columns, or why it failed, and the JSON object. */
interface Row {
  input: string;
  /** Output columns when valid. */
  columns?: string[];
  /** Why the argument is invalid. */
  error?: string;
  /** Extra status line for stderr (a warning or a note), printed even when valid. */
  note?: string;
  json: Record<string, unknown>;
}

interface Subcommand {
  usage: string;
  help: string;
  convert: (input: string) => Row;
}

/** The row of an argument that is not valid: `reason` on stderr and in the JSON. */
function rejected(input: string, reason: string): Row {
  return { input, error: reason, json: { input, valid: false, reason } };
}

/** `parse(input)`, or why it failed (without the "Cannot parse "...": " prefix). */
function parseArg<T>(input: string, parse: (text: string) => T): { value: T } | { reason: string } {
  try {
    return { value: parse(input) };
  } catch (err) {
    return { reason: (err as Error).message.replace(/^Cannot parse "[^"]*": /, "") };
  }
}

/** The subcommands: usage, help, and a pure conversion per argument. */
const SUBCOMMANDS: Record<string, Subcommand> = {
  aton: {
    usage: "usage: socklab inet aton [--json] ADDR...",
    help: `IPv4 text to a 32-bit value, accepting exactly what the C library's inet_aton
accepts: 1 to 4 parts, each decimal, octal (leading 0) or hex (0x); the last
part fills the remaining bytes (a.b.c: c is 16 bits; a.b: b is 24 bits; a: 32
bits). inet_aton stops at the first white space and ignores the rest.
Prints the canonical dotted quad, the value in decimal and in hex.`,
    convert(input) {
      const r = inetAton(input);
      if (!r.valid) return rejected(input, r.reason);
      const row: Row = {
        input,
        columns: [r.address, String(r.value), hex32(r.value)],
        json: {
          input,
          valid: true,
          address: r.address,
          value: r.value,
          hex: hex32(r.value),
          parts: r.parts,
        },
      };
      if (r.ignored !== undefined) {
        row.json.ignored = r.ignored;
        row.note = `note: inet_aton stops at the white space in ${quoted(input)} and ignores ${
          quoted(r.ignored)
        }`;
      }
      return row;
    },
  },
  ntoa: {
    usage: "usage: socklab inet ntoa [--json] N...",
    help: `A 32-bit value (decimal, or hex with 0x) to the dotted quad, as inet_ntoa
prints the address whose value it is. N runs from 0 to 4294967295.`,
    convert(input) {
      const parsed = parseArg(input, parseU32);
      if ("reason" in parsed) return rejected(input, parsed.reason);
      const value = parsed.value;
      const address = ntoa(value);
      return {
        input,
        columns: [address],
        json: { input, valid: true, address, value, hex: hex32(value) },
      };
    },
  },
  addr: {
    usage: "usage: socklab inet addr [--json] ADDR...",
    help: `What the C library's inet_addr returns for ADDR: the address in network byte
order as an in_addr_t, shown as a program on this host sees it, and the bytes
in network order. inet_addr returns INADDR_NONE (0xffffffff) for invalid text
AND for the valid broadcast address 255.255.255.255: it cannot tell them apart,
which is why the lecture prefers inet_aton.`,
    convert(input) {
      const endian = hostEndian();
      const r = inetAddr(input, endian);
      const bytes = r.networkBytes.match(/../g)!.join(" ");
      const json = {
        input,
        valid: r.valid,
        inAddrT: r.inAddrT,
        hex: hex32(r.inAddrT),
        networkBytes: r.networkBytes,
        hostByteOrder: endian,
        inaddrNone: r.none,
        ...(r.reason ? { reason: r.reason } : {}),
      };
      const columns = [
        `inet_addr(${quoted(input)}) = ${r.inAddrT} (${hex32(r.inAddrT)})` +
        (r.none ? " = INADDR_NONE" : `, bytes ${bytes} in network order`),
      ];
      if (!r.valid) {
        return { input, columns, error: `${r.reason}; inet_addr returns INADDR_NONE`, json };
      }
      const note = r.none
        ? `warning: ${
          quoted(input)
        } is valid, but inet_addr returns INADDR_NONE for it, the same value as for an error; use inet_aton or inet_pton`
        : undefined;
      return { input, columns, note, json };
    },
  },
  pton: {
    usage: "usage: socklab inet pton [--json] ADDR...",
    help: `Strict IPv4 (d.d.d.d, no leading zeros) or IPv6 text to its bytes in hex, as
the C library's inet_pton accepts it; a ":" means IPv6.`,
    convert(input) {
      const r = pton(input);
      if (!r) {
        return rejected(
          input,
          input.includes(":")
            ? "inet_pton(AF_INET6) rejects it"
            : "inet_pton(AF_INET) rejects it (strict d.d.d.d)",
        );
      }
      const hex = toHex(r.bytes);
      const family = r.family === 4 ? "inet" : "inet6";
      return {
        input,
        columns: [hex],
        json: { input, valid: true, family, hex, address: ntop(r.bytes) },
      };
    },
  },
  ntop: {
    usage: "usage: socklab inet ntop [--json] HEX...",
    help: `Address bytes in hex (8 digits: IPv4; 32 digits: IPv6; "0x" and ":" "-"
separators allowed) to text, IPv6 in RFC 5952 form (lower case, longest zero
run as "::", IPv4-mapped addresses as ::ffff:a.b.c.d); HEX has 8 or 32 digits.`,
    convert(input) {
      const parsed = parseArg(input, parseAddressHex);
      if ("reason" in parsed) return rejected(input, parsed.reason);
      const bytes = parsed.value;
      const address = ntop(bytes);
      const family = bytes.length === 4 ? "inet" : "inet6";
      return { input, columns: [address], json: { input, valid: true, family, address } };
    },
  },
};

/** `--json`, the one option of every subcommand. */
const OPTIONS = {
  json: {
    type: "boolean",
    help: "one JSON array, one object per argument in order (input, valid, and the " +
      "converted values or a reason)",
  },
} as const;

const EXIT = "0 every argument valid, 1 some argument invalid (each named on stderr), 2 usage.";

const HELP = {
  usage: USAGE,
  about: `Address conversions as the C library does them (\`socklab inet SUBCOMMAND --help\`
describes each):

  inet aton ADDR...  IPv4 text (inet_aton's lenient forms) to value
  inet ntoa N...     32-bit value to dotted quad
  inet addr ADDR...  inet_addr's result, with its INADDR_NONE caveat
  inet pton ADDR...  strict IPv4/IPv6 text to bytes (hex)
  inet ntop HEX...   bytes (hex) to text, IPv6 in RFC 5952 form`,
  options: OPTIONS,
  exitStatus: EXIT,
};

/** Runs one subcommand over `inputs`: the text lines for stdout and the stderr lines. */
export function convertAll(
  sub: string,
  inputs: readonly string[],
): { rows: Row[]; out: string[]; err: string[] } {
  const spec = SUBCOMMANDS[sub];
  const rows = inputs.map((input) => spec.convert(input));
  const out: string[] = [];
  const err: string[] = [];
  const single = rows.length === 1;
  const width = Math.max(...rows.map((r) => shown(r.input).length));
  for (const row of rows) {
    if (row.note) err.push(row.note);
    if (row.error !== undefined) {
      const what = sub === "ntoa" ? "value" : sub === "ntop" ? "hex" : "address";
      err.push(`invalid ${what} ${quoted(row.input)}: ${row.error}`);
      if (single) {
        if (row.columns) out.push(row.columns.join("  "));
        continue;
      }
    }
    const columns = row.columns && row.error === undefined ? row.columns : [`invalid`];
    out.push(single ? columns.join("  ") : [shown(row.input).padEnd(width), ...columns].join("  "));
  }
  return { rows, out, err };
}

/** CLI entry point. */
export function main(args: string[], _ctx: CommandContext): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === "--help" || sub === "-h") throw new HelpRequest(HELP);
  if (sub === undefined) throw new UsageError("Missing subcommand", USAGE);
  const spec = SUBCOMMANDS[sub];
  if (!spec) throw new UsageError(`Unknown subcommand "${sub}"`, USAGE);
  const { values, positionals } = parseFlags(rest, {
    usage: spec.usage,
    about: spec.help,
    options: OPTIONS,
    exitStatus: EXIT,
    minPositionals: 1,
  });
  const { rows, out, err } = convertAll(sub, positionals);
  if (values.json) {
    console.log(formatJson(rows.map((r) => r.json)));
  } else if (out.length) {
    console.log(out.join("\n"));
  }
  for (const line of err) writeErr(`socklab inet ${sub}: ${line}\n`);
  return Promise.resolve(rows.some((r) => r.error !== undefined) ? 1 : 0);
}
