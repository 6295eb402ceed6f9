/**
 * `socklab rates-server`: exercise 2's currency-rates service. Answers `USD`
 * with `1 USD = 0.653624 GBP, ...`, `100 USD EUR` with `100 USD = 75.1033 EUR`,
 * from the built-in 2010 table or a `--rates` file (CSV matrix or ECB XML).
 *
 * ```sh
 * socklab rates-server --port 1502 --rates eurofxref-daily.xml
 * ```
 * @module
 */
import type { CommandContext } from "../cli/command.ts";
import { FailError } from "../cli/errors.ts";
import { parseServerFlags } from "../cli/flags.ts";
import type { ServiceMonitor } from "../net/monitor.ts";
import { bindUdp, reason } from "../net/udp.ts";
import type { UdpHandler } from "../net/udp_serve.ts";
import { runUdpService } from "../net/udp_service.ts";
import { decodeTextRequest, LastExchange, TextCache } from "../net/udp_text.ts";
import {
  BUILT_IN_TABLE,
  DEFAULT_PORT,
  MAX_REQUEST,
  parseRatesText,
  ratesReply,
  ratesRequestOf,
  type RateTable,
} from "./protocol.ts";
import { parseRateTable } from "./table_file.ts";

const USAGE = "usage: socklab rates-server [--port N] [--bind ADDR] [--rates FILE]";
const HELP = `Answers a currency code (USD) with its rate against every other currency, and
AMOUNT CODE [TARGET] (100 USD EUR) with the converted amount.

  --port N      port (default ${DEFAULT_PORT}; 0 = any free port)
  --bind ADDR   address to bind (default 0.0.0.0; "::" for IPv6)
  --rates FILE  a CSV matrix (",USD,GBP" header; a cell is how many ROW units one
                COLUMN unit buys) or the ECB's eurofxref XML (EUR base, cross
                rates derived); default: the built-in table of April 30, 2010

Exit status: 0 after SIGINT or SIGTERM, 1 cannot bind or read FILE, 2 usage.`;

/**
 * The rates service as a datagram handler. A reply depends only on the
 * request and the table, so replies are kept encoded, by text (the last 1,024
 * distinct requests) and by the bytes of the last request: a class asking
 * `USD` over and over is answered without decoding, parsing or formatting.
 */
export function ratesHandler(table: RateTable): UdpHandler {
  const cache = new TextCache<Uint8Array | null>();
  const last = new LastExchange<Uint8Array | null>();
  const encode = (reply: string | null) => reply === null ? null : encoder.encode(reply);
  const compute = (text: string) => encode(ratesReply(table, parseRatesText(text, table)));
  return (data) => {
    const known = last.reply(data);
    if (known !== undefined) return known;
    const req = decodeTextRequest(data, MAX_REQUEST);
    const reply = req.kind === "text"
      ? cache.get(req.text, compute)
      : encode(ratesReply(table, ratesRequestOf(req, table)));
    last.remember(data, reply);
    return reply;
  };
}

const encoder = new TextEncoder();

/** Reads and parses a rates file; any problem is one FailError naming the file and line. */
export async function loadRateTable(path: string): Promise<RateTable> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    throw new FailError(`cannot read rates file "${path}": ${reason(err)}`);
  }
  try {
    return parseRateTable(text, `"${path}"`);
  } catch (err) {
    throw new FailError(`rates file "${path}" ${(err as Error).message}`);
  }
}

/** Options of {@linkcode runRatesServer}. */
export interface RatesServerOptions {
  signal: AbortSignal;
  /** The table served (default the built-in one). */
  table?: RateTable;
  /** Where the start-up lines and errors go (default console.log). */
  log?: (line: string) => void;
  /** Told about every request answered (the lab console). */
  monitor?: ServiceMonitor;
}

/** Serves rates on an already bound socket until the signal aborts. */
export async function runRatesServer(
  conn: Deno.DatagramConn,
  options: RatesServerOptions,
): Promise<void> {
  const { signal, monitor, log, table = BUILT_IN_TABLE } = options;
  const notes = [`${table.codes.length} currencies from ${table.source}`];
  await runUdpService("rates-server", conn, ratesHandler(table), { signal, monitor, log, notes });
}

/** CLI entry point. */
export async function main(args: string[], ctx: CommandContext): Promise<number> {
  const { values, address } = parseServerFlags(args, {
    usage: USAGE,
    help: HELP,
    defaultPort: DEFAULT_PORT,
    options: { rates: { type: "string" } },
  });
  const table = values.rates === undefined ? BUILT_IN_TABLE : await loadRateTable(values.rates);
  const conn = bindUdp(address);
  await runRatesServer(conn, { signal: ctx.signal, table });
  return 0;
}
