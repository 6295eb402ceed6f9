/**
 * dig's own syntax for `socklab dns`, turned into socklab's flags before
 * parsing, so what a dig user types works: `@SERVER`, `-p PORT`, `-t TYPE`,
 * `-x ADDR`, `+short`, `+tcp`/`+vc`, `+[no]rec[urse]`, `+time=S`,
 * `+tries=N`, `+retry=N`, a class `IN`, and TYPE before NAME. Pure: no I/O.
 *
 * @example
 * ```ts
 * import { digArgs } from "./dig_args.ts";
 * const got = digArgs(["@127.0.0.1", "-p", "5353", "MX", "example.test", "+short"]);
 * console.assert(got.args.join(" ") === "--server 127.0.0.1 --short example.test MX");
 * console.assert(got.port === "5353");
 * ```
 * @module
 */
import { parseType } from "./dns_wire.ts";

/** socklab-style arguments, and dig's `-p` port (applied to the server by the caller). */
export interface DigArgs {
  args: string[];
  port?: string;
}

/** dig's `+option` words → socklab flags (a function for those that carry a value). */
const PLUS: Record<string, string[] | ((value: string) => string[])> = {
  short: ["--short"],
  noshort: [],
  tcp: ["--tcp"],
  vc: ["--tcp"],
  notcp: [],
  novc: [],
  norecurse: ["--norecurse"],
  norec: ["--norecurse"],
  recurse: [],
  rec: [],
  time: (s) => ["--timeout", String(Math.round(Number(s) * 1000))],
  tries: (n) => ["--retries", String(Math.max(0, Number(n) - 1))],
  retry: (n) => ["--retries", n],
};

function plusOption(word: string): string[] {
  const [key, value] = word.slice(1).split("=", 2);
  const map = PLUS[key.toLowerCase()];
  if (map === undefined) throw new SyntaxError(`Unknown dig option "${word}"`);
  if (typeof map !== "function") return map;
  if (value === undefined || !/^[0-9]+$/.test(value)) {
    throw new SyntaxError(`dig option "${word}" needs a number (+${key}=N)`);
  }
  return map(value);
}

function isType(word: string): boolean {
  try {
    parseType(word);
    return true;
  } catch {
    return false;
  }
}

/** socklab's own flags that take the next argument as their value. */
const VALUE_FLAGS = new Set(["--server", "--timeout", "--retries"]);

/** A word that takes the next argument as its value: dig's `-p`, `-t`, `-x`. */
const DASH_VALUE = new Set(["-p", "-t", "-x"]);

/**
 * Rewrites dig's syntax in `args` into socklab's. Throws SyntaxError for a
 * dig word it does not know (`+foo`), a missing value, or a class other than IN.
 */
export function digArgs(args: string[]): DigArgs {
  const flags: string[] = [];
  const words: string[] = [];
  let port: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a.startsWith("@") && a.length > 1) flags.push("--server", a.slice(1));
    else if (a.startsWith("+") && a.length > 1) flags.push(...plusOption(a));
    else if (DASH_VALUE.has(a) || /^-[ptx]./.test(a)) {
      const value = a.length > 2 ? a.slice(2) : args[++i];
      if (value === undefined) throw new SyntaxError(`dig option "${a}" needs a value`);
      if (a.startsWith("-p")) port = value;
      else if (a.startsWith("-t")) words.push(value);
      else words.unshift(value); // -x ADDR: the name (an address means a PTR query)
    } else if (VALUE_FLAGS.has(a) && i + 1 < args.length) flags.push(a, args[++i]);
    else if (a.startsWith("-")) flags.push(a);
    else words.push(a);
  }
  return { args: [...flags, ...orderWords(words)], port };
}

/**
 * NAME then TYPE, as socklab takes them. dig also takes TYPE first, and a
 * class between them (only IN can be queried here).
 */
function orderWords(words: string[]): string[] {
  let rest = words;
  const cls = rest.length === 3 ? rest.findIndex((w, i) => i > 0 && /^(IN|CH|HS)$/i.test(w)) : -1;
  if (cls > 0) {
    if (rest[cls].toUpperCase() !== "IN") {
      throw new SyntaxError(`Cannot query class "${rest[cls]}": only IN is supported`);
    }
    rest = rest.filter((_, i) => i !== cls);
  }
  if (rest.length === 2 && isType(rest[0]) && !isType(rest[1])) return [rest[1], rest[0]];
  return rest;
}
